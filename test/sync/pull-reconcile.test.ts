// What the remote deleted or no longer lets us read reaches the workstation: deletions are applied
// (without an outbox row) unless a local change is pending, which becomes a conflict; revoked access
// purges local copies, holds pending changes and reports them.
import { createReplica } from '../../electron/host/access/index.ts';
import type { Observation, Patient } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listConflicts } from '../../electron/host/sync/conflicts/conflicts.ts';
import { REVOKED_REASON } from '../../electron/host/sync/pull/pull-reconcile.ts';
import { pullProject } from '../../electron/host/sync/pull/pull.ts';
import { startPagingFhirServer, type PagingFhirServer } from '../helpers/fhir-paging.ts';
import { clinicalData, countLive, openLocal, outboxRow, PROJECT, remoteOf, type Local } from './pull-helpers.ts';

let server: PagingFhirServer;
let local: Local;

beforeEach(async () => {
  server = await startPagingFhirServer();
  local = openLocal();
  server.seed(clinicalData(4, 5));
});
afterEach(async () => {
  local.store.close();
  await server.close();
});

function pull(extra: Partial<Parameters<typeof pullProject>[0]> = {}) {
  return pullProject({ db: local.store.db, store: createReplica(local.store), outbox: local.outbox, remote: remoteOf(server), project: PROJECT, types: ['Patient', 'Observation'], pageSize: 50, ...extra });
}

function rowsOf(type: string, id: string): { resource: number; history: number; index: number } {
  const db = local.store.db;
  const rid = db.prepare<[string, string], number>('SELECT rid FROM resource WHERE type = ? AND id = ?').pluck().get(type, id);
  return {
    resource: rid === undefined ? 0 : 1,
    history: rid === undefined ? 0 : (db.prepare<[number], number>('SELECT count(*) FROM resource_history WHERE rid = ?').pluck().get(rid) ?? 0),
    index: rid === undefined ? 0 : (db.prepare<[number], number>('SELECT count(*) FROM idx_token WHERE rid = ?').pluck().get(rid) ?? 0),
  };
}

