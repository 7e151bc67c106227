// Compiles the filter part of a FHIR search (every parameter that is not result control) into SQL
// over `resource <alias>`: plain parameters, chains, reverse chains (_has), _id, _lastUpdated,
// _compartment, with the access-control hook applied to every resource a condition looks at.
// The most selective positive condition is written as an index-driven `IN (...)` lookup; the others
// as correlated EXISTS probes through each index table's (rid, pid) index.
import { splitSearchOnComma } from '@medplum/core';
import { errors } from '../../../shared/errors.ts';
import { boundsSql, dateBounds, intersectBounds } from './dates.ts';
import { bad, buildIndexPredicate, compositePredicate, parseDateValue, splitPrefix, storedDateConds } from './filters.ts';
import type { IndexPredicate } from './filters.ts';
import type { SqlFragment } from '../db/types.ts';
import { LIVE_INDEX } from './live-index.ts';
import { assertModifier, RESULT_PARAMS, splitParamKey, UNSUPPORTED_PARAMS } from './grammar.ts';
import { getParamRegistry } from './params.ts';
import type { ParamDef } from './params.ts';
import type { SearchOptions } from './types.ts';
import { parseReferenceString } from './values.ts';

export interface BuildContext {
  project: string;
  baseUrl?: string;
  restrict?: SearchOptions['restrict'];
  /** Source of unique table aliases for nested subqueries. */
  nextAlias: () => string;
}

export function newBuildContext(opts: { project: string; baseUrl?: string; restrict?: SearchOptions['restrict'] }): BuildContext {
  let n = 0;
  return { ...opts, nextAlias: () => `a${++n}` };
}

/**
 * One compiled filter: `check` is always valid; `driver` is an equivalent form that an index can
 * drive; `set`, when present, is a SELECT of the distinct matching rids that the query joins from
 * (a fixed join order, so the plan does not depend on table statistics).
 */
export interface Built {
  check: SqlFragment;
  driver?: SqlFragment;
  set?: SqlFragment;
  rank: number;
  /** The driver needs the resource(type, ...) indexes usable (r.type compared plainly). */
  typeIndexDriver?: boolean;
  /** `check` on another expression of the same rid (the driving set's), for filters that only look at index tables. */
  probeOn?: (rid: string) => SqlFragment;
}

/** Result-control and format parameters: not filters. */


const RID_INDEX: Record<string, string> = {
  idx_token: 'idx_token_rid',
  idx_string: 'idx_string_rid',
  idx_ref: 'idx_ref_rid',
  idx_date: 'idx_date_rid',
  idx_number: 'idx_number_rid',
  idx_quantity: 'idx_quantity_rid',
  idx_composite: 'idx_composite_rid',
  compartment: 'compartment_rid',
};

function ors(conds: SqlFragment[]): SqlFragment {
  return { sql: conds.map((c) => `(${c.sql})`).join(' OR '), params: conds.flatMap((c) => c.params) };
}

function fromIndexPredicate(p: IndexPredicate, alias: string): Built {
  const pids = p.pid === null ? [] : typeof p.pid === 'number' ? [p.pid] : p.pid;
  const pidSql = pids.length === 0 ? '' : pids.length === 1 ? 'pid = ? AND ' : `pid IN (${pids.map(() => '?').join(', ')}) AND `;
  const pidParams = pids;
  const body = p.ors.length ? ors(p.ors) : { sql: '1', params: [] };
  const probeOn = (rid: string): SqlFragment => ({
    sql: `${p.negate ? 'NOT ' : ''}EXISTS (SELECT 1 FROM ${p.table} INDEXED BY ${RID_INDEX[p.table]} WHERE rid = ${rid} AND ${pidSql}(${body.sql}))`,
    params: [...pidParams, ...body.params],
  });
  const check = probeOn(`${alias}.rid`);
  if (p.negate) {
    return { check, rank: 20, probeOn };
  }
  const branches = (p.ors.length ? p.ors : [{ sql: '1', params: [] }]).map((c) => ({
    sql: `SELECT rid FROM ${p.table} WHERE ${pidSql}${c.sql}`,
    params: [...pidParams, ...c.params],
  }));
  const union = branches.length === 1 ? `SELECT DISTINCT${branches[0].sql.slice('SELECT'.length)}` : branches.map((b) => b.sql).join(' UNION ');
  const set: SqlFragment = { sql: union, params: branches.flatMap((b) => b.params) };
  const driver: SqlFragment = { sql: `${alias}.rid IN (${set.sql})`, params: set.params };
  return { check, driver, set, rank: p.ors.length ? p.rank : 15, probeOn };
}

