// Db-first lookups of stored resources by their identity, for the layers that must see a row whatever a
// session may (the enforcement point deciding visibility, sync comparing versions, audit routing). The
// statements are prepared once per connection (prepareCached). Every query here is index-driven: the
// EXPLAIN QUERY PLAN tests in test/db/queries.test.ts hold each to its index.
import { prepareCached } from './statements.ts';
import type { Db, SqlFragment } from './types.ts';

/** A `resource` row: the current version (content is the last live one when deleted). */
export interface ResourceRow {
  rid: number;
  type: string;
  id: string;
  project: string;
  version: number;
  deleted: number;
  content: string;
}

export function resourceRow(db: Db, type: string, id: string): ResourceRow | undefined {
  return prepareCached(db, 'SELECT rid, type, id, project, version, deleted, content FROM resource WHERE type = ? AND id = ?').get(type, id) as
    | ResourceRow
    | undefined;
}

export function resourceRowByRid(db: Db, rid: number): ResourceRow | undefined {
  return prepareCached(db, 'SELECT rid, type, id, project, version, deleted, content FROM resource WHERE rid = ?').get(rid) as ResourceRow | undefined;
}

/** The rid of a stored resource, live or deleted. */
export function ridOf(db: Db, type: string, id: string): number | undefined {
  return prepareCached(db, 'SELECT rid FROM resource WHERE type = ? AND id = ?').pluck().get(type, id) as number | undefined;
}

/** The project a stored resource lives in (live or deleted). */
export function storedProject(db: Db, type: string, id: string): string | undefined {
  return prepareCached(db, 'SELECT project FROM resource WHERE type = ? AND id = ?').pluck().get(type, id) as string | undefined;
}

/** The current version of a live resource, parsed; `project` given: only in that project. */
export function liveResource<T>(db: Db, type: string, id: string, project?: string): T | undefined {
  const content = prepareCached(db, 'SELECT content FROM resource WHERE type = ? AND id = ? AND deleted = 0 AND (? IS NULL OR project = ?)')
    .pluck()
    .get(type, id, project ?? null, project ?? null) as string | undefined;
  return content === undefined ? undefined : (JSON.parse(content) as T);
}

/** A live resource by its 'Type/id' reference. */
export function liveReference<T>(db: Db, reference: string | undefined, project?: string): T | undefined {
  const [type, id, ...rest] = (reference ?? '').split('/');
  return type && id && rest.length === 0 ? liveResource<T>(db, type, id, project) : undefined;
}

/** The Patient compartments of the current row `rid` (its compartment index rows). */
export function patientCompartments(db: Db, rid: number): string[] {
  return prepareCached(db, "SELECT ref_id FROM compartment INDEXED BY compartment_rid WHERE rid = ? AND ref_type = 'Patient'").pluck().all(rid) as string[];
}

/** Resource types stored in a project; `live`: those with at least one live resource. Sorted. */
export function typesInProject(db: Db, project: string, options: { live?: boolean } = {}): string[] {
  // The distinct types by seeks on the (type, id) index (a skip scan: one probe per type, not a pass
  // over every row), then per type whether the project has a row there.
  return prepareCached(
    db,
    `WITH RECURSIVE t(type) AS (
       SELECT min(type) FROM resource
       UNION ALL SELECT (SELECT min(type) FROM resource WHERE type > t.type) FROM t WHERE t.type IS NOT NULL
     )
     SELECT t.type FROM t
      WHERE t.type IS NOT NULL AND EXISTS (SELECT 1 FROM resource r WHERE r.type = t.type AND r.project = ? AND (? = 0 OR r.deleted = 0))
      ORDER BY t.type`,
  )
    .pluck()
    .all(project, options.live ? 1 : 0) as string[];
}

/** Does the live current row `rid` satisfy `fragment` (an access condition over `resource r`)? */
export function rowSatisfies(db: Db, rid: number, fragment: SqlFragment): boolean {
  return prepareCached(db, `SELECT 1 FROM resource r WHERE r.rid = ? AND r.deleted = 0 AND (${fragment.sql})`).get(rid, ...fragment.params) !== undefined;
}

/** Any Project or User stored at all (an empty data folder needs first-run setup). */
export function anyProjectOrUser(db: Db): boolean {
  return prepareCached(db, "SELECT 1 FROM resource WHERE type IN ('Project', 'User') LIMIT 1").get() !== undefined;
}

/** Every live Project: id and name, oldest first. */
export function liveProjects(db: Db): { id: string; name: string | null }[] {
  return prepareCached(db, "SELECT id, json_extract(content, '$.name') AS name FROM resource WHERE type = 'Project' AND deleted = 0 ORDER BY rid").all() as {
    id: string;
    name: string | null;
  }[];
}
