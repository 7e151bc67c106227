// The search entry points: findRids (conditional operations) and searchResources (searchset Bundle
// with paging links, totals, includes). Everything is filtered in SQL.
import { tryGetDataType } from '@medplum/core';
import type { Bundle, BundleEntry, BundleLink, Resource } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import { loadFhirDefinitions } from '../fhir/definitions.ts';
import type { Db, SqlFragment } from '../db/types.ts';
import { prepareCached } from '../db/statements.ts';
import { bad } from './filters.ts';
import { getParamRegistry } from './params.ts';
import { buildFilters, combine, newBuildContext, restrictCond } from './query.ts';
import type { BuildContext } from './query.ts';
import { buildOrderBy, loadIncludes, parseCount, parseIncludes, parseOffset, subset, summaryElements } from './results.ts';
import type { Row } from './results.ts';
import type { FindRids, SearchFn, SearchOptions } from './types.ts';

function isResourceType(type: string): boolean {
  loadFhirDefinitions();
  return tryGetDataType(type)?.kind === 'resource' || getParamRegistry().resourceTypes.has(type);
}

function parseQuery(query: string): [string, string][] {
  const q = query.startsWith('?') ? query.slice(1) : query;
  return [...new URLSearchParams(q)];
}

function single(entries: [string, string][], name: string): string | undefined {
  const found = entries.filter(([k]) => k === name);
  if (found.length > 1) {
    bad(name, 'may appear only once');
  }
  return found[0]?.[1];
}

interface Where {
  /** FROM clause (with its parameters, which come before the WHERE ones). */
  from: SqlFragment;
  sql: string;
  params: unknown[];
}

/** The WHERE clause of a search (type, project, liveness, access restriction, filters). */
function buildWhere(db: Db, ctx: BuildContext, resourceType: string | undefined, entries: [string, string][], mainTypeForbidden: 'throw' | 'empty'): Where | null {
  const parts: string[] = [];
  const params: unknown[] = [];
  let restriction: SqlFragment | undefined;
  const filters = buildFilters(ctx, resourceType, entries, 'r');
  const { from, conds, typeIndexDriver, driven } = combine(ctx, filters, 'r');
  if (resourceType) {
    // With an index-driven filter, keep SQLite from walking the whole type instead (unary + disables that index).
    parts.push(driven && !typeIndexDriver ? '+r.type = ?' : 'r.type = ?');
    params.push(resourceType);
    const r = restrictCond(ctx, resourceType, 'r');
    if (r === false) {
      if (mainTypeForbidden === 'throw') {
        throw errors.forbidden(`Searching ${resourceType} is not allowed`);
      }
      return null;
    }
    if (r) {
      restriction = r;
    }
  } else {
    const typesRaw = single(entries, '_type');
    const types = typesRaw ? typesRaw.split(',') : undefined;
    for (const t of types ?? []) {
      if (!isResourceType(t)) {
        bad('_type', `unknown resource type "${t}"`);
      }
    }
    if (types) {
      parts.push(`r.type IN (${types.map(() => '?').join(', ')})`);
      params.push(...types);
    }
    if (ctx.restrict) {
      const candidates = types ?? (prepareCached(db, 'SELECT DISTINCT type FROM resource WHERE project = ?').pluck().all(ctx.project) as string[]);
      const branches: SqlFragment[] = [];
      for (const t of candidates) {
        const r = restrictCond(ctx, t, 'r');
        if (r !== false) {
          branches.push(r ? { sql: `(r.type = ? AND ${r.sql})`, params: [t, ...r.params] } : { sql: 'r.type = ?', params: [t] });
        }
      }
      if (branches.length === 0) {
        return null;
      }
      restriction = { sql: `(${branches.map((b) => b.sql).join(' OR ')})`, params: branches.flatMap((b) => b.params) };
    }
  }
  parts.push('r.project = ?', 'r.deleted = 0');
  params.push(ctx.project);
  for (const c of conds) {
    parts.push(c.sql);
    params.push(...c.params);
  }
  // The access restriction last: SQLite tests WHERE terms in order, and a policy's criteria are broad
  // (keep most rows) where the search's own filters are narrow, so each row pays the policy's probes
  // only after passing the search's (a patient's vital signs under a status criteria: 2.9x -> see plans.test.ts).
  if (restriction) {
    parts.push(restriction.sql);
    params.push(...restriction.params);
  }
  return { from, sql: parts.join(' AND '), params };
}

