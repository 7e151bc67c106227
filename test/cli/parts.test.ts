// A command builds only the parts it uses. `outpost import` and `outpost export` open the data folder,
// accounts and access and the importer: never sync. Shown at the level of behaviour, on a real
// encrypted data folder: with sync's own tables (remotes, run lock, run state, pull watermarks) gone
// from the database, the import and the export still work, and the import's changes are still in the
// outbox for the next push; the whole host (serve, the app) cannot even open that folder, because it
// builds sync. `outpost sync` builds sync and no accounts or routes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { exportCommand, importCommand, type CliIo } from '../../electron/host/cli/commands.ts';
import { DEFAULT_PROJECT_ID } from '../../electron/host/db/project.ts';
import { openDatabase } from '../../electron/host/db/open.ts';
import { createHost, openDataHost, openSyncHost } from '../../electron/host/host.ts';
import { databasePath, readOrCreateDatabaseKey } from '../../electron/host/paths.ts';
import { tempDir } from '../host/helpers.ts';

const SYNC_SERVICE_TABLES = ['sync_remote', 'sync_lock', 'sync_state', 'sync_watermark'];

function io(): CliIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  return { stdout: stdout as never, stderr: stderr as never, waitForStop: async () => undefined, out: () => out, err: () => err };
}

const hosts: { close(): void }[] = [];
afterEach(() => {
  for (const h of hosts.splice(0)) h.close();
});

/** A data folder with a remote configured and a patient, then sync's service tables dropped. */
function folderWithoutSyncTables(): string {
  const dataDir = tempDir('outpost-parts-');
  const key = readOrCreateDatabaseKey(dataDir);
  const full = createHost({ dataDir, key });
  full.sync.config.set(DEFAULT_PROJECT_ID, { baseUrl: 'http://127.0.0.1:9/fhir/R4/', token: 'remote-token' });
  full.close();
  const db = openDatabase(databasePath(dataDir), key);
  for (const table of SYNC_SERVICE_TABLES) db.exec(`DROP TABLE ${table}`);
  db.close();
  return dataDir;
}

describe('the parts a command builds', () => {
  it('outpost import and export never touch sync: they work without its tables, and the import still reaches the outbox', async () => {
    const dataDir = folderWithoutSyncTables();
    const bundle = join(tempDir('outpost-parts-src-'), 'bundle.json');
    writeFileSync(bundle, JSON.stringify({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:1', resource: { resourceType: 'Patient', name: [{ family: 'Parts' }] }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Observation', status: 'final', code: { text: 'Pulse' }, subject: { reference: 'urn:uuid:1' } }, request: { method: 'POST', url: 'Observation' } },
      ],
    }));
    const imported = io();
    expect(await importCommand(dataDir, [bundle], imported), imported.err()).toBe(0);
    expect(imported.out()).toMatch(/2 resources/);

    const exported = io();
    const folder = tempDir('outpost-parts-export-');
    expect(exportCommand(dataDir, folder, exported), exported.err()).toBe(0);
    expect(exported.out()).toMatch(/Patient\.ndjson\t1/);

    // What the import wrote waits in the outbox, as an edit in the app would: nothing is lost for sync.
    const db = openDatabase(databasePath(dataDir), readOrCreateDatabaseKey(dataDir));
    try {
      const outbox = db.prepare("SELECT type, op FROM sync_outbox WHERE type IN ('Patient', 'Observation') ORDER BY type").all();
      expect(outbox).toEqual([{ type: 'Observation', op: 'create' }, { type: 'Patient', op: 'create' }]);
    } finally {
      db.close();
    }

    // The whole host builds sync, which reads its tables at once: the same folder cannot be opened.
    expect(() => hosts.push(createHost({ dataDir, key: readOrCreateDatabaseKey(dataDir) }))).toThrow(/no such table: sync_/);
  });

  it('the data host has accounts, access and the importer and no sync; the sync host has sync and no accounts', () => {
    const dataDir = tempDir('outpost-parts-');
    const key = readOrCreateDatabaseKey(dataDir);
    const data = openDataHost({ dataDir, key });
    hosts.push(data);
    expect(Object.keys(data).sort()).toEqual(['access', 'audit', 'auth', 'close', 'dataDir', 'importer', 'rawStore']);
    data.close();
    const sync = openSyncHost({ dataDir, key });
    hosts.push(sync);
    expect(Object.keys(sync).sort()).toEqual(['close', 'dataDir', 'sync']);
    expect(sync.sync.config.get(DEFAULT_PROJECT_ID)).toBeUndefined();
  });
});
