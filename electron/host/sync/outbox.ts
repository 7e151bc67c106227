// The outbox: records every local change in `sync_outbox` inside the change's own SQLite transaction
// (through StoreOptions.onChange), squashed to one row per resource so push sends the newest state once.
//
// Squashing (existing row op + new change -> row op):
//   create + update  = create (the newest content is read at push time)
//   create + delete  = nothing (the row goes) -- unless that create was already attempted: the remote may
//                      have committed it without us hearing back, so the row becomes a delete, which push
//                      resolves by the Outpost identifier (finding nothing there is success)
//   update + update  = update;  update + delete = delete
//   delete + update  = update (a revived resource)
// With no row, the id map decides: an update of a resource the remote has never had is a create, and a
// delete of one it never had is nothing.
//
// Changes applied by sync itself (pull) must not come back as local changes: run them in
// `outbox.remote(() => ...)`. Types in `excludedTypes` are never recorded (AuditEvents have their own
// outbox, see audit/schema.ts; Medplum's admin types go through its admin API, not plain FHIR writes).
import type { AuditEvent } from '@medplum/fhirtypes';
import type { StoreChange } from '../access/index.ts';
import { prepareCached } from '../db/statements.ts';
import type { Db } from '../db/types.ts';
import { attributeChange } from './provenance.ts';

export type OutboxOp = 'create' | 'update' | 'delete';
export type OutboxState = 'pending' | 'held' | 'conflict' | 'quarantined';
/** What becomes of a row a push tried: a new state, or 'later' (left pending, tried again in a later run). */
export type Outcome = OutboxState | 'later';

export interface OutboxRow {
  type: string;
  id: string;
  project: string;
  op: OutboxOp;
  version: number;
  seq: number;
  changed_at: number;
  state: OutboxState;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  /** JSON array of the local authors of the squashed changes (migration 33; provenance.ts). */
  authors?: string | null;
}

/** Types the outbox never records by default. */
export const DEFAULT_EXCLUDED_TYPES: ReadonlySet<string> = new Set([
  'AuditEvent',
  'Project',
  'ProjectMembership',
  'User',
  'ClientApplication',
  'Login',
  'UserConfiguration',
]);

export interface OutboxOptions {
  clock?: () => Date;
  excludedTypes?: ReadonlySet<string>;
}

export interface Outbox {
  /** Pass as StoreOptions.onChange. */
  onChange(db: Db, change: StoreChange): void;
  /** Runs `fn` (sync applying remote data) without recording its changes. */
  remote<T>(fn: () => T): T;
}

function prepare(db: Db) {
  return {
    get: db.prepare<[string, string], OutboxRow>('SELECT * FROM sync_outbox WHERE type = ? AND id = ?'),
    mapped: db.prepare<[string, string], { remote_id: string }>('SELECT remote_id FROM sync_id_map WHERE type = ? AND local_id = ?'),
    insert: db.prepare<[string, string, string, OutboxOp, number, number]>(
      `INSERT INTO sync_outbox (type, id, project, op, version, seq, changed_at)
       VALUES (?, ?, ?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM sync_outbox), ?)`,
    ),
    // A new change puts a held/failed row back to pending: the person may have fixed what was refused.
    // A conflict stays a conflict until resolved.
    change: db.prepare<[OutboxOp, number, number, string, string]>(
      `UPDATE sync_outbox SET op = ?, version = ?, changed_at = ?, next_attempt_at = 0,
              state = CASE state WHEN 'conflict' THEN 'conflict' ELSE 'pending' END
        WHERE type = ? AND id = ?`,
    ),
    remove: db.prepare<[string, string]>('DELETE FROM sync_outbox WHERE type = ? AND id = ?'),
  };
}

/** The row op after `change` lands on `existing` (undefined: no row should remain). */
export function squash(existing: OutboxOp | undefined, change: StoreChange['op'], knownRemotely: boolean): OutboxOp | undefined {
  if (existing === undefined) {
    if (knownRemotely) {
      return change;
    }
    return change === 'delete' ? undefined : 'create';
  }
  if (existing === 'create') {
    return change === 'delete' ? undefined : 'create';
  }
  return change === 'delete' ? 'delete' : 'update';
}

export function createOutbox(options: OutboxOptions = {}): Outbox {
  const clock = options.clock ?? (() => new Date());
  const excluded = options.excludedTypes ?? DEFAULT_EXCLUDED_TYPES;
  let statements: { db: Db; sql: ReturnType<typeof prepare> } | undefined;
  let remoteDepth = 0;
  /** The change recorded last: the AuditEvent that follows it names its author (provenance.ts). */
  let lastChange: { type: string; id: string; op: string } | undefined;

  function sqlFor(db: Db) {
    if (statements?.db !== db) {
      statements = { db, sql: prepare(db) };
    }
    return statements.sql;
  }

  return {
    onChange(db, change) {
      if (change.resourceType === 'AuditEvent' && change.op === 'create' && lastChange) {
        attributeChange(db, change.resource as AuditEvent, lastChange);
        lastChange = undefined;
      }
      if (remoteDepth > 0 || excluded.has(change.resourceType)) {
        return;
      }
      lastChange = { type: change.resourceType, id: change.id, op: change.op };
      const sql = sqlFor(db);
      const row = sql.get.get(change.resourceType, change.id);
      const now = clock().getTime();
      if (!row) {
        // A create is recorded as one whatever the id map says (squash): no lookup for it.
        const known = change.op !== 'create' && sql.mapped.get(change.resourceType, change.id) !== undefined;
        const op = squash(undefined, change.op, known);
        if (op) {
          sql.insert.run(change.resourceType, change.id, change.project, op, change.version, now);
        }
        return;
      }
      // A create already sent may have landed remotely: a later delete must still reach the remote.
      const op = row.op === 'create' && row.attempts > 0 && change.op === 'delete' ? 'delete' : squash(row.op, change.op, true);
      if (op === undefined) {
        sql.remove.run(change.resourceType, change.id);
      } else {
        sql.change.run(op, change.version, now, change.resourceType, change.id);
      }
    },
    remote(fn) {
      remoteDepth++;
      try {
        return fn();
      } finally {
        remoteDepth--;
      }
    },
  };
}

/**
 * Rows push may send now, walked in `seq` order so the first `limit` due rows end the walk. Without the
 * hint SQLite (no ANALYZE statistics) took the `due` index and sorted every pending row for each batch
 * of push: 100 to 140 ms with the event loop held, per batch, with 200,000 changes pending; 3 to 6 ms this way.
 */
export const DUE_ROWS_SQL =
  "SELECT * FROM sync_outbox INDEXED BY sync_outbox_seq WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY seq LIMIT ?";

/** Rows push may send now (pending and due), in the order their first change happened. */
export function dueRows(db: Db, now: number, limit = 1000): OutboxRow[] {
  return prepareCached(db, DUE_ROWS_SQL).all(now, limit) as OutboxRow[];
}

/** Counts of outbox rows by state (the sync panel's pending / held / conflicts). */
export function outboxCounts(db: Db): Record<OutboxState, number> {
  const counts: Record<OutboxState, number> = { pending: 0, held: 0, conflict: 0, quarantined: 0 };
  for (const r of db.prepare('SELECT state, count(*) AS n FROM sync_outbox GROUP BY state').all() as { state: OutboxState; n: number }[]) {
    counts[r.state] = r.n;
  }
  return counts;
}
