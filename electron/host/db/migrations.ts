// Numbered schema migrations, run at start-up, each in its own transaction and recorded in
// `schema_migration`. Modules contribute lists (core, search, later access/sync); the runner merges them.
import { errors } from '../../../shared/errors.ts';
import type { Db, Migration } from './types.ts';

/** Applies every migration newer than the database's version, in version order. Returns the final version. */
export function runMigrations(db: Db, migrations: readonly Migration[]): number {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].version === sorted[i - 1].version) {
      throw new Error(`Two migrations share version ${sorted[i].version}: ${sorted[i - 1].name}, ${sorted[i].name}`);
    }
  }
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migration (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const current = schemaVersion(db);
  const known = sorted.length ? sorted[sorted.length - 1].version : 0;
  if (current > known) {
    throw errors.internal(
      `This database has schema version ${current}, newer than this version of Outpost knows (${known}). ` +
        'Update Outpost to open it.',
    );
  }
  const applied = new Set((db.prepare('SELECT version FROM schema_migration').all() as { version: number }[]).map((r) => r.version));
  const record = db.prepare('INSERT INTO schema_migration (version, name, applied_at) VALUES (?, ?, ?)');
  // By membership rather than "greater than current": modules number their migrations in their own
  // ranges, so a module's new migration may sort below another module's newest.
  for (const migration of sorted) {
    if (applied.has(migration.version)) {
      continue;
    }
    db.transaction(() => {
      migration.up(db);
      record.run(migration.version, migration.name, Date.now());
    })();
  }
  return schemaVersion(db);
}

export function schemaVersion(db: Db): number {
  const row = db.prepare('SELECT max(version) AS v FROM schema_migration').get() as { v: number | null };
  return row.v ?? 0;
}
