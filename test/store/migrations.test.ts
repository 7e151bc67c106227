// Migrations: a fresh database gets every module's migrations, a re-open applies nothing twice, a later
// module's migration is applied on the next start, and a database newer than the app is refused.
import type { Patient } from '@medplum/fhirtypes';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { allMigrations, createStore } from '../../electron/host/store/index.ts';
import { openDatabase } from '../../electron/host/db/open.ts';
import { runMigrations, schemaVersion } from '../../electron/host/db/migrations.ts';
import { isFhirError } from '../../shared/errors.ts';
import { tempDir } from './helpers.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function dbFile(): string {
  const dir = tempDir();
  dirs.push(dir);
  return path.join(dir, 'store.db');
}

describe('migrations', () => {
  it('creates every table on a fresh database and records each migration once', () => {
    const file = dbFile();
    const store = createStore({ path: file });
    const known = allMigrations().map((m) => m.version).sort((a, b) => a - b);
    const recorded = (store.db.prepare('SELECT version FROM schema_migration ORDER BY version').all() as { version: number }[]).map((r) => r.version);
    expect(recorded).toEqual(known);
    const tables = (store.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(['resource', 'resource_history', 'schema_migration']));
    const { resource } = store.create<Patient>({ resourceType: 'Patient' });
    store.close();

    const again = createStore({ path: file });
    expect(again.db.prepare('SELECT count(*) AS n FROM schema_migration').get()).toEqual({ n: known.length });
    expect(again.read('Patient', resource.id!).id).toBe(resource.id);
    again.close();
  });

  it('applies a later module migration on the next start, in its own transaction', () => {
    const file = dbFile();
    createStore({ path: file }).close();
    const extra = { version: 900, name: 'test module table', up: (db: import('../../electron/host/db/types.ts').Db) => db.exec('CREATE TABLE test_module (x INTEGER)') };
    const store = createStore({ path: file, migrations: [extra] });
    expect(schemaVersion(store.db)).toBe(900);
    expect(store.db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'test_module'`).get()).toEqual({ n: 1 });
    store.close();

    // A failing migration leaves nothing behind and is not recorded.
    const broken = { version: 901, name: 'broken', up: (db: import('../../electron/host/db/types.ts').Db) => db.exec('CREATE TABLE half_done (x); SELECT * FROM no_such_table') };
    expect(() => createStore({ path: file, migrations: [extra, broken] })).toThrow();
    const db = openDatabase(file);
    expect(schemaVersion(db)).toBe(900);
    expect(db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'half_done'`).get()).toEqual({ n: 0 });
    db.close();
  });

  it('refuses a database whose schema is newer than the app knows, and leaves it untouched', () => {
    const file = dbFile();
    createStore({ path: file }).close();
    const db = openDatabase(file);
    db.prepare('INSERT INTO schema_migration (version, name, applied_at) VALUES (?, ?, ?)').run(99_999, 'from the future', Date.now());
    db.close();

    let caught: unknown;
    try {
      createStore({ path: file });
    } catch (err) {
      caught = err;
    }
    expect(isFhirError(caught)).toBe(true);
    expect((caught as Error).message).toMatch(/newer/);
    const check = openDatabase(file);
    expect(schemaVersion(check)).toBe(99_999);
    check.close();
  });

  it('rejects two migrations with the same version', () => {
    const db = openDatabase(':memory:');
    const m = { version: 5, name: 'a', up: () => undefined };
    expect(() => runMigrations(db, [m, { ...m, name: 'b' }])).toThrow(/share version 5/);
    db.close();
  });
});
