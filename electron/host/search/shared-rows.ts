// Parameters whose values are exactly the union of other parameters' values are not indexed on their
// own: their rows would repeat rows already written. R4's Observation `combo-code` is
// `Observation.code | Observation.component.code`, the union of `code` and `component-code`, and the
// same holds for `combo-value-quantity`, `combo-code-value-quantity`, `combo-value-concept`... On
// Synthea data these repeats were ~2 of every 15 index rows (each row is two B-tree entries), so ingest
// writes each value once and the query side reads such a parameter from its parts' rows
// (`pid IN (...)`). Search semantics do not change: every filter is "some row of the parameter
// matches", and a union's rows are its parts' rows. Found by comparing expressions (split on top-level
// `|`), so no list of names to keep up to date. References are left alone (their rows also feed
// chains, includes and compartments).
import { getParamRegistry, paramId } from './params.ts';
import type { ParamDef } from './params.ts';
import type { Migration } from '../db/types.ts';

const SHARED_TYPES = new Set(['token', 'uri', 'string', 'date', 'number', 'quantity', 'composite']);

/** Top-level `|` parts of a FHIRPath expression, whitespace and redundant outer parentheses removed. */
export function unionParts(expression: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const ch = expression[i];
    if (quote) {
      if (ch === '\\') {
        i++;
      } else if (ch === quote) {
        quote = '';
      }
    } else if (ch === "'" || ch === '`') {
      quote = ch;
    } else if (ch === '(') {
      depth++;
    } else if (ch === ')') {
      depth--;
    } else if (ch === '|' && depth === 0) {
      parts.push(expression.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(expression.slice(start));
  return parts.map(normalizePart);
}

function normalizePart(part: string): string {
  let p = part.replace(/\s+/g, ' ').trim();
  while (p.startsWith('(') && p.endsWith(')') && balanced(p.slice(1, -1))) {
    p = p.slice(1, -1).trim();
  }
  return p;
}

function balanced(s: string): boolean {
  let depth = 0;
  for (const ch of s) {
    depth += ch === '(' ? 1 : ch === ')' ? -1 : 0;
    if (depth < 0) {
      return false;
    }
  }
  return depth === 0;
}

/** What a parameter's rows are made of: its expression's parts, with composite components folded in. */
function partKeys(def: ParamDef): Set<string> | undefined {
  if (!def.expression || !SHARED_TYPES.has(def.type)) {
    return undefined;
  }
  let suffix = '';
  if (def.type === 'composite') {
    const comps = def.components ?? [];
    suffix = `#${comps.map((c) => `${c.param.type}:${normalizePart(c.expression)}`).join('#')}`;
  }
  return new Set(unionParts(def.expression).map((p) => `${def.type}:${p}${suffix}`));
}

/** code -> the parameters whose rows hold its values (only for parameters stored through others). */
const sharedByType = new Map<string, Map<string, ParamDef[]>>();

function sharedOf(resourceType: string): Map<string, ParamDef[]> {
  let shared = sharedByType.get(resourceType);
  if (shared) {
    return shared;
  }
  shared = new Map();
  const keyed: { def: ParamDef; keys: Set<string> }[] = [];
  for (const def of getParamRegistry().forType(resourceType).values()) {
    const keys = def.resourceType === resourceType ? partKeys(def) : undefined;
    if (keys) {
      keyed.push({ def, keys });
    }
  }
  // Fewest parts first: a parameter is only ever stored through parameters that have their own rows.
  keyed.sort((a, b) => a.keys.size - b.keys.size || (a.def.code < b.def.code ? -1 : 1));
  const primary: typeof keyed = [];
  for (const k of keyed) {
    const parts = primary.filter((p) => p.def.type === k.def.type && [...p.keys].every((key) => k.keys.has(key)));
    const covered = new Set(parts.flatMap((p) => [...p.keys]));
    if (parts.length > 0 && covered.size === k.keys.size) {
      // An identical expression under another code: that one parameter (the first code in order).
      const same = parts.find((p) => p.keys.size === k.keys.size);
      shared.set(k.def.code, same ? [same.def] : parts.map((p) => p.def));
    } else {
      primary.push(k);
    }
  }
  sharedByType.set(resourceType, shared);
  return shared;
}

/** The parameters whose rows hold `def`'s values, when `def` has no rows of its own. */
export function storedThrough(def: ParamDef): ParamDef[] | undefined {
  return sharedOf(def.resourceType).get(def.code);
}

/**
 * The index ids under which `def`'s rows live: its own id, or its parts' ids. `suffix` selects the
 * side rows (`:text` rows of a token in idx_string).
 */
export function storedPids(def: ParamDef, suffix = ''): number[] {
  const parts = storedThrough(def) ?? [def];
  return parts.map((p) => (suffix ? paramId(p.resourceType, `${p.code}${suffix}`) : p.pid));
}

const TABLE_OF_TYPE: Record<string, string> = {
  token: 'idx_token',
  uri: 'idx_token',
  string: 'idx_string',
  date: 'idx_date',
  number: 'idx_number',
  quantity: 'idx_quantity',
  composite: 'idx_composite',
};

/** Every (table, pid) that databases written before migration 6 hold for parameters now stored through others. */
export function obsoleteSharedRows(): { table: string; pids: number[] }[] {
  const byTable = new Map<string, number[]>();
  const add = (table: string, pid: number): void => {
    byTable.set(table, [...(byTable.get(table) ?? []), pid]);
  };
  const registry = getParamRegistry();
  for (const type of registry.resourceTypes) {
    for (const code of sharedOf(type).keys()) {
      const d = registry.get(type, code) as ParamDef;
      add(TABLE_OF_TYPE[d.type], d.pid);
      if (d.type === 'date') {
        add('idx_date', -d.pid);
      }
      if (d.type === 'token') {
        add('idx_string', paramId(type, `${d.code}:text`));
      }
    }
  }
  return [...byTable].map(([table, pids]) => ({ table, pids }));
}

/**
 * Migration 6: removes the rows older versions wrote for parameters now stored through others (they
 * are never read any more; searches read the parts' rows, which those versions wrote too).
 */
export const sharedRowsMigration: Migration = {
  version: 6,
  name: 'search: drop rows of parameters stored through other parameters (combo-code...)',
  up(db) {
    for (const { table, pids } of obsoleteSharedRows()) {
      db.prepare(`DELETE FROM ${table} WHERE pid IN (${pids.map(() => '?').join(', ')})`).run(...pids);
    }
  },
};