/** The access-control condition for rows of `type` under `alias`; null = none; false = none visible. */
export function restrictCond(ctx: BuildContext, type: string, alias: string): SqlFragment | null | false {
  const frag = ctx.restrict?.(type);
  if (frag === false) {
    return false;
  }
  if (!frag) {
    return null;
  }
  if (alias === 'r') {
    return { sql: `(${frag.sql})`, params: frag.params };
  }
  // The fragment is written over `resource r`: evaluate it on the same row in its own scope.
  return { sql: `EXISTS (SELECT 1 FROM resource r INDEXED BY ${LIVE_INDEX} WHERE r.rid = ${alias}.rid AND (${frag.sql}))`, params: frag.params };
}

/** Conditions that rows of `type` under `alias` are live, in the project and visible. null: none can be. */
function liveRows(ctx: BuildContext, type: string, alias: string, inner: Built): SqlFragment | null {
  const r = restrictCond(ctx, type, alias);
  if (r === false) {
    return null;
  }
  // When the inner filter drives through an index table, keep SQLite from walking the type index instead.
  const plain = !inner.driver || inner.typeIndexDriver || inner.set;
  const sql = [`${plain ? '' : '+'}${alias}.type = ?`, `${alias}.project = ?`, `${alias}.deleted = 0`];
  const params: unknown[] = [type, ctx.project];
  if (r) {
    sql.push(r.sql);
    params.push(...r.params);
  }
  return { sql: sql.join(' AND '), params };
}

export interface Combined {
  /** FROM clause: `resource <alias>`, or the driving rid set joined to it in a fixed order. */
  from: SqlFragment;
  conds: SqlFragment[];
  typeIndexDriver: boolean;
  driven: boolean;
}

/** AND of the filters, with the best driver chosen. */
export function combine(ctx: BuildContext, built: Built[], alias: string): Combined {
  let best: Built | undefined;
  for (const b of built) {
    if (b.driver && (!best || b.rank < best.rank)) {
      best = b;
    }
  }
  if (best?.set) {
    const d = ctx.nextAlias();
    return {
      // Through the narrow covering index: the candidates' liveness and filters never read the wide rows.
      from: { sql: `(${best.set.sql}) AS ${d} CROSS JOIN resource ${alias} INDEXED BY ${LIVE_INDEX} ON ${alias}.rid = ${d}.rid`, params: best.set.params },
      // The probes most likely to refuse a candidate first (by rank: an exact code before a date range), so
      // the others run only for the candidates left: a patient's thousand observations, one code wanted.
      // Probes of index tables are written on the driving set's rid: SQLite tests them before it looks the
      // candidate up in the resource table.
      conds: built
        .filter((b) => b !== best)
        .sort((a, b) => a.rank - b.rank)
        .map((b) => (b.probeOn ? b.probeOn(`${d}.rid`) : b.check)),
      typeIndexDriver: false,
      driven: true,
    };
  }
  const conds = built.map((b) => (b === best ? (b.driver as SqlFragment) : b.check));
  return { from: { sql: `resource ${alias}`, params: [] }, conds, typeIndexDriver: !!best?.typeIndexDriver, driven: !!best };
}

function and(conds: SqlFragment[]): SqlFragment {
  return conds.length ? { sql: conds.map((c) => c.sql).join(' AND '), params: conds.flatMap((c) => c.params) } : { sql: '1', params: [] };
}

