// The pull's page writer on a real SQLite file: a page is applied without a savepoint per write, and
// when the store refuses one resource the page is rolled back and applied again resource by resource.
// What a person would notice is the same either way: the refused resource is reported, every other
// one lands once, with its references mapped to local ids and its search index rows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Observation, Patient, Resource } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getWatermark } from '../../electron/host/sync/pull/pull-state.ts';
import { countLive, openLocal, PROJECT, pageWriterOf, type Local } from './pull-helpers.ts';

let dir: string;
let local: Local;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'outpost-pull-page-'));
  local = openLocal(path.join(dir, 'outpost.db'));
});
afterEach(() => {
  local.store.close();
  rmSync(dir, { recursive: true, force: true });
});

function observation(id: string, patient: string, status = 'final'): Observation {
  return {
    resourceType: 'Observation',
    id,
    meta: { versionId: 'rv1', lastUpdated: '2026-12-01T00:00:00Z' },
    status: status as Observation['status'],
    code: { text: 'Heart rate' },
    subject: { reference: `Patient/${patient}` },
  };
}

/** A Patient the workstation made and pushed: the remote knows it by another id. */
function mappedPatient(localId: string, remoteId: string): void {
  local.store.create<Patient>({ resourceType: 'Patient', id: localId, name: [{ family: 'Local' }] } as Patient, undefined, { project: PROJECT });
  local.store.db.prepare('INSERT INTO sync_id_map (type, local_id, remote_id, remote_version, base_version) VALUES (?, ?, ?, ?, ?)').run('Patient', localId, remoteId, 'rv1', 1);
  local.store.db.prepare('DELETE FROM sync_outbox').run();
}

function searchIds(query: string): string[] {
  return (local.store.search('Observation', query, { project: PROJECT }).entry ?? []).map((e) => e.resource?.id as string).sort();
}

describe('the pull page writer', () => {
  it('applies a page: references mapped to local ids, indexed, not recorded as local changes', () => {
    mappedPatient('local-pat', 'remote-pat');
    const page: Resource[] = [observation('o1', 'remote-pat'), observation('o2', 'remote-pat'), observation('o3', 'other-pat')];
    const result = pageWriterOf(local).writePage('Observation', page, { watermark: '2026-12-01T00:00:00Z', resume: null });
    expect(result).toEqual({ written: 3, deduped: 0, conflicts: 0, failed: [] });
    expect(local.store.read<Observation>('Observation', 'o2').subject?.reference).toBe('Patient/local-pat');
    expect(local.store.read<Observation>('Observation', 'o3').subject?.reference).toBe('Patient/other-pat');
    expect(searchIds('subject=Patient/local-pat')).toEqual(['o1', 'o2']);
    expect(local.store.db.prepare('SELECT count(*) FROM sync_outbox').pluck().get()).toBe(0);
    expect(getWatermark(local.store.db, PROJECT, 'Observation')).toMatchObject({ pulled: 3 });
  });

  it('a resource the store refuses is reported; the rest of the page lands once, mapped and indexed', () => {
    mappedPatient('local-pat', 'remote-pat');
    // o2's status is not in R4's required value set: the store's structural check refuses it, after
    // o1's reference was already rewritten and o1 written in the page's first attempt.
    const page: Resource[] = [observation('o1', 'remote-pat'), observation('o2', 'remote-pat', 'bogus'), observation('o3', 'remote-pat')];
    const result = pageWriterOf(local).writePage('Observation', page, { watermark: '2026-12-01T00:00:00Z', resume: null });
    expect(result.written).toBe(2);
    expect(result.deduped).toBe(0);
    expect(result.failed).toEqual([{ type: 'Observation', id: 'o2', message: expect.stringMatching(/status|bogus/i) }]);
    expect(countLive(local.store, 'Observation')).toBe(2);
    expect(local.store.db.prepare("SELECT version FROM resource WHERE type = 'Observation' ORDER BY id").pluck().all()).toEqual([1, 1]);
    for (const id of ['o1', 'o3']) {
      expect(local.store.read<Observation>('Observation', id).subject?.reference).toBe('Patient/local-pat');
    }
    expect(searchIds('subject=Patient/local-pat')).toEqual(['o1', 'o3']);
    expect(searchIds('status=bogus')).toEqual([]);
    expect(local.store.db.prepare("SELECT local_id FROM sync_id_map WHERE type = 'Observation' ORDER BY local_id").pluck().all()).toEqual(['o1', 'o3']);
    expect(getWatermark(local.store.db, PROJECT, 'Observation')).toMatchObject({ pulled: 2 });

    // The same page again (an overlap window): the two written are held already, the refused one is tried again.
    const again = pageWriterOf(local).writePage('Observation', [observation('o1', 'remote-pat'), observation('o2', 'remote-pat', 'bogus'), observation('o3', 'remote-pat')]);
    expect(again).toMatchObject({ written: 0, deduped: 2, failed: [{ id: 'o2' }] });
  });
});