describe('pull reconciles remote deletions and revoked access', () => {
  it('a resource deleted remotely is deleted locally, without an outbox row', async () => {
    await pull();
    server.deleteRemote('Observation', 'r-obs-1-2');
    const summary = await pull();
    expect(summary).toMatchObject({ deleted: 1, purged: 0, conflicts: 0, errors: [] });
    expect(() => local.store.read('Observation', 'r-obs-1-2')).toThrow(/deleted|gone|not found/i);
    expect(outboxRow(local.store, 'Observation', 'r-obs-1-2')).toBeUndefined();
    expect(local.store.db.prepare("SELECT count(*) FROM sync_id_map WHERE local_id = 'r-obs-1-2'").pluck().get()).toBe(0);
    expect(countLive(local.store, 'Observation')).toBe(19);
    // A search no longer finds it.
    const bundle = local.store.search('Observation', 'subject=Patient/r-pat-1');
    expect(bundle.entry?.map((e) => e.resource?.id).sort()).toEqual(['r-obs-1-0', 'r-obs-1-1', 'r-obs-1-3', 'r-obs-1-4']);
    // Nothing more happens on the next pull.
    expect(await pull()).toMatchObject({ deleted: 0, conflicts: 0 });
  });

  it('deleted remotely under a pending local edit: a deleted-remotely conflict, the local edit kept', async () => {
    await pull();
    const mine = local.store.read<Patient>('Patient', 'r-pat-2');
    local.store.update<Patient>({ ...mine, birthDate: '1980-02-02' });
    server.deleteRemote('Patient', 'r-pat-2');
    const summary = await pull();
    expect(summary).toMatchObject({ deleted: 0, conflicts: 1 });
    expect(local.store.read<Patient>('Patient', 'r-pat-2').birthDate).toBe('1980-02-02');
    expect(outboxRow(local.store, 'Patient', 'r-pat-2')?.state).toBe('conflict');
    const [conflict] = listConflicts(local.store.db, PROJECT);
    expect(conflict).toMatchObject({ resourceId: 'r-pat-2', reason: 'deleted-remotely', remote: null });
    expect((conflict.local as Patient).birthDate).toBe('1980-02-02');
    // Recorded once.
    await pull();
    expect(listConflicts(local.store.db, PROJECT).map((c) => c.id)).toEqual([conflict.id]);
  });

  it('access to a type revoked (403): local copies purged, pending changes held and reported', async () => {
    await pull();
    const edited = local.store.read<Observation>('Observation', 'r-obs-0-0');
    local.store.update<Observation>({ ...edited, status: 'amended' });
    local.store.create<Observation>({ resourceType: 'Observation', id: undefined, status: 'final', code: { text: 'new here' }, subject: { reference: 'Patient/r-pat-0' } });
    const created = local.store.db.prepare("SELECT id FROM sync_outbox WHERE type = 'Observation' AND op = 'create'").pluck().get() as string;
    expect(rowsOf('Observation', 'r-obs-3-1')).toMatchObject({ resource: 1, history: 1 });
    server.revoke(['Observation']);
    const summary = await pull();
    expect(summary.purged).toBe(19);
    expect(summary.types.Observation.revoked).toBe(true);
    expect(summary.held).toBe(2);
    expect(summary.heldChanges.map((h) => h.id).sort()).toEqual([created, 'r-obs-0-0'].sort());
    expect(summary.heldChanges[0].reason).toBe(REVOKED_REASON);
    // Purged: no row, no history, no index rows are left of them.
    expect(rowsOf('Observation', 'r-obs-3-1')).toEqual({ resource: 0, history: 0, index: 0 });
    expect(countLive(local.store, 'Observation')).toBe(2);
    // The pending changes stay, held with the reason.
    expect(local.store.read<Observation>('Observation', 'r-obs-0-0').status).toBe('amended');
    expect(outboxRow(local.store, 'Observation', 'r-obs-0-0')).toMatchObject({ state: 'held', last_error: REVOKED_REASON });
    expect(outboxRow(local.store, 'Observation', created)).toMatchObject({ op: 'create', state: 'held' });
    // Patients were not touched.
    expect(countLive(local.store, 'Patient')).toBe(4);

    // Access granted again: the purged copies come back (older than the watermark: by the listing's
    // gap repair) and the held changes go back to push.
    server.unrevoke(['Observation']);
    const restored = await pull({ overlapMs: 0 });
    expect(restored).toMatchObject({ released: 2, errors: [] });
    expect(countLive(local.store, 'Observation')).toBe(21);
    expect(outboxRow(local.store, 'Observation', 'r-obs-0-0')).toMatchObject({ op: 'update', state: 'pending', last_error: null });
    expect(outboxRow(local.store, 'Observation', created)).toMatchObject({ op: 'create', state: 'pending' });
    expect(local.store.read<Observation>('Observation', 'r-obs-0-0').status).toBe('amended');
  });

  it('access narrowed (the remote no longer returns some resources, reads answer 403): those are purged', async () => {
    await pull();
    server.hide((r) => r.resourceType === 'Patient' && r.id === 'r-pat-3');
    const summary = await pull();
    expect(summary).toMatchObject({ purged: 1, deleted: 0 });
    expect(rowsOf('Patient', 'r-pat-3')).toEqual({ resource: 0, history: 0, index: 0 });
    expect(countLive(local.store, 'Patient')).toBe(3);
  });

  it('an id listing that fails part-way removes nothing', async () => {
    await pull();
    server.deleteRemote('Observation', 'r-obs-0-1');
    server.dropSearch({ match: (u) => u.startsWith('Observation?_elements=id') });
    const summary = await pull();
    expect(summary.deleted).toBe(0);
    expect(summary.errors.join()).toContain('id listing failed');
    expect(countLive(local.store, 'Observation')).toBe(20);
  });

  it('nothing disappeared (the remote count equals the local copies): no id listing is read', async () => {
    await pull();
    server.syncSearches.length = 0;
    expect(await pull()).toMatchObject({ deleted: 0, purged: 0, errors: [] });
    expect(server.syncSearches.filter((u) => u.includes('_elements=id'))).toEqual([]);
    expect(server.syncSearches.filter((u) => u.includes('_summary=count'))).toHaveLength(2);
  });

  it('gaps are repaired: resources listed remotely but missing here (access granted again) are fetched', async () => {
    server.hide((r) => r.resourceType === 'Observation' && (r.id ?? '').startsWith('r-obs-2-'));
    await pull();
    expect(countLive(local.store, 'Observation')).toBe(15);
    // Access restored: those resources are older than the watermark, an incremental pull alone would never see them.
    server.unhideAll();
    const summary = await pull({ overlapMs: 0 });
    expect(summary).toMatchObject({ pulled: 5, deleted: 0, errors: [] });
    expect(summary.types.Observation.pulled).toBe(5);
    expect(countLive(local.store, 'Observation')).toBe(20);
    expect(server.syncSearches.some((u) => u.startsWith('Observation?_id='))).toBe(true);
    expect(local.store.read<Observation>('Observation', 'r-obs-2-4').subject?.reference).toBe('Patient/r-pat-2');
  });
});
