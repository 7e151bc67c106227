// Opening the SQLite file: SQLCipher encryption (when keyed), WAL, pragmas, and a clear error when the
// key is wrong or missing. Every other module receives the open `Db`.
import Database from 'better-sqlite3-multiple-ciphers';
import { errors } from '../../../shared/errors.ts';
import type { Db } from './types.ts';

const BUSY_TIMEOUT_MS = 5_000;
/** Negative cache_size is in KiB: 64 MiB of page cache keeps index pages of a 200k-resource store hot. */
const CACHE_SIZE_KIB = 64 * 1024;
/**
 * Pages the WAL may hold before a checkpoint copies them into the file (default 1,000 = 4 MiB). Ingest
 * Bundles dirty many index pages, and the default checkpointed (and synced) after nearly every Bundle;
 * with 8,000 pages (32 MiB) a page rewritten by several Bundles is copied once (~10-20% less CPU on
 * Synthea ingest). journal_size_limit truncates the WAL back after a checkpoint.
 */
const WAL_AUTOCHECKPOINT_PAGES = 8_000;
const JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/** An in-memory database (SQLite's ':memory:' or '' for a temporary one): never at rest, and never in WAL mode. */
export function isInMemoryPath(path: string): boolean {
  return path === ':memory:' || path === '';
}

/**
 * The SQLCipher pragmas of every connection to a keyed store file, in order: SQLCipher v4, then the
 * key (or, with `hexrekey`, the new key) as the hex of its UTF-8 bytes, so no quoting of the
 * passphrase can break (or inject into) the pragma. The app, its background checkpointer, the
 * encryption of a plain file and the benchmark's baselines all key their connections with these.
 */
export function cipherPragmas(key: string, keyPragma: 'hexkey' | 'hexrekey' = 'hexkey'): string[] {
  return [`cipher = 'sqlcipher'`, 'legacy = 4', `${keyPragma} = '${Buffer.from(key, 'utf8').toString('hex')}'`];
}

/**
 * Opens (creating when absent) a store database. With `key`, the file is encrypted with SQLCipher v4;
 * the key is passed in hex form so no quoting of the passphrase can break (or inject into) the pragma.
 * Throws a FhirError (500, with a message a person can act on) when the file cannot be read with the
 * given key, or is not a database at all.
 */
export function openDatabase(path: string, key?: string): Db {
  const db = new Database(path);
  // An in-memory database is never at rest, and SQLCipher refuses a key for it: the key is ignored.
  const inMemory = isInMemoryPath(path);
  try {
    if (key !== undefined && !inMemory) {
      if (key.length === 0) {
        throw errors.badRequest('The database key must not be empty');
      }
      for (const pragma of cipherPragmas(key)) {
        db.pragma(pragma);
      }
    }
    // The first real read tells whether the key fits: SQLCipher only notices on page access.
    try {
      db.prepare('SELECT count(*) FROM sqlite_master').get();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'SQLITE_NOTADB') {
        throw errors.internal(
          key === undefined
            ? `Cannot open ${path}: the file is encrypted (a key is needed) or is not a database`
            : `Cannot open ${path}: wrong key, or the file is not a database`,
        );
      }
      throw err;
    }
    if (!inMemory) {
      db.pragma('journal_mode = WAL');
      db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
    }
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma(`cache_size = -${CACHE_SIZE_KIB}`);
    db.pragma('temp_store = MEMORY');
    db.pragma('foreign_keys = ON');
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
