// Result control: _sort (to ORDER BY), _count/_offset, _elements/_summary (resource subsets),
// _include/_revinclude (extra SQL lookups from the page's rids, access-restricted per type).
import { tryGetDataType } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import type { Db, SqlFragment } from '../db/types.ts';
import { prepareCached } from '../db/statements.ts';
import { bad } from './filters.ts';
import { getParamRegistry } from './params.ts';
import { storedPids } from './shared-rows.ts';
import { restrictCond } from './query.ts';
import type { BuildContext } from './query.ts';

export interface Row {
  rid: number;
  type: string;
  id: string;
  content: string;
}

const SORT_SQL: Record<string, { table: string; index: string; asc: string; desc: string }> = {
  // NULLIF: the '' rows are presence markers (see indexer.ts), not values.
  token: { table: 'idx_token', index: 'idx_token_rid', asc: "MIN(NULLIF(code, ''))", desc: "MAX(NULLIF(code, ''))" },
  uri: { table: 'idx_token', index: 'idx_token_rid', asc: "MIN(NULLIF(code, ''))", desc: "MAX(NULLIF(code, ''))" },
  string: { table: 'idx_string', index: 'idx_string_rid', asc: "MIN(NULLIF(norm, ''))", desc: "MAX(NULLIF(norm, ''))" },
  reference: { table: 'idx_ref', index: 'idx_ref_rid', asc: "MIN(NULLIF(ref_id, ''))", desc: "MAX(NULLIF(ref_id, ''))" },
  date: { table: 'idx_date', index: 'idx_date_rid', asc: 'MIN(lo)', desc: 'MAX(hi)' },
  number: { table: 'idx_number', index: 'idx_number_rid', asc: 'MIN(value)', desc: 'MAX(value)' },
  quantity: { table: 'idx_quantity', index: 'idx_quantity_rid', asc: 'MIN(value)', desc: 'MAX(value)' },
};

/** ORDER BY for `_sort` (comma-separated, `-` = descending); resources without a value sort last; ties by rid. */
export function buildOrderBy(resourceType: string | undefined, sort: string | undefined): SqlFragment {
  const parts: string[] = [];
  const params: unknown[] = [];
  const keys = sort ? sort.split(',') : [];
  if (keys.length > 10) {
    throw errors.badRequest('Invalid _sort: at most 10 keys', '_sort');
  }
  for (const raw of keys) {
    const desc = raw.startsWith('-');
    const code = desc ? raw.slice(1) : raw;
    const dir = desc ? ' DESC' : '';
    if (code === '_id') {
      parts.push(`r.id${dir}`);
    } else if (code === '_lastUpdated') {
      parts.push(`r.last_updated${dir}`);
    } else {
      const def = getParamRegistry().get(resourceType ?? 'Resource', code);
      const s = def && SORT_SQL[def.type];
      if (!def || !s || !def.expression) {
        throw errors.badRequest(`Invalid _sort: cannot sort by "${code}"`, '_sort');
      }
      // Dates are stored under pid (short ranges) and -pid (long ones).
      const stored = storedPids(def);
      const pids = def.type === 'date' ? stored.flatMap((pid) => [pid, -pid]) : stored;
      const expr = `(SELECT ${desc ? s.desc : s.asc} FROM ${s.table} INDEXED BY ${s.index} WHERE rid = r.rid AND pid IN (${pids.map(() => '?').join(', ')}))`;
      // One evaluation of the key per row (NULLS LAST, not a separate `IS NULL` key computing it twice).
      parts.push(`${expr}${dir} NULLS LAST`);
      params.push(...pids);
    }
  }
  // Ties by rid, in the direction of the last key (so an index on (type, last_updated) also gives the order).
  parts.push(sort?.split(',').pop()?.startsWith('-') ? 'r.rid DESC' : 'r.rid');
  return { sql: parts.join(', '), params };
}

export function parseCount(raw: string | undefined, defaultCount: number, maxCount: number): number {
  if (raw === undefined) {
    return defaultCount;
  }
  if (!/^\d+$/.test(raw)) {
    bad('_count', `"${raw}" is not a non-negative integer`);
  }
  return Math.min(Number(raw), maxCount);
}

