// SQLite files for the baselines, opened with the same driver and settings as the store
// (electron/host/db/open.ts: SQLCipher v4 when keyed, WAL, synchronous NORMAL, 64 MiB page
// cache), so a ratio compares the store's own work and nothing else.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { cipherPragmas } from '../../electron/host/db/open.ts';

export type BenchDb = Database.Database;

export function openBenchDb(file: string, key?: string): BenchDb {
  const db = new Database(file);
  for (const pragma of key === undefined ? [] : cipherPragmas(key)) {
    db.pragma(pragma);
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -65536');
  db.pragma('temp_store = MEMORY');
  return db;
}

/** A fresh temporary folder for one benchmark run; `dispose` removes it with everything inside. */
export function createTempDir(prefix: string): { dir: string; dispose(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Removes a temporary folder when the run is interrupted (Ctrl+C, SIGTERM), then lets the signal end
 * the process: an interrupted run must not leave gigabytes of databases behind. Returns how to stop.
 */
export function disposeOnSignal(tmp: { dispose(): void }): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    tmp.dispose();
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** Bytes of a database file and its WAL (0 for a missing file). */
export function fileSizes(file: string): { db: number; wal: number } {
  const size = (f: string): number => {
    try {
      return statSync(f).size;
    } catch {
      return 0;
    }
  };
  return { db: size(file), wal: size(`${file}-wal`) };
}