/**
 * Compiles every filter of `entries` (name, raw value) for resources of `resourceType` under
 * `alias`. resourceType undefined = system level (only common parameters).
 */
export function buildFilters(ctx: BuildContext, resourceType: string | undefined, entries: [string, string][], alias: string): Built[] {
  const out: Built[] = [];
  const filters = entries.filter(([key]) => !RESULT_PARAMS.has(splitParamKey(key).code));
  if (filters.length > MAX_FILTERS) {
    throw errors.badRequest(`Too many search parameters (at most ${MAX_FILTERS})`);
  }
  const merged = mergeDateRanges(resourceType, filters, alias);
  for (const [key, value] of filters) {
    if (merged.keys.has(key)) {
      continue;
    }
    out.push(buildFilter(ctx, resourceType, key, value, alias));
  }
  return [...merged.built, ...out];
}

/**
 * `date=ge2020&date=lt2021`: the conditions on one date parameter are applied to the same stored
 * value, so the index is scanned once over a range bounded on both sides (for single-valued date
 * parameters, the usual case, this is exactly FHIR's AND).
 */
function mergeDateRanges(resourceType: string | undefined, filters: [string, string][], alias: string): { keys: Set<string>; built: Built[] } {
  const keys = new Set<string>();
  const built: Built[] = [];
  const counts = new Map<string, number>();
  for (const [key] of filters) {
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  for (const [key, n] of counts) {
    if (n < 2 || /[.:]/.test(key) || key.startsWith('_')) {
      continue;
    }
    const def = getParamRegistry().get(resourceType ?? 'Resource', key);
    if (!def || def.type !== 'date' || !def.expression) {
      continue;
    }
    const values = filters.filter(([k]) => k === key).map(([, v]) => v);
    if (values.some((v) => v.includes(',') || v.startsWith('ne'))) {
      continue;
    }
    let bounds = {};
    for (const v of values) {
      const { prefix, rest } = splitPrefix(key, v);
      bounds = intersectBounds(bounds, dateBounds(prefix, parseDateValue(key, rest)).bounds);
    }
    keys.add(key);
    built.push(fromIndexPredicate({ table: 'idx_date', pid: null, ors: storedDateConds(def, bounds), negate: false, rank: 5 }, alias));
  }
  return { keys, built };
}

function lookupParam(resourceType: string | undefined, code: string): ParamDef {
  if (UNSUPPORTED_PARAMS.has(code)) {
    throw errors.badRequest(`Search parameter "${code}" is not supported`, code);
  }
  const def = getParamRegistry().get(resourceType ?? 'Resource', code);
  if (!def || !def.expression) {
    throw errors.badRequest(`Unknown search parameter "${code}"${resourceType ? ` for ${resourceType}` : ''}`, code);
  }
  return def;
}

/** Bounds that keep a query's SQL far below SQLite's limits (a larger request is a 400, not a 500). */
const MAX_OR_VALUES = 1000;
const MAX_FILTERS = 100;

function values(code: string, raw: string): string[] {
  // splitSearchOnComma drops a lone trailing escape: `identifier=sys|\` would become the system-only
  // `sys|` and match every identifier of that system. FHIR escapes are `\,` `\|` `\$` `\\`: an odd run
  // of backslashes at the end escapes nothing, so the value is malformed.
  const trailing = raw.length - raw.replace(/\\+$/, '').length;
  if (trailing % 2 === 1) {
    bad(code, 'a value must not end with a lone escape character "\\"');
  }
  const vals = splitSearchOnComma(raw);
  if (vals.length > MAX_OR_VALUES) {
    bad(code, `at most ${MAX_OR_VALUES} values`);
  }
  if (vals.length === 0 || vals.some((v) => v === '')) {
    bad(code, 'empty value');
  }
  return vals;
}

export function buildFilter(ctx: BuildContext, resourceType: string | undefined, key: string, raw: string, alias: string): Built {
  if (key.startsWith('_has:')) {
    return buildHas(ctx, resourceType, key, raw, alias);
  }
  const dot = key.indexOf('.');
  if (dot > 0) {
    return buildChain(ctx, resourceType, key.slice(0, dot), key.slice(dot + 1), raw, alias);
  }
  const { code, modifier } = splitParamKey(key);
  switch (code) {
    case '_id':
      return buildId(code, modifier, raw, alias);
    case '_lastUpdated':
      return buildLastUpdated(code, modifier, raw, alias);
    case '_compartment':
      return buildCompartment(code, modifier, raw, alias, ctx.baseUrl);
  }
  const def = lookupParam(resourceType, code);
  if (def.type === 'composite') {
    assertModifier(code, def.type, modifier);
    return fromIndexPredicate(compositePredicate(def, values(code, raw)), alias);
  }
  const vals = modifier === 'missing' ? [raw] : values(code, raw);
  return fromIndexPredicate(buildIndexPredicate(def, modifier, vals, ctx.baseUrl), alias);
}

function buildId(code: string, modifier: string | undefined, raw: string, alias: string): Built {
  assertModifier(code, 'token', modifier);
  const ids = values(code, raw);
  const sql = `${alias}.id ${modifier === 'not' ? 'NOT ' : ''}IN (${ids.map(() => '?').join(', ')})`;
  const cond = { sql, params: ids };
  return modifier === 'not' ? { check: cond, rank: 20 } : { check: cond, driver: cond, rank: 0, typeIndexDriver: true };
}

function buildLastUpdated(code: string, modifier: string | undefined, raw: string, alias: string): Built {
  assertModifier(code, 'date', modifier);
  const parts = values(code, raw).map((v) => {
    const { prefix, rest } = splitPrefix(code, v);
    const { bounds, negate } = dateBounds(prefix, parseDateValue(code, rest));
    return { cond: boundsSql(bounds, `${alias}.last_updated`, `${alias}.last_updated`), negate };
  });
  const cond: SqlFragment = {
    sql: parts.map((p) => `(${p.negate ? 'NOT ' : ''}(${p.cond.sql}))`).join(' OR '),
    params: parts.flatMap((p) => p.cond.params),
  };
  const wrapped = { sql: `(${cond.sql})`, params: cond.params };
  return { check: wrapped, driver: wrapped, rank: 8, typeIndexDriver: true };
}

function buildCompartment(code: string, modifier: string | undefined, raw: string, alias: string, baseUrl?: string): Built {
  assertModifier(code, 'reference', modifier);
  const conds = values(code, raw).map((v): SqlFragment => {
    const ref = parseReferenceString(baseUrl && v.startsWith(baseUrl) ? v.slice(baseUrl.length) : v);
    return ref.refType ? { sql: 'ref_id = ? AND ref_type = ?', params: [ref.refId, ref.refType] } : { sql: 'ref_id = ?', params: [ref.refId] };
  });
  return fromIndexPredicate({ table: 'compartment', pid: null, ors: conds, negate: false, rank: 1 }, alias);
}

/** Chain tails that identify one target resource (equality on its id or a business identifier). */
const SELECTIVE_CHAIN_TAILS = new Set(['_id', 'identifier']);

/** `subject:Patient.name=x`: resources whose reference points at a resource matching the rest. */
function buildChain(ctx: BuildContext, resourceType: string | undefined, head: string, tail: string, raw: string, alias: string): Built {
  const colon = head.indexOf(':');
  const code = colon < 0 ? head : head.slice(0, colon);
  const typeModifier = colon < 0 ? undefined : head.slice(colon + 1);
  const def = lookupParam(resourceType, code);
  if (def.type !== 'reference') {
    bad(code, 'only reference parameters can be chained');
  }
  const nextCode = tail.split(/[.:]/)[0];
  let targets = typeModifier ? [typeModifier] : def.target.filter((t) => nextCode.startsWith('_') || getParamRegistry().forType(t).has(nextCode));
  if (typeModifier && def.target.length && !def.target.includes(typeModifier)) {
    bad(code, `${typeModifier} is not a target of ${code}`);
  }
  if (!typeModifier && nextCode === '_has') {
    targets = def.target;
  }
  if (targets.length === 0) {
    bad(code, `no target type of ${code} has a parameter "${nextCode}"`);
  }
  const branches: SqlFragment[] = [];
  for (const target of targets) {
    if (!getParamRegistry().resourceTypes.has(target)) {
      bad(code, `unknown resource type ${target}`);
    }
    const b = ctx.nextAlias();
    const x = ctx.nextAlias();
    const built = buildFilter(ctx, target, tail, raw, b);
    const live = liveRows(ctx, target, b, built);
    if (!live) {
      continue;
    }
    const inner = combine(ctx, [built], b);
    const where = and(inner.conds);
    branches.push({
      sql: `SELECT ${x}.rid FROM ${inner.from.sql} CROSS JOIN idx_ref ${x} WHERE ${live.sql} AND ${where.sql} AND ${x}.pid = ? AND ${x}.ref_id = ${b}.id AND ${x}.ref_type = ${b}.type`,
      params: [...inner.from.params, ...live.params, ...where.params, def.pid],
    });
  }
  if (branches.length === 0) {
    const none = { sql: '0', params: [] };
    return { check: none, driver: none, rank: 0, typeIndexDriver: true };
  }
  const set: SqlFragment = { sql: branches.length === 1 ? `SELECT DISTINCT${branches[0].sql.slice('SELECT'.length)}` : branches.map((br) => br.sql).join(' UNION '), params: branches.flatMap((br) => br.params) };
  const cond: SqlFragment = { sql: `${alias}.rid IN (${set.sql})`, params: set.params };
  // A chain ending in an identity (`_id`, `identifier` equality) matches a handful of targets, so its
  // set is smaller than any token's (e.g. a LOINC code shared by ~10k rows): let it drive.
  const selective = SELECTIVE_CHAIN_TAILS.has(tail) && !raw.includes(',');
  return { check: cond, driver: cond, set, rank: selective ? 1.5 : 4 };
}

/** `_has:Observation:patient:code=x`: resources referenced (by `patient`) from an Observation matching code=x. */
function buildHas(ctx: BuildContext, resourceType: string | undefined, key: string, raw: string, alias: string): Built {
  const parts = key.split(':');
  if (parts.length < 4 || !resourceType) {
    throw errors.badRequest(`Invalid _has parameter "${key}": use _has:Type:reference:parameter on a typed search`, '_has');
  }
  const [, type, refCode] = parts;
  const rest = parts.slice(3).join(':');
  if (!getParamRegistry().resourceTypes.has(type)) {
    throw errors.badRequest(`Invalid _has parameter "${key}": unknown resource type ${type}`, '_has');
  }
  const refDef = lookupParam(type, refCode);
  if (refDef.type !== 'reference') {
    bad(refCode, `${refCode} is not a reference parameter of ${type}`);
  }
  const b = ctx.nextAlias();
  const x = ctx.nextAlias();
  const built = buildFilter(ctx, type, rest, raw, b);
  const live = liveRows(ctx, type, b, built);
  if (!live) {
    const none = { sql: '0', params: [] };
    return { check: none, driver: none, rank: 0, typeIndexDriver: true };
  }
  const inner = combine(ctx, [built], b);
  const where = and(inner.conds);
  const cond: SqlFragment = {
    sql: `${alias}.id IN (SELECT ${x}.ref_id FROM ${inner.from.sql} CROSS JOIN idx_ref ${x} INDEXED BY idx_ref_rid WHERE ${live.sql} AND ${where.sql} AND ${x}.rid = ${b}.rid AND ${x}.pid = ? AND ${x}.ref_type = ?)`,
    params: [...inner.from.params, ...live.params, ...where.params, refDef.pid, resourceType],
  };
  return { check: cond, driver: cond, rank: 4, typeIndexDriver: true };
}
