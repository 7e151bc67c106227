// The physical limit of ingest: better-sqlite3 inserting each resource's JSON text into a bare
// (id, json) table, one transaction per Bundle, with no parsing, validation or indexing. Two forms:
// `rowid` (the table alone: the bare table) and `id-key` (id TEXT PRIMARY KEY, so the random
// UUIDs of the generated Bundles also go into a B-tree, as a store's lookup by id needs).
import { openBenchDb } from './sqlite.ts';

export interface RawSink {
  /** Inserts one Bundle's rows in one transaction; returns the milliseconds it took. */
  insert(rows: [id: string, json: string][]): number;
  close(): void;
}

export type RawTable = 'rowid' | 'id-key';

export function createRawSink(file: string, key: string | undefined, table: RawTable = 'id-key'): RawSink {
  const db = openBenchDb(file, key);
  db.exec(table === 'rowid' ? 'CREATE TABLE resource (id TEXT NOT NULL, json TEXT NOT NULL)' : 'CREATE TABLE resource (id TEXT PRIMARY KEY, json TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO resource (id, json) VALUES (?, ?)');
  const insertBundle = db.transaction((rows: [string, string][]) => {
    for (const [id, json] of rows) {
      insert.run(id, json);
    }
  });
  return {
    insert(rows) {
      const start = performance.now();
      insertBundle(rows);
      return performance.now() - start;
    },
    close: () => db.close(),
  };
}
