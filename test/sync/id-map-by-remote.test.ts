// The id map read by remote id (sync_id_map_by_remote, migration 36), on real SQLite files. Pulled
// resources map to themselves and are kept out of the remote-id index; what a workstation would notice
// if that went wrong: a re-pull writing everything again, a reference to a pushed resource not brought
// back to its local id, or two local resources answering for one remote id. Also the upgrade of a
// workstation's file from before the migration, and the plans (no scan of the id map per lookup).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Observation, Patient } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStore } from '../../electron/host/store/index.ts';
import { createIdMap } from '../../electron/host/sync/id-map.ts';
import { syncMigrations } from '../../electron/host/sync/index.ts';
import { openLocal, PROJECT, pageWriterOf, type Local } from './pull-helpers.ts';

let dir: string;
let local: Local;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'outpost-id-map-'));
  local = openLocal(path.join(dir, 'outpost.db'));
});
afterEach(() => {
  local.store.close();
  rmSync(dir, { recursive: true, force: true });
});

const MAP = 'INSERT OR REPLACE INTO sync_id_map (type, local_id, remote_id, remote_version) VALUES (?, ?, ?, ?)';

function rows(db = local.store.db): { local_id: string; remote_id: string }[] {
  return db.prepare("SELECT local_id, remote_id FROM sync_id_map WHERE type = 'Patient' ORDER BY local_id").all() as never;
}

const remotePatient = (id: string, version = 'rv1'): Patient => ({ resourceType: 'Patient', id, meta: { versionId: version, lastUpdated: '2026-12-01T00:00:00Z' }, name: [{ family: id }] });

