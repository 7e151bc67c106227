// Pull scenarios against the real router behind HTTP (with the paging search of fhir-paging.ts):
// pages followed and committed with their watermark, dedupe on overlap, ids and references mapped,
// a remote change over a pending local edit becomes a conflict, a failed page moves nothing.
import { createReplica } from '../../electron/host/access/index.ts';
import type { Observation, Patient } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listConflicts } from '../../electron/host/sync/conflicts/conflicts.ts';
import { getWatermark } from '../../electron/host/sync/pull/pull-state.ts';
import { pullProject } from '../../electron/host/sync/pull/pull.ts';
import { createRemote } from '../../electron/host/sync/remote/remote.ts';
import { startPagingFhirServer, type PagingFhirServer } from '../helpers/fhir-paging.ts';
import { clinicalData, countLive, openLocal, outboxRow, PROJECT, remoteOf, type Local } from './pull-helpers.ts';

let server: PagingFhirServer;
let local: Local;

beforeEach(async () => {
  server = await startPagingFhirServer();
  local = openLocal();
});
afterEach(async () => {
  local.store.close();
  await server.close();
});

function pull(extra: Partial<Parameters<typeof pullProject>[0]> = {}) {
  return pullProject({ db: local.store.db, store: createReplica(local.store), outbox: local.outbox, remote: remoteOf(server), project: PROJECT, types: ['Patient', 'Observation'], pageSize: 100, ...extra });
}

function versionsOf(type: string): number[] {
  return local.store.db.prepare<[string], number>('SELECT version FROM resource WHERE type = ? ORDER BY id').pluck().all(type);
}

