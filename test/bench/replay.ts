// The ceiling of the store's ingest: the SQL statements a store ran for a Bundle, replayed with their
// recorded parameters into a fresh database of the same schema, one transaction per Bundle. The
// replay pays for SQLite's B-tree inserts and WAL frames and nothing else: no parsing, validation,
// reference rewriting, stamping, JSON.stringify or search-value extraction. No JavaScript in the store
// can make it faster than its own writes, so the replay's ratio to the raw bare table bounds the
// store's. A second form replays into tables without any secondary index (only primary keys and the
// unique (type, id)): the floor's one-entry-per-row layout, to show what a leaner schema would bound.
import type { Statement } from 'better-sqlite3-multiple-ciphers';
import type { Db } from '../../electron/host/db/types.ts';
import { createStore } from '../../electron/host/store/index.ts';

type Args = unknown[];
export type RecordedRun = [sql: string, args: Args];

interface StatementLike {
  source: string;
  database: unknown;
  run(...args: Args): unknown;
}

/** Transaction control is the replay's own (one transaction per Bundle), not part of the record. */
const TRANSACTION_CONTROL = /^\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i;

export interface WriteRecorder {
  /** Starts a fresh record (the previous one is dropped). */
  start(): void;
  /** Stops recording and returns what ran since `start`. */
  take(): RecordedRun[];
  /** Restores the driver's own `run`. */
  dispose(): void;
}

/**
 * Records every `Statement.run` on `db` (the driver has no hook for it, so its prototype's `run` is
 * wrapped while the recorder lives; statements of other databases pass straight through).
 */
export function recordWrites(db: Db): WriteRecorder {
  const proto = Object.getPrototypeOf(db.prepare('SELECT 1')) as StatementLike;
  const original = proto.run;
  let record: RecordedRun[] | undefined;
  proto.run = function (this: StatementLike, ...args: Args): unknown {
    if (record !== undefined && this.database === db && !TRANSACTION_CONTROL.test(this.source)) {
      record.push([this.source, args]);
    }
    return original.apply(this, args);
  };
  return {
    start: () => {
      record = [];
    },
    take: () => {
      const taken = record ?? [];
      record = undefined;
      return taken;
    },
    dispose: () => {
      proto.run = original;
    },
  };
}

/** The one explicit index a store cannot do without: the FHIR identity (type, id) is unique. */
const IDENTITY_INDEX = 'resource_type_id';

/** Every index but the primary keys' and the identity's: the (rid, ...) ones, the date-range end, history by time. */
function secondaryIndexes(db: Db): string[] {
  return db
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND name <> ?`)
    .pluck()
    .all(IDENTITY_INDEX) as string[];
}

export interface ReplaySink {
  db: Db;
  /** Replays one Bundle's record in one transaction; returns the milliseconds it took. */
  replay(runs: RecordedRun[]): number;
  close(): void;
}

/**
 * A fresh store database (opened as the host opens its own: same pragmas, background checkpoints)
 * that receives recorded writes. `lean` drops the secondary indexes first.
 */
export function createReplaySink(file: string, opts: { lean?: boolean } = {}): ReplaySink {
  const store = createStore({ path: file, backgroundCheckpoint: true });
  const db = store.db;
  if (opts.lean) {
    db.exec(secondaryIndexes(db).map((name) => `DROP INDEX "${name}";`).join('\n'));
  }
  const statements = new Map<string, Statement<unknown[]>>();
  const statement = (sql: string): Statement<unknown[]> => {
    let s = statements.get(sql);
    if (s === undefined) {
      s = db.prepare<unknown[]>(sql);
      statements.set(sql, s);
    }
    return s;
  };
  const replayBundle = db.transaction((runs: RecordedRun[]) => {
    for (const [sql, args] of runs) {
      statement(sql).run(...args);
    }
  });
  return {
    db,
    replay(runs) {
      const start = performance.now();
      replayBundle(runs);
      return performance.now() - start;
    },
    close: () => store.close(),
  };
}
