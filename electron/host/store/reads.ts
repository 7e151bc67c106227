// Read, vread and history (instance, type and system level) straight from the resource and
// resource_history tables.
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import { baseUrlOf, parseContent, projectOf, type StoreCore } from './core.ts';
import type { SearchOptions } from '../search/types.ts';
import type { CallContext, HistoryQuery } from './types.ts';
import { typesInProject } from '../db/resources.ts';
import { assertResourceType } from './validation.ts';

const DEFAULT_HISTORY_COUNT = 100;
const MAX_HISTORY_COUNT = 1000;

export function readResource<T extends Resource>(core: StoreCore, resourceType: string, id: string, ctx: CallContext | undefined): T {
  assertResourceType(resourceType);
  const row = core.sql.byTypeId.get(resourceType, id);
  if (!row || (ctx?.project !== undefined && row.project !== ctx.project)) {
    throw errors.notFound(`${resourceType}/${id} not found`);
  }
  if (row.deleted) {
    throw errors.gone(`${resourceType}/${id} was deleted`);
  }
  return parseContent<T>(row.content);
}

export function vreadResource<T extends Resource>(
  core: StoreCore,
  resourceType: string,
  id: string,
  versionId: string,
  ctx: CallContext | undefined,
): T {
  assertResourceType(resourceType);
  const version = /^\d{1,15}$/.test(versionId) ? Number(versionId) : NaN;
  const row = Number.isNaN(version) ? undefined : core.sql.version.get(resourceType, id, version);
  if (!row || (ctx?.project !== undefined && row.project !== ctx.project)) {
    throw errors.notFound(`${resourceType}/${id}/_history/${versionId} not found`);
  }
  if (row.deleted) {
    throw errors.gone(`${resourceType}/${id}/_history/${versionId} is a deletion`);
  }
  return parseContent<T>(row.content ?? row.current);
}

interface HistoryRow {
  rid: number;
  type: string;
  id: string;
  version: number;
  last_updated: number;
  deleted: number;
  method: string;
  content: string | null;
}

function parseSince(since: string): number {
  // FHIR instant (or at least a full date); Date.parse accepts more, but never an empty or random string.
  if (!/^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.test(since)) {
    throw errors.badRequest(`Invalid _since: ${since.slice(0, 64)}`, '_since');
  }
  const ms = Date.parse(since);
  if (Number.isNaN(ms)) {
    throw errors.badRequest(`Invalid _since: ${since.slice(0, 64)}`, '_since');
  }
  return ms;
}

function statusOf(row: HistoryRow): string {
  if (row.deleted) {
    return '204 No Content';
  }
  return row.version === 1 || row.method === 'POST' ? '201 Created' : '200 OK';
}

/** A history Bundle, newest first, with a `next` link (same query, next offset) while more remain. */
/**
 * The self, next and previous links of a history page (`count` per page from `offset`), keeping `_since`,
 * so following them works for instance, type and system history alike.
 */
export function historyLinks(url: string, since: string | undefined, count: number, offset: number, hasMore: boolean): Bundle['link'] {
  const link = (off: number): string => {
    const qs = new URLSearchParams();
    if (since !== undefined) {
      qs.set('_since', since);
    }
    qs.set('_count', String(count));
    if (off > 0) {
      qs.set('_offset', String(off));
    }
    return `${url}?${qs.toString()}`;
  };
  const links: Bundle['link'] = [{ relation: 'self', url: link(offset) }];
  if (hasMore) {
    links.push({ relation: 'next', url: link(offset + count) });
  }
  if (offset > 0) {
    links.push({ relation: 'previous', url: link(Math.max(offset - count, 0)) });
  }
  return links;
}

/**
 * History of one resource, a type or the whole project, newest first. With an access hook in
 * `ctx.search` (the enforcement point's): `restrict` keeps type and system history to the rows the
 * role's search shows (a type it may not use is left out; a restricted type shows only resources
 * visible now, so a deleted one's versions too), and `present` masks every version as the role reads
 * it. Instance history is decided by the caller (the resource must be visible now) and masked here.
 */