describe('pull', () => {
  it('follows next links page by page; every remote resource lands once, not as a local change', async () => {
    server.seed(clinicalData(30, 10)); // 30 Patients, 300 Observations
    const summary = await pull();
    expect(summary).toMatchObject({ pulled: 330, deleted: 0, purged: 0, conflicts: 0, failed: 0, errors: [] });
    expect(countLive(local.store, 'Patient')).toBe(30);
    expect(countLive(local.store, 'Observation')).toBe(300);
    // 100 per page: 1 Patient page, 3 Observation pages (then a count each: nothing to reconcile).
    const pages = server.syncSearches.filter((u) => !u.includes('_elements=id') && !u.includes('_summary=count'));
    expect(pages.filter((u) => u.startsWith('Observation?'))).toHaveLength(3);
    expect(pages.filter((u) => u.includes('_cursor='))).toHaveLength(2);
    expect(local.store.read<Observation>('Observation', 'r-obs-7-3').subject?.reference).toBe('Patient/r-pat-7');
    const outbox = local.store.db.prepare('SELECT count(*) FROM sync_outbox').pluck().get();
    expect(outbox).toBe(0);
    // The remote versionId is kept for push's If-Match; the resource maps to itself.
    const remotePat = await server.repo.readResource<Patient>('Patient', 'r-pat-3');
    expect(local.store.db.prepare("SELECT remote_id, remote_version FROM sync_id_map WHERE type = 'Patient' AND local_id = 'r-pat-3'").get()).toEqual({
      remote_id: 'r-pat-3',
      remote_version: remotePat.meta?.versionId,
    });
    expect(getWatermark(local.store.db, PROJECT, 'Observation')).toMatchObject({ resume_url: null, pulled: 300 });
  });

  it('dedupes the overlap window: a second pull re-reads recent pages but writes nothing', async () => {
    server.seed(clinicalData(5, 20));
    await pull();
    const before = versionsOf('Observation');
    const again = await pull({ overlapMs: 3_600_000 });
    expect(again.pulled).toBe(0);
    expect(again.deduped).toBe(105); // everything is within the hour re-read
    expect(versionsOf('Observation')).toEqual(before);
    expect(before.every((v) => v === 1)).toBe(true);
  });

  it('a later pull asks only for changes since the watermark (minus the overlap) and brings them in', async () => {
    server.seed(clinicalData(3, 3), { start: new Date(Date.now() - 3_600_000) });
    await pull();
    const mark = getWatermark(local.store.db, PROJECT, 'Patient')?.watermark as string;
    const remote = await server.repo.readResource<Patient>('Patient', 'r-pat-1');
    await server.repo.updateResource<Patient>({ ...remote, birthDate: '1990-01-01' });
    server.syncSearches.length = 0;
    const summary = await pull({ overlapMs: 1000 });
    expect(summary.pulled).toBe(1);
    expect(local.store.read<Patient>('Patient', 'r-pat-1').birthDate).toBe('1990-01-01');
    const first = server.syncSearches.find((u) => u.startsWith('Patient?') && !u.includes('_elements'));
    expect(decodeURIComponent(first ?? '')).toContain(`_lastUpdated=ge${new Date(Date.parse(mark) - 1000).toISOString()}`);
    expect(Date.parse(getWatermark(local.store.db, PROJECT, 'Patient')?.watermark ?? '')).toBeGreaterThan(Date.parse(mark));
  });

  it('maps remote ids to local ids and rewrites incoming references remote -> local', async () => {
    // A Patient created here and pushed earlier: local id 'pat-local', remote id 'srv-1'.
    local.store.update<Patient>({ resourceType: 'Patient', id: 'pat-local', name: [{ family: 'Local' }] });
    local.store.db.prepare("DELETE FROM sync_outbox WHERE id = 'pat-local'").run();
    server.seed([{ resourceType: 'Patient', id: 'srv-1', name: [{ family: 'Local' }], birthDate: '1970-05-05' } as Patient]);
    local.store.db.prepare("INSERT INTO sync_id_map (type, local_id, remote_id, remote_version) VALUES ('Patient', 'pat-local', 'srv-1', 'old')").run();
    server.seed([{ resourceType: 'Observation', id: 'srv-obs', status: 'final', code: { text: 'pulse' }, subject: { reference: 'Patient/srv-1' }, performer: [{ reference: 'Practitioner/unknown-1' }] } as Observation]);
    const summary = await pull();
    expect(summary.pulled).toBe(2);
    // The remote's version of the Patient updated the local one, under its local id.
    expect(local.store.read<Patient>('Patient', 'pat-local').birthDate).toBe('1970-05-05');
    expect(() => local.store.read('Patient', 'srv-1')).toThrow();
    const obs = local.store.read<Observation>('Observation', 'srv-obs');
    expect(obs.subject?.reference).toBe('Patient/pat-local');
    // Unknown remote ids map to themselves.
    expect(obs.performer?.[0].reference).toBe('Practitioner/unknown-1');
    expect(outboxRow(local.store, 'Patient', 'pat-local')).toBeUndefined();
  });

  it('a pulled change over a pending local edit becomes a conflict, never an overwrite', async () => {
    server.seed(clinicalData(2, 0));
    await pull();
    const mine = local.store.read<Patient>('Patient', 'r-pat-0');
    local.store.update<Patient>({ ...mine, birthDate: '2001-01-01' });
    expect(outboxRow(local.store, 'Patient', 'r-pat-0')).toMatchObject({ op: 'update', state: 'pending' });
    const theirs = await server.repo.readResource<Patient>('Patient', 'r-pat-0');
    const updated = await server.repo.updateResource<Patient>({ ...theirs, birthDate: '1999-09-09' });
    const summary = await pull();
    expect(summary).toMatchObject({ pulled: 0, conflicts: 1 });
    expect(local.store.read<Patient>('Patient', 'r-pat-0').birthDate).toBe('2001-01-01');
    expect(outboxRow(local.store, 'Patient', 'r-pat-0')?.state).toBe('conflict');
    const [conflict] = listConflicts(local.store.db, PROJECT);
    expect(conflict).toMatchObject({ resourceType: 'Patient', resourceId: 'r-pat-0', reason: 'pulled-over-pending', remoteVersion: updated.meta?.versionId });
    expect((conflict.local as Patient).birthDate).toBe('2001-01-01');
    expect((conflict.remote as Patient).birthDate).toBe('1999-09-09');
    expect((conflict.base as Patient | null)?.birthDate).toBeUndefined();
    expect(conflict.base?.id).toBe('r-pat-0');
    // Push's If-Match still names the version the local edit was based on.
    expect(local.store.db.prepare("SELECT remote_version FROM sync_id_map WHERE local_id = 'r-pat-0'").pluck().get()).toBe(theirs.meta?.versionId);
    // Pulling the same remote version again records nothing new.
    const again = await pull({ overlapMs: 3_600_000 });
    expect(again.conflicts).toBe(0);
    expect(listConflicts(local.store.db, PROJECT).map((c) => c.id)).toEqual([conflict.id]);
  });

  it('a page that fails mid-way moves no watermark; the next pull resumes after the last committed page', async () => {
    server.seed([...clinicalData(1, 250)].filter((r) => r.resourceType === 'Observation'));
    server.dropSearch({ match: (u) => u.startsWith('Observation?') && u.includes('_cursor='), times: 1 });
    const first = await pull({ types: ['Observation'] });
    expect(first.pulled).toBe(100);
    expect(first.errors).toHaveLength(1);
    expect(countLive(local.store, 'Observation')).toBe(100);
    const state = getWatermark(local.store.db, PROJECT, 'Observation');
    const hundredth = await server.repo.readResource<Observation>('Observation', 'r-obs-0-99');
    expect(state?.watermark).toBe(hundredth.meta?.lastUpdated);
    expect(state?.resume_url).toContain('_cursor=');
    // Nothing was reconciled after a failed type.
    expect(server.syncSearches.some((u) => u.includes('_elements=id'))).toBe(false);
    server.syncSearches.length = 0;
    const second = await pull({ types: ['Observation'] });
    expect(second).toMatchObject({ pulled: 150, deduped: 0, errors: [] });
    expect(server.syncSearches[0]).toContain('_cursor=');
    expect(countLive(local.store, 'Observation')).toBe(250);
    expect(versionsOf('Observation').every((v) => v === 1)).toBe(true);
    expect(getWatermark(local.store.db, PROJECT, 'Observation')?.resume_url).toBeNull();
  });

  it('a remote User arrives without password hash or MFA secret', async () => {
    server.seed([{ resourceType: 'User', id: 'u1', firstName: 'Ann', lastName: 'Lee', email: 'ann@example.org', passwordHash: '$2a$10$secret', mfaSecret: 'ABC' } as never]);
    await pull({ types: ['User'] });
    const row = local.store.db.prepare("SELECT content FROM resource WHERE type = 'User' AND id = 'u1'").pluck().get() as string;
    expect(JSON.parse(row)).toMatchObject({ email: 'ann@example.org' });
    expect(row).not.toContain('passwordHash');
    expect(row).not.toContain('secret');
    expect(row).not.toContain('mfaSecret');
  });

  it('stopped (abort) after a page: that page is kept, the rest follows on the next pull', async () => {
    server.seed([...clinicalData(1, 300)].filter((r) => r.resourceType === 'Observation'));
    const abort = new AbortController();
    const first = await pull({ types: ['Observation'], signal: abort.signal, onProgress: (p) => p.done >= 100 && abort.abort() });
    expect(first).toMatchObject({ aborted: true, pulled: 100 });
    expect(countLive(local.store, 'Observation')).toBe(100);
    const second = await pull({ types: ['Observation'] });
    expect(second).toMatchObject({ aborted: false, pulled: 200, deduped: 0 });
    expect(countLive(local.store, 'Observation')).toBe(300);
  });

  it('a refused token stops the pull (unauthorized) and changes nothing', async () => {
    server.seed(clinicalData(2, 2));
    const summary = await pullProject({
      db: local.store.db,
      store: createReplica(local.store),
      outbox: local.outbox,
      remote: createRemote({ baseUrl: server.baseUrl, token: 'wrong', maxTries: 1 }),
      project: PROJECT,
      types: ['Patient', 'Observation'],
    });
    expect(summary).toMatchObject({ unauthorized: true, pulled: 0 });
    expect(countLive(local.store, 'Patient')).toBe(0);
    expect(getWatermark(local.store.db, PROJECT, 'Patient')?.watermark ?? null).toBeNull();
  });
});