describe('the id map read by remote id', () => {
  it('finds pulled resources (mapped to themselves) and pushed ones (mapped to the server id); a remote id it does not know finds nothing', () => {
    const db = local.store.db;
    db.prepare(MAP).run('Patient', 'pulled-1', 'pulled-1', '3');
    db.prepare(MAP).run('Patient', 'local-7', 'server-7', '1');
    const ids = createIdMap(db);
    expect(ids.localIdOf('Patient', 'pulled-1')).toBe('pulled-1');
    expect(ids.localIdOf('Patient', 'server-7')).toBe('local-7');
    // local-7 is this workstation's id: the remote never named it.
    expect(ids.localIdOf('Patient', 'local-7')).toBeUndefined();
    expect(ids.localIdOf('Observation', 'pulled-1')).toBeUndefined();
    expect(ids.remoteIdOf('Patient', 'pulled-1')).toBe('pulled-1');
    expect(ids.remoteIdOf('Patient', 'local-7')).toBe('server-7');
  });

  it('a pull again of the same versions writes nothing, and references to a pushed resource come back as its local id', () => {
    const db = local.store.db;
    // Dr. Chen's patient was created here (local-7) and pushed: the server calls it server-7.
    local.store.update<Patient>({ resourceType: 'Patient', id: 'local-7', name: [{ family: 'Local' }] }, undefined, { project: PROJECT });
    db.prepare(MAP).run('Patient', 'local-7', 'server-7', '1');
    const obs: Observation = { resourceType: 'Observation', id: 'obs-1', meta: { versionId: 'rv1' }, status: 'final', code: { text: 'Heart rate' }, subject: { reference: 'Patient/server-7' } };
    const pages = pageWriterOf(local);
    expect(pages.writePage('Patient', [remotePatient('pulled-1'), remotePatient('pulled-2')])).toMatchObject({ written: 2, deduped: 0 });
    expect(pages.writePage('Observation', [structuredClone(obs)])).toMatchObject({ written: 1, deduped: 0 });
    expect(local.store.read<Observation>('Observation', 'obs-1', { project: PROJECT }).subject?.reference).toBe('Patient/local-7');

    // Another pull (a new writer: nothing remembered in memory) of the same versions: all held already.
    const again = pageWriterOf(local);
    expect(again.writePage('Patient', [remotePatient('pulled-1'), remotePatient('pulled-2')])).toMatchObject({ written: 0, deduped: 2 });
    expect(again.writePage('Observation', [structuredClone(obs)])).toMatchObject({ written: 0, deduped: 1 });
    expect(local.store.read<Patient>('Patient', 'pulled-1', { project: PROJECT }).meta?.versionId).toBe('1');
    // A new remote version is written over the same local resource.
    expect(again.writePage('Patient', [remotePatient('pulled-1', 'rv2')])).toMatchObject({ written: 1, deduped: 0 });
    expect(rows()).toEqual([
      { local_id: 'local-7', remote_id: 'server-7' },
      { local_id: 'pulled-1', remote_id: 'pulled-1' },
      { local_id: 'pulled-2', remote_id: 'pulled-2' },
    ]);
  });

  it('one local id per remote id: a row written for a remote id takes the place of the other kind of row for it', () => {
    const db = local.store.db;
    // A push that landed before a crash was pulled back as a resource of its own (server-9 -> itself);
    // the re-run's push then finds its copy on the server and maps its local id to it.
    db.prepare(MAP).run('Patient', 'server-9', 'server-9', '1');
    db.prepare(MAP).run('Patient', 'local-9', 'server-9', '1');
    expect(rows()).toEqual([{ local_id: 'local-9', remote_id: 'server-9' }]);
    expect(createIdMap(db).localIdOf('Patient', 'server-9')).toBe('local-9');
    // And the other way round.
    db.prepare(MAP).run('Patient', 'server-9', 'server-9', '2');
    expect(rows()).toEqual([{ local_id: 'server-9', remote_id: 'server-9' }]);
    // Two local ids mapped to one server id: the last one written holds it, as before.
    db.prepare(MAP).run('Patient', 'local-a', 'server-x', '1');
    db.prepare(MAP).run('Patient', 'local-b', 'server-x', '1');
    expect(createIdMap(db).localIdOf('Patient', 'server-x')).toBe('local-b');
    expect(rows().filter((r) => r.remote_id === 'server-x')).toEqual([{ local_id: 'local-b', remote_id: 'server-x' }]);
    // Other types are not touched.
    db.prepare(MAP).run('Observation', 'server-9', 'server-9', '1');
    db.prepare(MAP).run('Patient', 'local-9', 'server-9', '3');
    expect(createIdMap(db).localIdOf('Observation', 'server-9')).toBe('server-9');
  });

  it('a lookup by remote id reads the remote-id index or the primary key, never the whole map', () => {
    const db = local.store.db;
    db.transaction(() => {
      for (let i = 0; i < 2_000; i++) db.prepare(MAP).run('Patient', `p-${i}`, i % 50 ? `p-${i}` : `s-${i}`, '1');
    })();
    db.exec('ANALYZE');
    const plan = (sql: string, ...args: string[]) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail).join('\n');
    for (const p of [
      plan('SELECT local_id, remote_version FROM sync_id_map_by_remote WHERE type = ? AND remote_id = ?', 'Patient', 'x'),
      plan('SELECT 1 FROM (SELECT ? AS id) s WHERE NOT EXISTS (SELECT 1 FROM sync_id_map_by_remote m WHERE m.type = ? AND m.remote_id = s.id)', 'x', 'Patient'),
    ]) {
      expect(p).toMatch(/sync_id_map USING (COVERING )?INDEX sync_id_map_remote \(type=\? AND remote_id=\?\)/);
      expect(p).toMatch(/sync_id_map USING PRIMARY KEY \(type=\? AND local_id=\?\)/);
      expect(p).not.toMatch(/SCAN sync_id_map/);
    }
  });

  it("a workstation's file from before the migration keeps its map: the same answers after the upgrade", () => {
    local.store.close();
    const file = path.join(dir, 'old.db');
    const before = syncMigrations.filter((m) => m.version < 36);
    const old = createStore({ path: file, defaultProject: PROJECT, migrations: [...before] });
    old.db.prepare(MAP).run('Patient', 'pulled-1', 'pulled-1', '3');
    old.db.prepare(MAP).run('Patient', 'local-7', 'server-7', '1');
    expect(old.db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'sync_id_map_by_remote'").pluck().get()).toBe(0);
    old.close();
    local = openLocal(file);
    const ids = createIdMap(local.store.db);
    expect([ids.localIdOf('Patient', 'pulled-1'), ids.localIdOf('Patient', 'server-7'), ids.localIdOf('Patient', 'local-7')]).toEqual(['pulled-1', 'local-7', undefined]);
    expect(rows(local.store.db)).toEqual([
      { local_id: 'local-7', remote_id: 'server-7' },
      { local_id: 'pulled-1', remote_id: 'pulled-1' },
    ]);
  });
});