function checkType(resourceType: string | undefined): void {
  if (resourceType !== undefined && !isResourceType(resourceType)) {
    throw errors.badRequest(`Unknown resource type "${resourceType}"`);
  }
}

export const findRids: FindRids = (db, resourceType, query, opts) => {
  checkType(resourceType);
  const entries = parseQuery(query);
  const ctx = newBuildContext({ project: opts.project });
  const where = buildWhere(db, ctx, resourceType, entries, 'empty');
  if (!where) {
    return [];
  }
  return prepareCached(db, `SELECT r.rid FROM ${where.from.sql} WHERE ${where.sql}`).pluck().all(...where.from.params, ...where.params) as number[];
};

export const searchResources: SearchFn = (db, resourceType, query, opts) => {
  checkType(resourceType);
  const entries = parseQuery(query);
  const ctx = newBuildContext({ project: opts.project, baseUrl: opts.baseUrl, restrict: opts.restrict });
  const maxCount = opts.maxCount ?? 1000;
  const count = parseCount(single(entries, '_count'), Math.min(opts.defaultCount ?? 20, maxCount), maxCount);
  const offset = parseOffset(single(entries, '_offset'));
  // As Medplum: no COUNT(*) unless `_total=accurate`; without it the total is given when it is known
  // for free (the last page), so a non-last page costs one query, not two.
  const totalMode = single(entries, '_total');
  if (totalMode !== undefined && !['accurate', 'estimate', 'none'].includes(totalMode)) {
    bad('_total', 'use accurate, estimate or none');
  }
  const summary = single(entries, '_summary');
  if (summary !== undefined && !['true', 'false', 'count', 'data', 'text'].includes(summary)) {
    bad('_summary', 'use true, false, count, data or text');
  }
  const elementsRaw = single(entries, '_elements');
  const elements = elementsRaw ? elementsRaw.split(',').map((e) => e.trim()).filter(Boolean) : undefined;
  const order = buildOrderBy(resourceType, single(entries, '_sort'));
  const includes = parseIncludes(entries);
  const where = buildWhere(db, ctx, resourceType, entries, 'throw');

  const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset' };
  const countRows = (): number => (where ? (prepareCached(db, `SELECT COUNT(*) FROM ${where.from.sql} WHERE ${where.sql}`).pluck().get(...where.from.params, ...where.params) as number) : 0);
  if (summary === 'count' || count === 0) {
    bundle.total = countRows();
    bundle.link = links(opts, resourceType, entries, offset, count, false);
    return bundle;
  }
  // Sort and page on rids only (a sorter carrying every row's JSON is several times slower), then read the page.
  const rids = where ? (prepareCached(db, pageSql(where, order, count + 1, offset)).pluck().all(...where.from.params, ...where.params, ...order.params) as number[]) : [];
  const rows = loadRows(db, rids);
  const hasMore = rows.length > count;
  const page = hasMore ? rows.slice(0, count) : rows;
  const knownTotal = !hasMore && (offset === 0 || page.length > 0);
  if (knownTotal && totalMode !== 'none') {
    bundle.total = offset + page.length;
  } else if (totalMode === 'accurate' || totalMode === 'estimate') {
    bundle.total = countRows();
  }
  const shape = (resource: Resource): Resource => {
    if (elements) {
      return subset(resource, elements);
    }
    if (summary === 'true') {
      return subset(resource, summaryElements(resource.resourceType));
    }
    if (summary === 'text') {
      return subset(resource, ['text', ...(tryGetDataType(resource.resourceType)?.mandatoryProperties ?? [])]);
    }
    if (summary === 'data') {
      const { text: _text, ...rest } = resource as Resource & { text?: unknown };
      return rest as Resource;
    }
    return resource;
  };
  const entry: BundleEntry[] = [];
  for (const row of page) {
    pushEntry(entry, opts, row, 'match', shape);
  }
  for (const row of loadIncludes(db, ctx, page, includes)) {
    pushEntry(entry, opts, row, 'include', shape);
  }
  bundle.link = links(opts, resourceType, entries, offset, count, hasMore);
  bundle.entry = entry;
  return bundle;
};

