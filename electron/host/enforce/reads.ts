// Read-type interactions through the enforcement point: read / vread (404 when invisible, 410 when
// deleted), search (filtered in SQL by the search module's `restrict` hook, so totals, paging, sort
// and includes stay exact; hidden-field parameters refused) and history (the same restriction).
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import { historyLinks } from '../store/reads.ts';
import type { CallContext, HistoryQuery } from '../store/types.ts';
import type { Enforcer } from './context.ts';

export function readAs<T extends Resource>(e: Enforcer, interaction: 'read' | 'vread', type: string, id: string, versionId?: string, callCtx?: CallContext): T {
  e.requireType(type, interaction);
  const row = e.row(type, id);
  if (!row) {
    throw errors.notFound(`${type}/${id} not found`);
  }
  if (row.deleted && interaction === 'read') {
    throw errors.gone(`${type}/${id} was deleted`);
  }
  // Visibility is decided on the current version (a deleted resource has no index rows: invisible).
  const entry = e.governing(type, interaction, row.rid);
  if (!entry) {
    throw errors.notFound(`${type}/${id} not found`);
  }
  const resource =
    interaction === 'read'
      ? (JSON.parse(row.content) as T)
      : e.deps.store.vread<T>(type, id, versionId ?? '', { ...e.ctx(callCtx), project: row.project });
  return e.present(resource, entry);
}

function ridsOf(e: Enforcer, entries: BundleEntry[]): Map<string, number> {
  const keys = entries.filter((x) => x.resource?.id).map((x) => `${x.resource?.resourceType}/${x.resource?.id}`);
  const out = new Map<string, number>();
  if (keys.length === 0) {
    return out;
  }
  const rows = e.db
    .prepare("SELECT r.type || '/' || r.id AS k, r.rid FROM json_each(?) j JOIN resource r ON r.type = substr(j.value, 1, instr(j.value, '/') - 1) AND r.id = substr(j.value, instr(j.value, '/') + 1)")
    .all(JSON.stringify(keys)) as { k: string; rid: number }[];
  for (const row of rows) {
    out.set(row.k, row.rid);
  }
  return out;
}

/** Masks each resource of a Bundle by the entry governing it (the first entry its stored row matches). */
export function maskEntries(e: Enforcer, bundle: Bundle, interaction: 'search' | 'history'): Bundle {
  const entries = bundle.entry ?? [];
  if (entries.length === 0) {
    return bundle;
  }
  const rids = ridsOf(e, entries);
  const out: BundleEntry[] = [];
  for (const item of entries) {
    const r = item.resource;
    if (!r) {
      out.push(item);
      continue;
    }
    const candidates = e.entries(r.resourceType, interaction);
    const sameMasks = candidates.every((c) => c.hiddenFields.join('\u0000') === candidates[0]?.hiddenFields.join('\u0000'));
    const rid = rids.get(`${r.resourceType}/${r.id}`);
    const entry = sameMasks ? candidates[0] : rid !== undefined ? e.governing(r.resourceType, interaction, rid) : undefined;
    if (!entry) {
      continue; // fail closed: nothing governs it (cannot happen for rows the SQL let through)
    }
    out.push({ ...item, resource: e.present(r, entry) });
  }
  return { ...bundle, entry: out };
}

export function searchAs(e: Enforcer, type: string | undefined, query: string, callCtx?: CallContext): Bundle {
  const pairs = [...new URLSearchParams(query)];
  if (type !== undefined) {
    e.requireType(type, 'search');
    e.p.guard.assertAllowed(type, pairs);
  } else {
    for (const t of (pairs.find(([k]) => k === '_type')?.[1] ?? '').split(',').filter(Boolean)) {
      e.requireType(t, 'search');
      e.p.guard.assertAllowed(t, pairs.filter(([k]) => k.startsWith('_')));
    }
  }
  // A project's Project resource belongs to itself (Medplum: Project.meta.project is its own id); one
  // written into another project (older data folders, the default project) is searched where it lives.
  // Either way e.restrict('Project') keeps the search to that one resource.
  const project = type === 'Project' ? (e.storedProject('Project', e.p.project) ?? e.p.project) : e.p.project;
  const bundle = e.deps.store.search(type, query, {
    ...e.ctx(callCtx),
    project,
    search: { restrict: (t) => e.restrict(t, 'search') },
  });
  return maskEntries(e, bundle, 'search');
}

