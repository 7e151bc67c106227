// Turns one search parameter with its modifier and comma-separated values into a predicate over an
// index table: a list of OR-ed conditions on that table's value columns, for one parameter id.
// Bad values (dates, numbers, prefixes, modifiers) are 400s naming the parameter.
import { errors } from '../../../shared/errors.ts';
import type { SqlFragment } from '../db/types.ts';
import { assertModifier } from './grammar.ts';
import type { ParamDef } from './params.ts';
import { paramId } from './params.ts';
import { boundsSql, dateBounds, dateTableConds, type DateBounds } from './dates.ts';
import { storedPids } from './shared-rows.ts';
import { normalizeString, parseDateRange, parseReferenceString } from './values.ts';
import type { DateRange } from './values.ts';

/**
 * A test on an index table: rows of `pid` matching any of `ors` (no ors: any row of pid). Several pids:
 * a parameter stored through its parts' rows (shared-rows.ts).
 */
export interface IndexPredicate {
  table: string;
  pid: number | number[] | null;
  ors: SqlFragment[];
  /** true: the resource must have NO such row (:not, ne, :missing=true). */
  negate: boolean;
  /** Lower is more selective: the most selective positive predicate drives the query. */
  rank: number;
}

const PREFIXES = new Set(['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);
const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
/** The highest code point: `norm < prefix || MAX_CHAR` bounds a prefix range in a B-tree. */
const MAX_CHAR = '\u{10FFFF}';

export function bad(code: string, text: string): never {
  throw errors.badRequest(`Invalid search parameter "${code}": ${text}`, code);
}

export function splitPrefix(code: string, value: string): { prefix: string; rest: string } {
  const head = value.slice(0, 2);
  if (/^[a-z]{2}/.test(head)) {
    if (!PREFIXES.has(head)) {
      bad(code, `unknown prefix "${head}"`);
    }
    return { prefix: head, rest: value.slice(2) };
  }
  return { prefix: 'eq', rest: value };
}

export function parseDateValue(code: string, value: string): DateRange {
  const range = parseDateRange(value);
  if (!range) {
    bad(code, `"${value}" is not a date`);
  }
  return range;
}

/** Conditions on a numeric column for a number prefix; `eq` uses the value's implied precision. */
export function numberConds(code: string, prefix: string, raw: string, col: string): { cond: SqlFragment; negate: boolean } {
  if (!NUMBER_RE.test(raw)) {
    bad(code, `"${raw}" is not a number`);
  }
  const n = Number(raw);
  const mantissa = raw.split(/[eE]/)[0];
  const decimals = mantissa.includes('.') ? mantissa.length - mantissa.indexOf('.') - 1 : 0;
  const exp = /[eE]/.test(raw) ? Number(raw.split(/[eE]/)[1]) : 0;
  const half = 0.5 * 10 ** (exp - decimals);
  switch (prefix) {
    case 'eq':
      return { cond: { sql: `${col} >= ? AND ${col} < ?`, params: [n - half, n + half] }, negate: false };
    case 'ne':
      return { cond: { sql: `${col} >= ? AND ${col} < ?`, params: [n - half, n + half] }, negate: true };
    case 'gt':
    case 'sa':
      return { cond: { sql: `${col} > ?`, params: [n] }, negate: false };
    case 'lt':
    case 'eb':
      return { cond: { sql: `${col} < ?`, params: [n] }, negate: false };
    case 'ge':
      return { cond: { sql: `${col} >= ?`, params: [n] }, negate: false };
    case 'le':
      return { cond: { sql: `${col} <= ?`, params: [n] }, negate: false };
    default: {
      const d = Math.abs(n) * 0.1 || half;
      return { cond: { sql: `${col} >= ? AND ${col} <= ?`, params: [n - d, n + d] }, negate: false };
    }
  }
}

/** Splits `a|b|c` on unescaped bars. */
export function splitBars(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '\\' && i + 1 < value.length) {
      cur += value[++i];
    } else if (ch === '|') {
      out.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  out.push(cur);
  return out;
}

export function tokenCond(value: string, codeCol = 'code', systemCol = 'system'): SqlFragment {
  const bar = splitBars(value);
  if (bar.length === 1) {
    return { sql: `${codeCol} = ?`, params: [bar[0]] };
  }
  const [system, code] = [bar[0], bar.slice(1).join('|')];
  if (!system) {
    return { sql: `${codeCol} = ? AND ${systemCol} = ''`, params: [code] };
  }
  if (!code) {
    return { sql: `${systemCol} = ?`, params: [system] };
  }
  return { sql: `${codeCol} = ? AND ${systemCol} = ?`, params: [code, system] };
}

export function stringPrefixCond(value: string, col = 'norm'): SqlFragment {
  const norm = normalizeString(value);
  return { sql: `${col} >= ? AND ${col} < ?`, params: [norm, norm + MAX_CHAR] };
}

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function missingPredicate(def: ParamDef, table: string, value: string): IndexPredicate {
  if (value !== 'true' && value !== 'false') {
    bad(def.code, ':missing takes true or false');
  }
  if (def.type === 'date') {
    // Short and long ranges are stored under pid and -pid.
    return { table, pid: storedPids(def).flatMap((pid) => [pid, -pid]), ors: [], negate: value === 'true', rank: 9 };
  }
  return { table, pid: storedPids(def), ors: [], negate: value === 'true', rank: 9 };
}

const TABLE_OF: Record<string, string> = {
  token: 'idx_token',
  uri: 'idx_token',
  string: 'idx_string',
  reference: 'idx_ref',
  date: 'idx_date',
  number: 'idx_number',
  quantity: 'idx_quantity',
  composite: 'idx_composite',
};

export function tableOf(def: ParamDef): string {
  const t = TABLE_OF[def.type];
  if (!t) {
    bad(def.code, `parameters of type ${def.type} are not supported`);
  }
  return t;
}

/**
 * The predicate of `def` with `modifier` and OR-ed `values` (already split on commas).
 * `baseUrl` lets absolute references to this server match local ones.
 */
export function buildIndexPredicate(def: ParamDef, modifier: string | undefined, values: string[], baseUrl?: string): IndexPredicate {
  const code = def.code;
  const table = tableOf(def);
  assertModifier(code, def.type, modifier, def.target);
  if (modifier === 'missing') {
    return missingPredicate(def, table, values.join(','));
  }
  if (values.length === 0 || values.some((v) => v === '')) {
    bad(code, 'empty value');
  }
  switch (def.type) {
    case 'token': {
      if (modifier === 'text') {
        return { table: 'idx_string', pid: storedPids(def, ':text'), ors: values.map((v) => stringPrefixCond(v)), negate: false, rank: 4 };
      }
      return { table, pid: storedPids(def), ors: values.map((v) => tokenCond(v)), negate: modifier === 'not', rank: 2 };
    }
    case 'uri': {
      const ors = values.map((v): SqlFragment => {
        if (modifier === 'below') {
          return { sql: 'code >= ? AND code < ?', params: [v, v + MAX_CHAR] };
        }
        if (modifier === 'above') {
          return { sql: 'code <= ? AND substr(?, 1, length(code)) = code', params: [v, v] };
        }
        return { sql: 'code = ?', params: [v] };
      });
      return { table, pid: storedPids(def), ors, negate: modifier === 'not', rank: 2 };
    }
    case 'string': {
      if (values.some((v) => normalizeString(v) === '')) {
        bad(code, 'empty value');
      }
      const ors = values.map((v): SqlFragment => {
        if (modifier === 'exact') {
          return { sql: 'norm = ? AND raw = ?', params: [normalizeString(v), v] };
        }
        if (modifier === 'contains') {
          return { sql: "norm LIKE ? ESCAPE '\\'", params: [`%${likeEscape(normalizeString(v))}%`] };
        }
        return stringPrefixCond(v);
      });
      return { table, pid: storedPids(def), ors, negate: false, rank: modifier === 'contains' ? 6 : 3 };
    }
    case 'reference':
      return referencePredicate(def, modifier, values, baseUrl);
    case 'date': {
      const parts = values.map((v) => {
        const { prefix, rest } = splitPrefix(code, v);
        return dateBounds(prefix, parseDateValue(code, rest));
      });
      const negate = parts[0].negate;
      if (parts.some((p) => p.negate !== negate)) {
        bad(code, 'ne cannot be combined with other prefixes in one OR list');
      }
      return { table, pid: null, ors: parts.flatMap((p) => storedDateConds(def, p.bounds)), negate, rank: 5 };
    }
    case 'number': {
      return rangePredicate(def, table, values, (v) => {
        const { prefix, rest } = splitPrefix(code, v);
        return numberConds(code, prefix, rest, 'value');
      });
    }
    case 'quantity': {
      return rangePredicate(def, table, values, (v) => quantityCond(code, v, 'value', 'system', 'code', 'unit'));
    }
    default:
      return bad(code, `parameters of type ${def.type} are handled elsewhere`);
  }
}

/** Conditions on idx_date for a date parameter, over every id its rows are stored under. */
export function storedDateConds(def: ParamDef, bounds: DateBounds): SqlFragment[] {
  return storedPids(def).flatMap((pid) => dateTableConds(pid, bounds));
}

function rangePredicate(def: ParamDef, table: string, values: string[], one: (v: string) => { cond: SqlFragment; negate: boolean }): IndexPredicate {
  const parts = values.map(one);
  const negate = parts[0].negate;
  if (parts.some((p) => p.negate !== negate)) {
    bad(def.code, 'ne cannot be combined with other prefixes in one OR list');
  }
  return { table, pid: storedPids(def), ors: parts.map((p) => p.cond), negate, rank: 5 };
}

/** `[prefix]number|system|code`: the number with its prefix, then system and code (code matches Quantity.code or unit). */
export function quantityCond(code: string, value: string, valueCol: string, systemCol: string, codeCol: string, unitCol: string): { cond: SqlFragment; negate: boolean } {
  const [num, system, unit, ...extra] = splitBars(value);
  if (extra.length) {
    bad(code, 'a quantity is number|system|code');
  }
  const { prefix, rest } = splitPrefix(code, num);
  const n = numberConds(code, prefix, rest, valueCol);
  const sql = [n.cond.sql];
  const params = [...n.cond.params];
  if (system) {
    sql.push(`${systemCol} = ?`);
    params.push(system);
  }
  if (unit) {
    sql.push(`(${codeCol} = ? OR ${unitCol} = ?)`);
    params.push(unit, unit);
  }
  return { cond: { sql: sql.join(' AND '), params }, negate: n.negate };
}

function referencePredicate(def: ParamDef, modifier: string | undefined, values: string[], baseUrl?: string): IndexPredicate {
  const code = def.code;
  if (modifier === 'identifier') {
    return { table: 'idx_token', pid: paramId(def.resourceType, `${code}:identifier`), ors: values.map((v) => tokenCond(v)), negate: false, rank: 2 };
  }
  // The grammar let it through: any other modifier is a target type name.
  const typeModifier = modifier !== undefined && modifier !== 'not' ? modifier : undefined;
  const ors = values.map((raw): SqlFragment => {
    const v = baseUrl && raw.startsWith(baseUrl) ? raw.slice(baseUrl.length) : raw;
    const ref = parseReferenceString(v);
    if (ref.refType) {
      if (typeModifier && ref.refType !== typeModifier) {
        bad(code, `"${raw}" is not a ${typeModifier} reference`);
      }
      return { sql: 'ref_id = ? AND ref_type = ?', params: [ref.refId, ref.refType] };
    }
    if (typeModifier) {
      return { sql: 'ref_id = ? AND ref_type = ?', params: [v, typeModifier] };
    }
    if (def.target.length === 1 && /^[A-Za-z0-9\-.]{1,64}$/.test(v)) {
      return { sql: 'ref_id = ? AND ref_type = ?', params: [v, def.target[0]] };
    }
    return { sql: 'ref_id = ?', params: [v] };
  });
  return { table: 'idx_ref', pid: def.pid, ors, negate: modifier === 'not', rank: 1 };
}

/** `code$value` composites: a token first component, then the second component's own syntax. */
export function compositePredicate(def: ParamDef, vals: string[]): IndexPredicate {
  const comps = def.components ?? [];
  if (comps.length !== 2 || comps[0].param.type !== 'token') {
    bad(def.code, 'this composite parameter is not supported');
  }
  const secondType = comps[1].param.type;
  const ors = vals.map((v): SqlFragment => {
    const dollar = v.indexOf('$');
    if (dollar < 0) {
      bad(def.code, 'a composite value is first$second');
    }
    const first = tokenCond(v.slice(0, dollar), 'c1_code', 'c1_system');
    const rest = v.slice(dollar + 1);
    let second: SqlFragment;
    switch (secondType) {
      case 'token':
        second = tokenCond(rest, 'v_code', 'v_system');
        break;
      case 'quantity':
        second = quantityCond(def.code, rest, 'v_num', 'v_system', 'v_code', 'v_unit').cond;
        break;
      case 'number': {
        const { prefix, rest: n } = splitPrefix(def.code, rest);
        second = numberConds(def.code, prefix, n, 'v_num').cond;
        break;
      }
      case 'date': {
        const { prefix, rest: d } = splitPrefix(def.code, rest);
        second = boundsSql(dateBounds(prefix, parseDateValue(def.code, d)).bounds, 'v_lo', 'v_hi');
        break;
      }
      case 'string':
        second = stringPrefixCond(rest, 'v_code');
        break;
      case 'reference': {
        const ref = parseReferenceString(rest);
        second = ref.refType ? { sql: 'v_code = ? AND v_system = ?', params: [ref.refId, ref.refType] } : { sql: 'v_code = ?', params: [ref.refId] };
        break;
      }
      default:
        second = { sql: 'v_code = ?', params: [rest] };
    }
    if (!rest) {
      bad(def.code, 'a composite value is first$second');
    }
    return { sql: `${first.sql} AND ${second.sql}`, params: [...first.params, ...second.params] };
  });
  return { table: 'idx_composite', pid: storedPids(def), ors, negate: false, rank: 2 };
}
