// Migration of a plain (unencrypted) database, left by an earlier version, to the encrypted format the
// store opens with its key. It works on a copy and replaces the original only after the copy has been
// checked (opens with the key through the store's own opener, integrity ok, the same rows in every
// table, the same schema version): a crash or a failed check at any point leaves the plain database
// with every row (only switched from WAL to rollback journal, which the store undoes on open), and a
// later start simply tries again.
//
// The copy is encrypted in place with SQLite3MultipleCiphers' rekey, which rewrites every page: tables,
// indexes, FTS shadow tables and header fields all come over, where copying table by table through an
// ATTACHed database would have to recreate each kind of object by hand (and this build has no
// sqlcipher_export).
import { closeSync, copyFileSync, existsSync, fsyncSync, openSync, readSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { errors } from '../../shared/errors.ts';
import { cipherPragmas, openDatabase } from '../host/db/open.ts';

type Db = Database.Database;

const SQLITE_HEADER = 'SQLite format 3\0';

/** True when the file starts with SQLite's plain header, i.e. anyone can read it. */
export function isPlainSqliteFile(file: string): boolean {
  if (!existsSync(file)) {
    return false;
  }
  const header = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(file, 'r');
  try {
    const read = readSync(fd, header, 0, header.length, 0);
    return read === header.length && header.toString('latin1') === SQLITE_HEADER;
  } finally {
    closeSync(fd);
  }
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Row count of every real table (virtual tables are counted through their shadow tables). */
export function countRowsPerTable(db: Db): Record<string, number> {
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name")
    .pluck()
    .all() as string[];
  const counts: Record<string, number> = {};
  for (const table of tables) {
    counts[table] = db.prepare(`SELECT count(*) FROM ${quoteIdentifier(table)}`).pluck().get() as number;
  }
  return counts;
}

function sameCounts(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

function fsyncPath(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    fsyncSync(fd);
  } catch {
    // Directories cannot be opened for fsync on Windows; the rename is still atomic there.
  } finally {
    if (fd !== undefined) {
      closeSync(fd);
    }
  }
}

export interface EncryptResult {
  /** True when a plain database was found and replaced by its encrypted copy. */
  migrated: boolean;
  /** Rows per table, checked equal before and after (only when migrated). */
  rowCounts?: Record<string, number>;
}

/**
 * Encrypts the plain database `file` with `key`, keeping every row. No-op (migrated: false) when the
 * file is absent or already encrypted. Throws a FhirError, leaving the plain file untouched, when the
 * encrypted copy does not check out.
 */
export function encryptPlainDatabase(file: string, key: string): EncryptResult {
  if (key.length === 0) {
    throw errors.badRequest('The database key must not be empty');
  }
  if (!isPlainSqliteFile(file)) {
    return { migrated: false };
  }
  const temporary = `${file}.encrypting`;
  for (const leftover of [temporary, `${temporary}-wal`, `${temporary}-shm`, `${temporary}-journal`]) {
    rmSync(leftover, { force: true });
  }

  // 1. Fold any WAL into the file and leave it in rollback-journal mode (rekey refuses WAL databases).
  let before: Record<string, number>;
  let schemaVersion: number;
  const plain = new Database(file, { fileMustExist: true });
  try {
    plain.pragma('wal_checkpoint(TRUNCATE)');
    plain.pragma('journal_mode = DELETE');
    before = countRowsPerTable(plain);
    schemaVersion = plain.pragma('user_version', { simple: true }) as number;
  } finally {
    plain.close();
  }

  try {
    // 2. Encrypt a copy, page by page, with the store's cipher (SQLCipher v4 format).
    copyFileSync(file, temporary);
    const copy = new Database(temporary, { fileMustExist: true });
    try {
      for (const pragma of cipherPragmas(key, 'hexrekey')) {
        copy.pragma(pragma);
      }
    } finally {
      copy.close();
    }

    // 3. Check the copy the way the host will open it.
    if (isPlainSqliteFile(temporary)) {
      throw errors.internal('Encrypting the database failed: the copy is still plain');
    }
    const check = openDatabase(temporary, key);
    try {
      const integrity = check.pragma('integrity_check', { simple: true });
      const after = countRowsPerTable(check);
      const afterVersion = check.pragma('user_version', { simple: true }) as number;
      if (integrity !== 'ok' || !sameCounts(before, after) || afterVersion !== schemaVersion) {
        throw errors.internal('Encrypting the database failed: the encrypted copy does not match the original');
      }
      check.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      check.close();
    }

    // 4. Swap: the rename is atomic, so the database is either the old plain file or the new encrypted one.
    fsyncPath(temporary);
    renameSync(temporary, file);
    fsyncPath(dirname(file));
    for (const stale of [`${file}-wal`, `${file}-shm`, `${file}-journal`]) {
      rmSync(stale, { force: true });
    }
    return { migrated: true, rowCounts: before };
  } finally {
    for (const leftover of [temporary, `${temporary}-wal`, `${temporary}-shm`, `${temporary}-journal`]) {
      rmSync(leftover, { force: true });
    }
  }
}