const DEFAULT_COUNT = 100;
const MAX_COUNT = 1000;

/** History: instance (the resource must be visible now), type and system (rows filtered in SQL). */
export function historyAs(e: Enforcer, query: HistoryQuery, callCtx?: CallContext): Bundle {
  const { resourceType: type, id } = query;
  if (type !== undefined) {
    e.requireType(type, 'history');
  }
  if (type !== undefined && id !== undefined) {
    const row = e.row(type, id);
    const entry = row ? e.governing(type, 'history', row.rid) : undefined;
    if (!row || !entry) {
      throw errors.notFound(`${type}/${id} not found`);
    }
    const bundle = e.deps.store.history(query, { ...e.ctx(callCtx), project: row.project });
    return { ...bundle, entry: (bundle.entry ?? []).map((x) => (x.resource ? { ...x, resource: e.present(x.resource, entry) } : x)) };
  }
  const types = type !== undefined ? [type] : (e.db.prepare('SELECT DISTINCT type FROM resource WHERE project = ?').pluck().all(e.p.project) as string[]);
  const conds: string[] = [];
  const params: unknown[] = [];
  for (const t of types) {
    const r = e.restrict(t, 'history');
    if (r === false) {
      continue;
    }
    conds.push(r === null ? 'r.type = ?' : `(r.type = ? AND r.deleted = 0 AND (${r.sql}))`);
    params.push(t, ...(r === null ? [] : r.params));
  }
  const base = (callCtx?.baseUrl ?? 'http://localhost/fhir/R4/').replace(/\/?$/, '/');
  const count = Math.min(Math.max(Math.trunc(query.count ?? DEFAULT_COUNT), 1), MAX_COUNT);
  const offset = Math.max(Math.trunc(query.offset ?? 0), 0);
  if (!Number.isFinite(count) || !Number.isFinite(offset)) {
    throw errors.badRequest('Invalid _count or offset');
  }
  let since: number | undefined;
  if (query.since !== undefined) {
    since = Date.parse(query.since);
    if (Number.isNaN(since)) {
      throw errors.badRequest(`Invalid _since: ${query.since.slice(0, 64)}`, '_since');
    }
  }
  const rows = conds.length
    ? (e.db
        .prepare(
          `SELECT r.rid, r.type, r.id, h.version, h.last_updated, h.deleted, h.method,
                  CASE WHEN h.deleted = 1 THEN NULL ELSE coalesce(h.content, r.content) END AS content
             FROM resource_history h JOIN resource r ON r.rid = h.rid
            WHERE r.project = ? AND (${conds.join(' OR ')}) ${since !== undefined ? 'AND h.last_updated >= ?' : ''}
            ORDER BY h.last_updated DESC, h.rid DESC, h.version DESC LIMIT ? OFFSET ?`,
        )
        .all(e.p.project, ...params, ...(since !== undefined ? [since] : []), count + 1, offset) as HistoryRow[])
    : [];
  const entry: BundleEntry[] = [];
  for (const row of rows.slice(0, count)) {
    const governing = row.content === null ? undefined : e.governing(row.type, 'history', row.rid) ?? (e.restrict(row.type, 'history') === null ? e.entries(row.type, 'history')[0] : undefined);
    entry.push({
      fullUrl: `${base}${row.type}/${row.id}`,
      ...(row.content !== null && governing ? { resource: e.present(JSON.parse(row.content) as Resource, governing) } : {}),
      request: { method: row.method as 'POST', url: row.method === 'POST' ? row.type : `${row.type}/${row.id}` },
      response: {
        status: row.deleted ? '204 No Content' : row.version === 1 || row.method === 'POST' ? '201 Created' : '200 OK',
        etag: `W/"${row.version}"`,
        lastModified: new Date(row.last_updated).toISOString(),
      },
    });
  }
  const path = type === undefined ? '_history' : `${type}/_history`;
  const links = historyLinks(`${base}${path}`, query.since, count, offset, rows.length > count);
  return { resourceType: 'Bundle', type: 'history', link: links, entry };
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
