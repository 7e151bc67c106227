// The ground floor's types: an open SQLite connection (better-sqlite3 with SQLCipher) and a numbered
// schema migration. Every layer above (store, search, access, auth, audit, sync) shares these.
import type Database from 'better-sqlite3-multiple-ciphers';

export type Db = Database.Database;

/** One numbered schema change, applied once in its own transaction by runMigrations (migrations.ts). */
export interface Migration {
  version: number;
  name: string;
  up(db: Db): void;
}

/** A piece of SQL with positional parameters, ANDed into a query over `resource r` (alias `r`). */
export interface SqlFragment {
  sql: string;
  params: unknown[];
}