/**
 * LIMIT and OFFSET are written as literals: they are integers this module parsed, and a bound LIMIT
 * makes SQLite re-plan the statement on every run (tens of microseconds, more than a selective search).
 */
function pageSql(where: Where, order: SqlFragment, limit: number, offset: number): string {
  if (!Number.isSafeInteger(limit) || !Number.isSafeInteger(offset)) {
    throw errors.badRequest('Invalid _count or _offset');
  }
  return `SELECT r.rid FROM ${where.from.sql} WHERE ${where.sql} ORDER BY ${order.sql} LIMIT ${limit} OFFSET ${offset}`;
}

/** The rows of `rids`, in that order. */
export function loadRows(db: Db, rids: number[]): Row[] {
  if (rids.length === 0) {
    return [];
  }
  return prepareCached(db, 'SELECT r.rid, r.type, r.id, r.content FROM json_each(?) j CROSS JOIN resource r ON r.rid = j.value ORDER BY j.key').all(
    JSON.stringify(rids),
  ) as Row[];
}

/** The SQL and parameters of a search's page query (for EXPLAIN QUERY PLAN in tests and diagnostics). */
export function explainableSearch(db: Db, resourceType: string | undefined, query: string, opts: SearchOptions): { sql: string; params: unknown[] } {
  checkType(resourceType);
  const entries = parseQuery(query);
  const ctx = newBuildContext({ project: opts.project, baseUrl: opts.baseUrl, restrict: opts.restrict });
  const order = buildOrderBy(resourceType, single(entries, '_sort'));
  const where = buildWhere(db, ctx, resourceType, entries, 'throw');
  if (!where) {
    throw errors.forbidden();
  }
  return { sql: pageSql(where, order, 20, 0), params: [...where.from.params, ...where.params, ...order.params] };
}

/** Adds the row's entry as the caller may hand it out (opts.present); a row it refuses is left out. */
function pushEntry(out: BundleEntry[], opts: SearchOptions, row: Row, mode: 'match' | 'include', shape: (r: Resource) => Resource): void {
  const shaped = shape(JSON.parse(row.content) as Resource);
  const resource = opts.present ? opts.present(shaped, row.rid) : shaped;
  if (resource) {
    out.push({ fullUrl: `${opts.baseUrl}${row.type}/${row.id}`, resource, search: { mode } });
  }
}

function links(opts: SearchOptions, resourceType: string | undefined, entries: [string, string][], offset: number, count: number, hasMore: boolean): BundleLink[] {
  const base = resourceType ? `${opts.baseUrl}${resourceType}` : opts.baseUrl.replace(/\/$/, '');
  const url = (newOffset: number): string => {
    const q = new URLSearchParams(entries.filter(([k]) => k !== '_offset' && k !== '_count'));
    q.append('_count', String(count));
    if (newOffset > 0) {
      q.append('_offset', String(newOffset));
    }
    return `${base}?${q.toString()}`;
  };
  const out: BundleLink[] = [{ relation: 'self', url: url(offset) }];
  if (hasMore) {
    out.push({ relation: 'next', url: url(offset + count) });
  }
  if (offset > 0) {
    out.push({ relation: 'previous', url: url(Math.max(0, offset - count)) });
  }
  return out;
}
