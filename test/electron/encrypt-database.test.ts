// The plain -> encrypted migration on a real database written by the real host: every row survives,
// the file can no longer be read without the key, and the host opens it with the key.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import type { Bundle } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHost } from '../../electron/host/host.ts';
import { databasePath } from '../../electron/host/paths.ts';
import { openDatabase } from '../../electron/host/db/open.ts';
import { countRowsPerTable, encryptPlainDatabase, isPlainSqliteFile } from '../../electron/shell/encrypt-database.ts';
import { readSyntheaBundle, syntheaFiles } from '../helpers/fixtures.ts';

const KEY = 'a'.repeat(16) + '0123456789abcdef'.repeat(3);

function smallestPatientBundle(): Bundle {
  const file = syntheaFiles().find((f) => f.startsWith('Jacob_Larson')) ?? syntheaFiles()[0];
  return readSyntheaBundle(file);
}

function countsOf(file: string, key?: string): Record<string, number> {
  const db = openDatabase(file, key);
  try {
    return countRowsPerTable(db);
  } finally {
    db.close();
  }
}

describe('plain database -> encrypted database', () => {
  let dataDir: string;
  let dbFile: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'outpost-encrypt-'));
    dbFile = databasePath(dataDir);
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps every row, leaves no readable trace, and opens only with the key', async () => {
    // An earlier version's database: no key, written through the real host, WAL not checkpointed.
    const plainHost = createHost({ dataDir, anonymous: 'system' });
    const bundle = smallestPatientBundle();
    const posted = await plainHost.handle({
      method: 'POST',
      path: '/fhir/R4',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify(bundle),
    });
    expect(posted.status).toBe(200);
    const patientBefore = await plainHost.handle({ method: 'GET', path: '/fhir/R4/Patient?family=Larson', headers: {} });
    plainHost.close();
    expect(isPlainSqliteFile(dbFile)).toBe(true);
    expect(readFileSync(dbFile).includes('Larson')).toBe(true);
    const before = countsOf(dbFile);
    const resourceRows = Object.entries(before).filter(([table]) => /resource/i.test(table));
    expect(resourceRows.some(([, n]) => n >= (bundle.entry?.length ?? 0))).toBe(true);

    const result = encryptPlainDatabase(dbFile, KEY);

    expect(result).toEqual({ migrated: true, rowCounts: before });
    expect(isPlainSqliteFile(dbFile)).toBe(false);
    expect(readFileSync(dbFile).includes('Larson')).toBe(false);
    expect(readdirSync(dataDir).filter((f) => f.includes('encrypting'))).toEqual([]);
    expect(countsOf(dbFile, KEY)).toEqual(before);
    // Without the key (or with another) the file is not a database.
    expect(() => countsOf(dbFile)).toThrow(/encrypted|not a database/);
    expect(() => countsOf(dbFile, 'another key')).toThrow(/wrong key/);
    const raw = new Database(dbFile);
    expect(() => raw.prepare('SELECT count(*) FROM sqlite_master').get()).toThrow();
    raw.close();

    // The host opens it with the key and finds the same data; it can also write to it.
    const host = createHost({ dataDir, key: KEY, anonymous: 'system' });
    try {
      const patientAfter = await host.handle({ method: 'GET', path: '/fhir/R4/Patient?family=Larson', headers: {} });
      expect(patientAfter.status).toBe(200);
      const ids = (b: unknown) => ((b as Bundle).entry ?? []).map((e) => e.resource?.id).sort();
      expect(ids(patientAfter.body)).toEqual(ids(patientBefore.body));
      expect(ids(patientAfter.body)).toHaveLength(1);
      const created = await host.handle({
        method: 'POST',
        path: '/fhir/R4/Patient',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'AfterMigration' }] }),
      });
      expect(created.status).toBe(201);
    } finally {
      host.close();
    }
  });

  it('does nothing to a database that is already encrypted, or to no database at all', () => {
    expect(encryptPlainDatabase(dbFile, KEY)).toEqual({ migrated: false });
    expect(existsSync(dbFile)).toBe(false);

    const db = openDatabase(dbFile, KEY);
    db.exec("CREATE TABLE t(x); INSERT INTO t VALUES ('canary')");
    db.close();
    const bytes = readFileSync(dbFile);
    expect(encryptPlainDatabase(dbFile, KEY)).toEqual({ migrated: false });
    expect(readFileSync(dbFile).equals(bytes)).toBe(true);
  });

  it('refuses an empty key and leaves the plain file untouched', () => {
    const db = new Database(dbFile);
    db.exec("CREATE TABLE t(x); INSERT INTO t VALUES ('canary')");
    db.close();
    const bytes = readFileSync(dbFile);
    expect(() => encryptPlainDatabase(dbFile, '')).toThrow(/must not be empty/);
    expect(readFileSync(dbFile).equals(bytes)).toBe(true);
    expect(isPlainSqliteFile(dbFile)).toBe(true);
  });
});
