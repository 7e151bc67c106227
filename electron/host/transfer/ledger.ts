// What an import committed, by content hash, so a re-run (after a crash, or by mistake) skips it
// instead of writing every patient twice. A unit's row is written in the same SQLite transaction as
// the unit's resources: after a kill, a Bundle is either committed and recorded, or neither. A
// file's row is written once all its units are in, so an imported file is skipped without parsing.
//
// Rows are kept per project and per importer (the command line's 'system', or one membership): what
// a person is told was "already imported" is only ever their own imports, never whether data they
// may not read exists.
//
// Migration 50 (import_ledger):
//   project      the project imported into
//   importer     'system' (outpost import, host system context) or 'ProjectMembership/<id>'
//   kind         'file' (sha-256 of the file's content, decompressed) or 'unit' (of one Bundle sent to the store)
//   hash         hex sha-256
//   source       the file's name (and the unit's number in it), for the report
//   resources    entries written; failed: entries a batch refused
//   imported_at  epoch ms
import { createHash } from 'node:crypto';
import { inTransaction } from '../db/transactions.ts';
import type { Db, Migration } from '../db/types.ts';

export const importLedgerMigration: Migration = {
  version: 50,
  name: 'import ledger: committed files and Bundles by content hash',
  up(db) {
    db.exec(`
      CREATE TABLE import_ledger (
        project TEXT NOT NULL,
        importer TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('file', 'unit')),
        hash TEXT NOT NULL,
        source TEXT NOT NULL,
        resources INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        imported_at INTEGER NOT NULL,
        PRIMARY KEY (project, importer, kind, hash)
      ) WITHOUT ROWID;
    `);
  },
};

export const transferMigrations: readonly Migration[] = [importLedgerMigration];

export interface LedgerKey {
  project: string;
  importer: string;
}

export interface LedgerRow {
  kind: 'file' | 'unit';
  hash: string;
  source: string;
  resources: number;
  failed: number;
  importedAt: number;
}

export function contentHash(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

export interface ImportLedger {
  /** The ledger row of `hash`, if this importer committed it in this project. */
  committed(key: LedgerKey, kind: LedgerRow['kind'], hash: string): LedgerRow | undefined;
  /** Records a committed file or unit (replacing an earlier row: an import forced again). */
  record(key: LedgerKey, row: LedgerRow): void;
  /** One transaction on the store's connection: a unit's resources and its ledger row commit together. */
  transaction<T>(fn: () => T): T;
}

export function createImportLedger(db: Db): ImportLedger {
  const select = db.prepare(
    'SELECT kind, hash, source, resources, failed, imported_at AS importedAt FROM import_ledger WHERE project = ? AND importer = ? AND kind = ? AND hash = ?',
  );
  const upsert = db.prepare(
    `INSERT INTO import_ledger (project, importer, kind, hash, source, resources, failed, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (project, importer, kind, hash) DO UPDATE SET source = excluded.source, resources = excluded.resources,
       failed = excluded.failed, imported_at = excluded.imported_at`,
  );
  return {
    committed: (key, kind, hash) => select.get(key.project, key.importer, kind, hash) as LedgerRow | undefined,
    record(key, row) {
      upsert.run(key.project, key.importer, row.kind, row.hash, row.source, row.resources, row.failed, row.importedAt);
    },
    transaction: (fn) => inTransaction(db, fn),
  };
}
