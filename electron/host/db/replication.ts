// Db-first queries that join sync's own tables (sync_id_map, sync_outbox, sync_conflict, audit_outbox,
// created by sync's migrations) with the stored rows. They live here, with every other statement over
// `resource`, so the store's tables are written about in store/, search/ and db/ only (lint rule
// outpost/resource-sql); sync calls them with its connection. Restricted listings take the read
// restriction a Repository gives (Repository.readRestriction), so a session lists only what it reads.
import { prepareCached } from './statements.ts';
import type { Db, SqlFragment } from './types.ts';

/** AuditEvents queued for the remote and not pushed yet, oldest first; of one project when given. */
export function unpushedAuditEvents(db: Db, project: string | undefined, limit: number): { rid: number; content: string }[] {
  return prepareCached(
    db,
    `SELECT o.rid, r.content FROM audit_outbox o JOIN resource r ON r.rid = o.rid
      WHERE o.pushed_at IS NULL AND (? IS NULL OR r.project = ?) ORDER BY o.rid LIMIT ?`,
  ).all(project ?? null, project ?? null, limit) as { rid: number; content: string }[];
}

/** How many resources of `type` in `project` are mapped to the remote. */
export function mappedCount(db: Db, type: string, project: string): number {
  return prepareCached(db, 'SELECT count(*) FROM sync_id_map m JOIN resource r ON r.type = m.type AND r.id = m.local_id WHERE m.type = ? AND r.project = ?')
    .pluck()
    .get(type, project) as number;
}

/** A mapped resource the remote's listing did not name (see pull-reconcile.ts). */
export interface MappedRow {
  local_id: string;
  remote_id: string;
  rid: number;
  deleted: number;
  /** The local change waiting to be pushed, if any. */
  op: string | null;
}

/**
 * Mapped resources of `type` in `project`: every one (`all`), or those whose remote id is not in
 * temp.sync_pull_seen (the ids the remote listed in this run).
 */
export function mappedRows(db: Db, type: string, project: string, all: boolean): MappedRow[] {
  return db
    .prepare(
      `SELECT m.local_id, m.remote_id, r.rid, r.deleted, o.op
         FROM sync_id_map m
         JOIN resource r ON r.type = m.type AND r.id = m.local_id
         LEFT JOIN sync_outbox o ON o.type = m.type AND o.id = m.local_id
        WHERE m.type = ? AND r.project = ?
          AND (? = 1 OR NOT EXISTS (SELECT 1 FROM temp.sync_pull_seen s WHERE s.id = m.remote_id))`,
    )
    .all(type, project, all ? 1 : 0) as MappedRow[];
}

/** Types a project has exchanged with the remote: mapped resources of it, or a pull watermark. */
export function exchangedTypes(db: Db, project: string): string[] {
  return prepareCached(
    db,
    `SELECT DISTINCT m.type FROM sync_id_map m JOIN resource r ON r.type = m.type AND r.id = m.local_id WHERE r.project = ?
     UNION SELECT type FROM sync_watermark WHERE project = ?`,
  )
    .pluck()
    .all(project, project) as string[];
}

/** Removes a stored row and every version of it (its index rows are the search indexer's to remove first). */
export function purgeRows(db: Db, rid: number): void {
  prepareCached(db, 'DELETE FROM resource_history WHERE rid = ?').run(rid);
  prepareCached(db, 'DELETE FROM resource WHERE rid = ?').run(rid);
}

export interface DomainRowsQuery {
  /** The domain's table, aliased x. */
  table: 'sync_outbox' | 'sync_conflict';
  /** Columns of x to return (the stored row's rid is added as `rid`). */
  select: string;
  where: string;
  params: unknown[];
  order: string;
  limit: number;
  /** A column of x to count rows by, over every row the restriction lets through (not only the first `limit`). */
  countBy?: string;
}

/**
 * A domain's rows about resources, of the types `restrictionOf` lets a principal read: rows whose stored
 * resource it may not read are left out (with a restriction, rows of resources not stored too).
 */
export function restrictedDomainRows<T>(
  db: Db,
  q: DomainRowsQuery,
  restrictionOf: (type: string) => SqlFragment | null | false,
): { rows: (T & { rid: number | null })[]; counts: Map<string, number> } {
  const idColumn = q.table === 'sync_outbox' ? 'x.id' : 'x.resource_id';
  const types = db.prepare(`SELECT DISTINCT x.type FROM ${q.table} x WHERE ${q.where}`).pluck().all(...q.params) as string[];
  const rows: (T & { rid: number | null })[] = [];
  const counts = new Map<string, number>();
  for (const type of types) {
    const restriction = restrictionOf(type);
    if (restriction === false) {
      continue;
    }
    const extra = restriction ? ` AND (${restriction.sql})` : '';
    const from = `FROM ${q.table} x LEFT JOIN resource r ON r.type = x.type AND r.id = ${idColumn}
                  WHERE ${q.where} AND x.type = ?${restriction ? ` AND r.rid IS NOT NULL${extra}` : ''}`;
    const bound = [...q.params, type, ...(restriction ? restriction.params : [])];
    rows.push(...(db.prepare(`SELECT ${q.select}, r.rid AS rid ${from} ORDER BY ${q.order} LIMIT ${q.limit}`).all(...bound) as (T & { rid: number | null })[]));
    if (q.countBy) {
      for (const { key, n } of db.prepare(`SELECT ${q.countBy} AS key, COUNT(*) AS n ${from} GROUP BY ${q.countBy}`).all(...bound) as { key: string; n: number }[]) {
        counts.set(key, (counts.get(key) ?? 0) + n);
      }
    }
  }
  return { rows, counts };
}
