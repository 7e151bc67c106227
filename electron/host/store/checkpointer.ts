// Background WAL checkpoints. In WAL mode every commit appends the pages it changed to the -wal file,
// and a checkpoint copies them back into the database file and syncs it. SQLite runs that checkpoint
// inside the commit that crosses wal_autocheckpoint, on the writing thread: at 200,000 resources it
// was over a third of the time of a transaction Bundle. Here a worker thread with its own connection
// runs PASSIVE checkpoints (which never block the writer) a few times a second, so the pages are
// mostly copied by the time the writer's own, larger autocheckpoint comes due: that one then finds
// little left to copy and resets the WAL. If the worker cannot start or fails, nothing is lost: the
// writer's autocheckpoint still bounds the WAL, as it does without a worker.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { cipherPragmas } from '../db/open.ts';

/** How often the worker checkpoints (ms): a few hundred Bundles' pages at most between two. */
export const CHECKPOINT_INTERVAL_MS = 250;
/** The writer's own autocheckpoint while a worker runs (pages; 16,000 x 4 KiB = 64 MiB of WAL). */
export const WRITER_AUTOCHECKPOINT_PAGES = 16_000;
/** How long close() waits for the worker to close its connection (a checkpoint may be running). */
const STOP_TIMEOUT_MS = 5_000;

export interface BackgroundCheckpointer {
  /** Stops the worker and closes its connection; returns once it has (or after a timeout). */
  stop(): void;
}

export interface CheckpointerOptions {
  path: string;
  /** The SQLCipher key of the database (the worker keys its connection with cipherPragmas). */
  key?: string;
  intervalMs?: number;
  /** Told once when the worker fails (it then stops; the writer's autocheckpoint carries on). */
  onError?: (message: string) => void;
}

// CommonJS source of the worker (eval'd, so it needs no file of its own in the app bundle). It opens
// the database as openDatabase does, checkpoints on a timer, and on 'stop' closes and signals `done`.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const done = new Int32Array(workerData.done);
let db;
let timer;
function finish() {
  clearInterval(timer);
  try { if (db && db.open) db.close(); } catch {}
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
  parentPort.close();
}
try {
  db = new Database(workerData.path);
  for (const pragma of workerData.cipherPragmas) db.pragma(pragma);
  db.pragma('busy_timeout = 100');
  timer = setInterval(() => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch (err) {
      if (err && err.code === 'SQLITE_BUSY') return;
      parentPort.postMessage({ error: String(err && err.message) });
      finish();
    }
  }, workerData.intervalMs);
} catch (err) {
  parentPort.postMessage({ error: String(err && err.message) });
  finish();
}
parentPort.on('message', (message) => { if (message === 'stop') finish(); });
`;

export function startBackgroundCheckpointer(opts: CheckpointerOptions): BackgroundCheckpointer {
  const done = new SharedArrayBuffer(4);
  const flag = new Int32Array(done);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driver: createRequire(import.meta.url).resolve('better-sqlite3-multiple-ciphers'),
      path: opts.path,
      // Keyed as openDatabase keys the writer's connection.
      cipherPragmas: opts.key === undefined ? [] : cipherPragmas(opts.key),
      intervalMs: opts.intervalMs ?? CHECKPOINT_INTERVAL_MS,
      done,
    },
  });
  // The worker must never keep the process alive, nor take it down.
  worker.unref();
  let reported = false;
  const report = (message: string): void => {
    if (!reported) {
      reported = true;
      opts.onError?.(message);
    }
  };
  worker.on('message', (m: { error?: string }) => m?.error && report(m.error));
  worker.on('error', (err) => report(err.message));
  return {
    stop() {
      if (Atomics.load(flag, 0) === 1) {
        return;
      }
      worker.postMessage('stop');
      // Block briefly: the caller closes its own connection next, and the last connection to close
      // is the one that checkpoints and removes the WAL.
      Atomics.wait(flag, 0, 0, STOP_TIMEOUT_MS);
      if (Atomics.load(flag, 0) !== 1) {
        void worker.terminate();
      }
    },
  };
}