export function parseOffset(raw: string | undefined): number {
  if (raw === undefined) {
    return 0;
  }
  if (!/^\d{1,9}$/.test(raw)) {
    bad('_offset', `"${raw}" is not a non-negative integer`);
  }
  return Number(raw);
}

/** The resource reduced to `_elements` (plus id, meta, resourceType), tagged SUBSETTED as FHIR asks. */
export function subset(resource: Resource, elements: string[]): Resource {
  const keep = new Set(['resourceType', 'id', 'meta', ...elements]);
  const schema = tryGetDataType(resource.resourceType);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(resource)) {
    const base = k.startsWith('_') ? k.slice(1) : k;
    const choice = Object.keys(schema?.elements ?? {}).find((e) => e.endsWith('[x]') && base.startsWith(e.slice(0, -3)) && keep.has(e.slice(0, -3)));
    if (keep.has(base) || choice) {
      out[k] = v;
    }
  }
  const meta = (out.meta ?? {}) as { tag?: unknown[] };
  out.meta = { ...meta, tag: [...(meta.tag ?? []), { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' }] };
  return out as unknown as Resource;
}

/** `_summary=true`: the summary elements of the type (from its StructureDefinition). */
export function summaryElements(resourceType: string): string[] {
  return [...(tryGetDataType(resourceType)?.summaryProperties ?? [])];
}

interface IncludeSpec {
  sourceType: string;
  code: string;
  targetType?: string;
  iterate: boolean;
  reverse: boolean;
}

export function parseIncludes(entries: [string, string][]): IncludeSpec[] {
  const specs: IncludeSpec[] = [];
  for (const [key, value] of entries) {
    const [name, modifier] = key.split(':');
    if (name !== '_include' && name !== '_revinclude') {
      continue;
    }
    if (modifier !== undefined && modifier !== 'iterate' && modifier !== 'recurse') {
      bad(name, `modifier :${modifier} is not supported`);
    }
    const reverse = name === '_revinclude';
    const iterate = modifier !== undefined;
    if (value === '*') {
      specs.push({ sourceType: '*', code: '*', iterate, reverse });
      continue;
    }
    const [sourceType, code, targetType, ...extra] = value.split(':');
    if (!sourceType || !code || extra.length || !getParamRegistry().resourceTypes.has(sourceType)) {
      bad(name, `"${value}" is not Type:parameter[:targetType]`);
    }
    if (code !== '*') {
      const def = getParamRegistry().get(sourceType, code);
      if (!def || def.type !== 'reference') {
        bad(name, `${sourceType} has no reference parameter "${code}"`);
      }
    }
    if (targetType !== undefined && !getParamRegistry().resourceTypes.has(targetType)) {
      bad(name, `unknown resource type ${targetType}`);
    }
    specs.push({ sourceType, code, targetType, iterate, reverse });
  }
  return specs;
}

function referenceParams(type: string, code: string): { pid: number; targets: string[] }[] {
  const defs = [...getParamRegistry().forType(type).values()].filter((d) => d.type === 'reference' && d.expression && (code === '*' || d.code === code));
  return defs.map((d) => ({ pid: d.pid, targets: d.target.length ? d.target : [...getParamRegistry().resourceTypes] }));
}

/** Visibility of included rows under alias t, for the types they may have. null: nothing may be included. */
function visibleTypes(ctx: BuildContext, types: string[], alias: string): SqlFragment | null {
  if (!ctx.restrict) {
    return { sql: '1', params: [] };
  }
  const branches: SqlFragment[] = [];
  for (const type of new Set(types)) {
    const r = restrictCond(ctx, type, alias);
    if (r === false) {
      continue;
    }
    branches.push(r ? { sql: `(${alias}.type = ? AND ${r.sql})`, params: [type, ...r.params] } : { sql: `${alias}.type = ?`, params: [type] });
  }
  return branches.length ? { sql: `(${branches.map((b) => b.sql).join(' OR ')})`, params: branches.flatMap((b) => b.params) } : null;
}

/** Rows brought in by _include/_revinclude for the page `matches` (each at most once, never a match again). */
export function loadIncludes(db: Db, ctx: BuildContext, matches: Row[], specs: IncludeSpec[]): Row[] {
  if (specs.length === 0 || matches.length === 0) {
    return [];
  }
  const seen = new Set(matches.map((m) => m.rid));
  const included: Row[] = [];
  let frontier = matches;
  for (let round = 0; round < 5 && frontier.length; round++) {
    const found: Row[] = [];
    for (const spec of specs) {
      if (round > 0 && !spec.iterate) {
        continue;
      }
      const rows = spec.reverse ? revInclude(db, ctx, frontier, spec) : include(db, ctx, frontier, spec);
      for (const row of rows) {
        if (!seen.has(row.rid)) {
          seen.add(row.rid);
          found.push(row);
        }
      }
    }
    included.push(...found);
    frontier = found;
  }
  return included;
}

function include(db: Db, ctx: BuildContext, frontier: Row[], spec: IncludeSpec): Row[] {
  const out: Row[] = [];
  const sourceTypes = spec.sourceType === '*' ? [...new Set(frontier.map((f) => f.type))] : [spec.sourceType];
  for (const sourceType of sourceTypes) {
    const rids = frontier.filter((f) => f.type === sourceType).map((f) => f.rid);
    if (rids.length === 0) {
      continue;
    }
    for (const p of referenceParams(sourceType, spec.code)) {
      const targets = spec.targetType ? p.targets.filter((t) => t === spec.targetType) : p.targets;
      const visible = visibleTypes(ctx, targets, 't');
      if (!visible || targets.length === 0) {
        continue;
      }
      const typeCond = spec.targetType ? ' AND t.type = ?' : '';
      // Fixed join order: from the page's rids to their references to the referenced rows.
      const sql = `SELECT t.rid, t.type, t.id, t.content FROM json_each(?) j
        CROSS JOIN idx_ref x INDEXED BY idx_ref_rid ON x.rid = j.value AND x.pid = ?
        CROSS JOIN resource t INDEXED BY resource_type_id ON t.type = x.ref_type AND t.id = x.ref_id
        WHERE t.project = ? AND t.deleted = 0${typeCond} AND ${visible.sql}`;
      const params = [JSON.stringify(rids), p.pid, ctx.project, ...(spec.targetType ? [spec.targetType] : []), ...visible.params];
      out.push(...(prepareCached(db, sql).all(...params) as Row[]));
    }
  }
  return out;
}

function revInclude(db: Db, ctx: BuildContext, frontier: Row[], spec: IncludeSpec): Row[] {
  const out: Row[] = [];
  const sources = spec.sourceType === '*' ? [...getParamRegistry().resourceTypes] : [spec.sourceType];
  const frontierTypes = new Set(frontier.map((f) => f.type));
  for (const sourceType of sources) {
    const visible = visibleTypes(ctx, [sourceType], 't');
    if (!visible) {
      continue;
    }
    for (const p of referenceParams(sourceType, spec.code)) {
      if (!p.targets.some((t) => frontierTypes.has(t)) || (spec.targetType && !frontierTypes.has(spec.targetType))) {
        continue;
      }
      const typeCond = spec.targetType ? ' AND p.type = ?' : '';
      // Fixed join order: from the page's rows to the references pointing at them to the referring rows.
      const sql = `SELECT t.rid, t.type, t.id, t.content FROM json_each(?) j
        CROSS JOIN resource p ON p.rid = j.value
        CROSS JOIN idx_ref x ON x.pid = ? AND x.ref_id = p.id AND x.ref_type = p.type
        CROSS JOIN resource t ON t.rid = x.rid
        WHERE t.type = ? AND t.project = ? AND t.deleted = 0${typeCond} AND ${visible.sql}`;
      const params = [JSON.stringify(frontier.map((f) => f.rid)), p.pid, sourceType, ctx.project, ...(spec.targetType ? [spec.targetType] : []), ...visible.params];
      out.push(...(prepareCached(db, sql).all(...params) as Row[]));
    }
  }
  return out;
}