export function history(core: StoreCore, query: HistoryQuery, ctx: CallContext | undefined): Bundle {
  const where: string[] = [];
  const params: unknown[] = [];
  const restrict = ctx?.search?.restrict;
  const present = ctx?.search?.present;
  if (query.resourceType !== undefined) {
    assertResourceType(query.resourceType);
  }
  if (query.id !== undefined) {
    if (query.resourceType === undefined) {
      throw errors.badRequest('Instance history needs a resource type');
    }
    const row = core.sql.byTypeId.get(query.resourceType, query.id);
    if (!row || (ctx?.project !== undefined && row.project !== ctx.project)) {
      throw errors.notFound(`${query.resourceType}/${query.id} not found`);
    }
    where.push('r.type = ? AND r.id = ?');
    params.push(query.resourceType, query.id);
  } else {
    const project = projectOf(core, ctx);
    where.push('r.project = ?');
    params.push(project);
    if (restrict) {
      const types = query.resourceType !== undefined ? [query.resourceType] : typesInProject(core.db, project);
      const visible = typeConditions(types, restrict);
      where.push(visible.sql);
      params.push(...visible.params);
    } else if (query.resourceType !== undefined) {
      where.push('r.type = ?');
      params.push(query.resourceType);
    }
  }
  if (query.since !== undefined) {
    where.push('h.last_updated >= ?');
    params.push(parseSince(query.since));
  }
  const count = Math.min(Math.max(Math.trunc(query.count ?? DEFAULT_HISTORY_COUNT), 1), MAX_HISTORY_COUNT);
  const offset = Math.max(Math.trunc(query.offset ?? 0), 0);
  if (!Number.isFinite(count) || !Number.isFinite(offset)) {
    throw errors.badRequest('Invalid _count or offset');
  }
  const rows = core.db
    .prepare(
      `SELECT r.rid, r.type, r.id, h.version, h.last_updated, h.deleted, h.method,
              CASE WHEN h.deleted = 1 THEN NULL ELSE coalesce(h.content, r.content) END AS content
         FROM resource_history h JOIN resource r ON r.rid = h.rid
        WHERE ${where.join(' AND ')}
        ORDER BY h.last_updated DESC, h.rid DESC, h.version DESC
        LIMIT ? OFFSET ?`,
    )
    .all(...params, count + 1, offset) as HistoryRow[];

  const base = baseUrlOf(core, ctx);
  const entries: BundleEntry[] = rows.slice(0, count).map((row) => {
    const lastModified = new Date(row.last_updated).toISOString();
    const stored = row.content !== null ? parseContent<Resource>(row.content) : undefined;
    const resource = stored && present ? present(stored, row.rid) : stored;
    return {
      fullUrl: `${base}${row.type}/${row.id}`,
      ...(resource ? { resource } : {}),
      request: { method: row.method as 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: row.method === 'POST' ? row.type : `${row.type}/${row.id}` },
      response: { status: statusOf(row), etag: `W/"${row.version}"`, lastModified },
    };
  });

  const path = query.resourceType === undefined ? '_history' : query.id === undefined ? `${query.resourceType}/_history` : `${query.resourceType}/${query.id}/_history`;
  const links = historyLinks(`${base}${path}`, query.since, count, offset, rows.length > count);
  return { resourceType: 'Bundle', type: 'history', link: links, entry: entries };
}

/** The OR over `types` of each type's visible rows: all of an unrestricted type, the live restricted ones of another. */
function typeConditions(types: string[], restrict: NonNullable<SearchOptions['restrict']>): { sql: string; params: unknown[] } {
  const conds: string[] = [];
  const params: unknown[] = [];
  for (const t of types) {
    const r = restrict(t);
    if (r === false) {
      continue;
    }
    conds.push(r === null ? 'r.type = ?' : `(r.type = ? AND r.deleted = 0 AND (${r.sql}))`);
    params.push(t, ...(r === null ? [] : r.params));
  }
  return conds.length ? { sql: `(${conds.join(' OR ')})`, params } : { sql: '0', params: [] };
}
