// Writes a resource's search index rows (inside the store's write transaction). For each resource
// type a plan is built once: every search parameter with its compiled extractor. Indexing is then a
// loop of extract -> convert -> INSERT with prepared statements.
import type { Resource } from '@medplum/fhirtypes';
import type { Statement } from 'better-sqlite3-multiple-ciphers';
import type { Db } from '../store/types.ts';
import { loadFhirDefinitions, readPatientCompartment } from '../fhir/definitions.ts';
import { isShortRange } from './dates.ts';
import { compileExtractor, compileRelativeExtractor } from './extract.ts';
import type { Extractor } from './extract.ts';
import { COLUMN_PARAMS, getParamRegistry, paramId } from './params.ts';
import type { ParamDef } from './params.ts';
import { storedThrough } from './shared-rows.ts';
import type { SearchIndexer } from './types.ts';
import { normalizeString, toDateRanges, toNumbers, toQuantities, toReferences, toStrings, toTokens } from './values.ts';
import type { DateRange, QuantityValue, RefValue, Token } from './values.ts';

export interface PlannedParam {
  def: ParamDef;
  extract: Extractor;
  compiled: boolean;
  /** Extra ids: token ':text' rows (string table), reference ':identifier' rows (token table). */
  textPid: number;
  identifierPid: number;
  /** True when this reference parameter places the resource in the referenced Patient's compartment. */
  patientCompartment: boolean;
  /** Stored through other parameters' rows (shared-rows.ts): planned (searchable), never written. */
  shared: boolean;
  composite?: { first: Extractor; second: Extractor; secondType: string };
}

const plans = new Map<string, PlannedParam[]>();

/** The indexing plan of a resource type (immutable, built once per process). */
export function getIndexPlan(resourceType: string): PlannedParam[] {
  let plan = plans.get(resourceType);
  if (!plan) {
    plan = buildPlan(resourceType);
    plans.set(resourceType, plan);
  }
  return plan;
}

const writePlans = new Map<string, PlannedParam[]>();

/** The parameters that write rows of their own (the plan less those stored through others). */
function getWritePlan(resourceType: string): PlannedParam[] {
  let plan = writePlans.get(resourceType);
  if (!plan) {
    plan = getIndexPlan(resourceType).filter((p) => !p.shared);
    writePlans.set(resourceType, plan);
  }
  return plan;
}

function buildPlan(resourceType: string): PlannedParam[] {
  // The compiler resolves element types through the StructureDefinitions.
  loadFhirDefinitions();
  const compartmentParams = new Set(readPatientCompartment()[resourceType] ?? []);
  const out: PlannedParam[] = [];
  for (const def of getParamRegistry().forType(resourceType).values()) {
    if (!def.expression || COLUMN_PARAMS.has(def.code) || def.type === 'special') {
      continue;
    }
    const { extract, compiled } = compileExtractor(resourceType, def.expression);
    const planned: PlannedParam = {
      def,
      extract,
      compiled,
      textPid: paramId(def.resourceType, `${def.code}:text`),
      identifierPid: paramId(def.resourceType, `${def.code}:identifier`),
      patientCompartment: compartmentParams.has(def.code),
      shared: storedThrough(def) !== undefined,
    };
    if (def.type === 'composite') {
      const comps = def.components ?? [];
      if (comps.length !== 2 || comps[0].param.type !== 'token') {
        continue;
      }
      const first = compileRelativeExtractor(resourceType, def.expression, comps[0].expression);
      const second = compileRelativeExtractor(resourceType, def.expression, comps[1].expression);
      if (!first || !second) {
        continue;
      }
      planned.composite = { first, second, secondType: comps[1].param.type as string };
    }
    out.push(planned);
  }
  return out;
}

interface Statements {
  token: (pid: number, code: string, system: string, rid: number) => void;
  string: (pid: number, norm: string, rid: number, raw: string) => void;
  ref: (pid: number, refId: string, refType: string, rid: number) => void;
  date: (pid: number, lo: number, hi: number, rid: number) => void;
  number: (pid: number, value: number, rid: number) => void;
  quantity: (pid: number, q: QuantityValue, rid: number) => void;
  composite: (pid: number, c1: Token, rid: number, k: number, v: CompositeValue) => void;
  compartment: (refId: string, refType: string, rid: number) => void;
  /** Buffered values in all tables (rows x columns). */
  pending: () => number;
  /** Where each table's buffer ends now: `truncate(mark)` drops what was buffered after it. */
  mark: () => number[];
  truncate: (mark: number[]) => void;
  /** Writes the buffered rows, each table's sorted by its primary key (multi-row INSERTs). */
  flush: () => void;
  remove: (rid: number) => void;
}

interface CompositeValue {
  system?: string | null;
  code?: string | null;
  unit?: string | null;
  num?: number | null;
  lo?: number | null;
  hi?: number | null;
}

const INDEX_TABLES = ['idx_token', 'idx_string', 'idx_ref', 'idx_date', 'idx_number', 'idx_quantity', 'idx_composite', 'compartment'];

/** Each table's INSERT head, its column count, and how many leading columns form its primary key (schema.ts). */
const INSERTS: Record<string, { head: string; columns: number; keyColumns: number }> = {
  idx_token: { head: 'INSERT OR IGNORE INTO idx_token (pid, code, system, rid) VALUES ', columns: 4, keyColumns: 4 },
  idx_string: { head: 'INSERT OR IGNORE INTO idx_string (pid, norm, rid, raw) VALUES ', columns: 4, keyColumns: 4 },
  idx_ref: { head: 'INSERT OR IGNORE INTO idx_ref (pid, ref_id, ref_type, rid) VALUES ', columns: 4, keyColumns: 4 },
  idx_date: { head: 'INSERT OR IGNORE INTO idx_date (pid, lo, hi, rid) VALUES ', columns: 4, keyColumns: 4 },
  idx_number: { head: 'INSERT OR IGNORE INTO idx_number (pid, value, rid) VALUES ', columns: 3, keyColumns: 3 },
  idx_quantity: { head: 'INSERT OR IGNORE INTO idx_quantity (pid, value, system, code, unit, rid) VALUES ', columns: 6, keyColumns: 6 },
  idx_composite: { head: 'INSERT INTO idx_composite (pid, c1_code, c1_system, rid, k, v_system, v_code, v_unit, v_num, v_lo, v_hi) VALUES ', columns: 11, keyColumns: 5 },
  compartment: { head: 'INSERT OR IGNORE INTO compartment (ref_id, ref_type, rid) VALUES ', columns: 3, keyColumns: 3 },
};

/** Rows per INSERT statement. */
const MAX_ROWS = 64;
/** A deferred scope writes its buffered rows once they hold this many values (bounds memory). */
const DEFERRED_FLUSH_VALUES = 200_000;

/**
 * The buffered rows of one table in primary-key order. Consecutive inserts then land on the same or
 * neighbouring B-tree pages, which SQLite finds in its cache with a warm CPU cache; a Bundle's rows
 * in arrival order jump between parameters and values. (Order changes speed only, never content.)
 */
function sortedRows(values: unknown[], columns: number, keyColumns: number): unknown[] {
  const rows = values.length / columns;
  const order = Array.from({ length: rows }, (_, i) => i * columns);
  order.sort((a, b) => {
    for (let c = 0; c < keyColumns; c++) {
      const x = values[a + c] as string | number;
      const y = values[b + c] as string | number;
      if (x !== y) {
        return x < y ? -1 : 1;
      }
    }
    return 0;
  });
  const out = new Array<unknown>(values.length);
  let k = 0;
  for (const start of order) {
    for (let c = 0; c < columns; c++) {
      out[k++] = values[start + c];
    }
  }
  return out;
}

function prepare(db: Db): Statements {
  // Buffered row values per table, written by flush() with a statement prepared for that row count.
  const buffers = new Map<string, unknown[]>(INDEX_TABLES.map((t) => [t, []]));
  const cache = new Map<string, Statement<unknown[]>>();
  const statement = (table: string, rows: number): Statement<unknown[]> => {
    const key = `${table}:${rows}`;
    let st = cache.get(key);
    if (!st) {
      const { head, columns } = INSERTS[table];
      const tuple = `(${new Array(columns).fill('?').join(', ')})`;
      st = db.prepare<unknown[]>(head + new Array(rows).fill(tuple).join(', '));
      cache.set(key, st);
    }
    return st;
  };
  const b = (table: string): unknown[] => buffers.get(table) as unknown[];
  const token = b('idx_token');
  const string = b('idx_string');
  const ref = b('idx_ref');
  const date = b('idx_date');
  const number = b('idx_number');
  const quantity = b('idx_quantity');
  const composite = b('idx_composite');
  const compartment = b('compartment');
  const all = [...buffers.values()];
  const removes = INDEX_TABLES.map((t) => db.prepare(`DELETE FROM ${t} WHERE rid = ?`));
  return {
    token: (pid, code, system, rid) => token.push(pid, code, system, rid),
    string: (pid, norm, rid, raw) => string.push(pid, norm, rid, raw),
    ref: (pid, refId, refType, rid) => ref.push(pid, refId, refType, rid),
    date: (pid, lo, hi, rid) => date.push(pid, lo, hi, rid),
    number: (pid, value, rid) => number.push(pid, value, rid),
    quantity: (pid, q, rid) => quantity.push(pid, q.value, q.system, q.code, q.unit, rid),
    composite: (pid, c1, rid, k, v) =>
      composite.push(pid, c1.code, c1.system, rid, k, v.system ?? null, v.code ?? null, v.unit ?? null, v.num ?? null, v.lo ?? null, v.hi ?? null),
    compartment: (refId, refType, rid) => compartment.push(refId, refType, rid),
    pending: () => all.reduce((n, values) => n + values.length, 0),
    mark: () => all.map((values) => values.length),
    truncate: (mark) => all.forEach((values, i) => (values.length = mark[i])),
    flush: () => {
      for (const [table, buffered] of buffers) {
        if (buffered.length === 0) {
          continue;
        }
        const { columns, keyColumns } = INSERTS[table];
        const rows = buffered.length / columns;
        const values = rows > 1 ? sortedRows(buffered, columns, keyColumns) : buffered;
        for (let start = 0; start < rows; start += MAX_ROWS) {
          const n = Math.min(MAX_ROWS, rows - start);
          const chunk = n === rows ? values : values.slice(start * columns, (start + n) * columns);
          statement(table, n).run(...chunk);
        }
        buffered.length = 0;
      }
    },
    remove: (rid) => {
      for (const s of removes) {
        s.run(rid);
      }
    },
  };
}

export function createSearchIndexer(): SearchIndexer {
  // Prepared statements and buffers per database handle (the indexer may serve several stores in tests).
  const states = new WeakMap<Db, { s: Statements; deferring: number }>();
  const state = (db: Db): { s: Statements; deferring: number } => {
    let st = states.get(db);
    if (!st) {
      st = { s: prepare(db), deferring: 0 };
      states.set(db, st);
    }
    return st;
  };
  return {
    index(db, rid, resource) {
      const st = state(db);
      const mark = st.s.mark();
      try {
        indexResource(st.s, rid, resource);
      } catch (err) {
        st.s.truncate(mark); // a failed resource leaves no rows behind
        throw err;
      }
      if (st.deferring === 0 || st.s.pending() >= DEFERRED_FLUSH_VALUES) {
        st.s.flush();
      }
    },
    remove(db, rid) {
      const { s } = state(db);
      s.flush(); // rows of this rid may still be buffered (created earlier in the same scope)
      s.remove(rid);
    },
    flush(db) {
      state(db).s.flush();
    },
    deferred(db, fn) {
      const st = state(db);
      st.deferring++;
      try {
        const result = fn();
        st.s.flush();
        return result;
      } catch (err) {
        st.s.truncate(INDEX_TABLES.map(() => 0)); // the caller's transaction rolls back: nothing of the scope stays
        throw err;
      } finally {
        st.deferring--;
      }
    },
  };
}

function indexResource(s: Statements, rid: number, resource: Resource): void {
  const compartments = new Set<string>();
  if (resource.resourceType === 'Patient' && resource.id) {
    compartments.add(`Patient/${resource.id}`);
  }
  // Medplum's account compartments: meta.accounts (meta.account is its deprecated single form).
  const meta = resource.meta;
  for (const ref of [...(meta?.account ? [meta.account] : []), ...(meta?.accounts ?? []), ...(meta?.compartment ?? [])]) {
    if (typeof ref?.reference === 'string') {
      compartments.add(ref.reference);
    }
  }
  for (const p of getWritePlan(resource.resourceType)) {
    const values = p.extract(resource);
    if (values.length === 0) {
      continue;
    }
    const pid = p.def.pid;
    switch (p.def.type) {
      case 'token': {
        const tokens: Token[] = [];
        const texts: string[] = [];
        for (const v of values) {
          toTokens(v, tokens, texts);
        }
        const seen = new Set<string>();
        for (const t of tokens) {
          const key = `${t.system}|${t.code}`;
          if (!seen.has(key)) {
            seen.add(key);
            s.token(pid, t.code, t.system, rid);
          }
        }
        seen.clear();
        for (const t of texts) {
          // Coding.display and CodeableConcept.text are often the same words.
          if (!seen.has(t)) {
            seen.add(t);
            s.string(p.textPid, normalizeString(t), rid, t);
          }
        }
        if (tokens.length === 0) {
          s.token(pid, '', '', rid); // present, though without a code: :missing=false must still match
        }
        break;
      }
      case 'uri':
        for (const v of values) {
          if (typeof v === 'string') {
            s.token(pid, v, '', rid);
          }
        }
        break;
      case 'string': {
        const strings: string[] = [];
        for (const v of values) {
          toStrings(v, strings);
        }
        for (const str of new Set(strings)) {
          s.string(pid, normalizeString(str), rid, str);
        }
        if (strings.length === 0) {
          s.string(pid, '', rid, ''); // present marker (see token)
        }
        break;
      }
      case 'reference': {
        const refs: RefValue[] = [];
        const identifiers: Token[] = [];
        for (const v of values) {
          toReferences(v, refs, identifiers);
        }
        for (const r of refs) {
          s.ref(pid, r.refId, r.refType, rid);
          if (p.patientCompartment && r.refType === 'Patient') {
            compartments.add(`Patient/${r.refId}`);
          }
        }
        for (const t of identifiers) {
          s.token(p.identifierPid, t.code, t.system, rid);
        }
        if (refs.length === 0) {
          s.ref(pid, '', '', rid); // present marker: a logical (identifier or display only) reference
        }
        break;
      }
      case 'date': {
        const ranges: DateRange[] = [];
        for (const v of values) {
          toDateRanges(v, ranges);
        }
        for (const r of ranges) {
          s.date(isShortRange(r.lo, r.hi) ? pid : -pid, r.lo, r.hi, rid);
        }
        break;
      }
      case 'number': {
        const nums: number[] = [];
        for (const v of values) {
          toNumbers(v, nums);
        }
        for (const n of nums) {
          s.number(pid, n, rid);
        }
        break;
      }
      case 'quantity': {
        const qs: QuantityValue[] = [];
        for (const v of values) {
          toQuantities(v, qs);
        }
        for (const q of qs) {
          s.quantity(pid, q, rid);
        }
        break;
      }
      case 'composite':
        if (p.composite) {
          indexComposite(s, pid, rid, values, p.composite);
        }
        break;
    }
  }
  for (const c of compartments) {
    const slash = c.indexOf('/');
    if (slash > 0) {
      s.compartment(c.slice(slash + 1), c.slice(0, slash), rid);
    }
  }
}

function indexComposite(s: Statements, pid: number, rid: number, elements: unknown[], c: NonNullable<PlannedParam['composite']>): void {
  const seen = new Set<string>();
  for (const element of elements) {
    const firsts: Token[] = [];
    for (const v of c.first(element as Resource)) {
      toTokens(v, firsts, []);
    }
    if (firsts.length === 0) {
      continue;
    }
    const seconds: CompositeValue[] = [];
    for (const v of c.second(element as Resource)) {
      seconds.push(...compositeValues(v, c.secondType));
    }
    for (const f of firsts) {
      for (const v of seconds) {
        const key = JSON.stringify([f, v]);
        if (!seen.has(key)) {
          seen.add(key);
          s.composite(pid, f, rid, seen.size, v);
        }
      }
    }
  }
}

function compositeValues(v: unknown, type: string): CompositeValue[] {
  switch (type) {
    case 'token': {
      const tokens: Token[] = [];
      toTokens(v, tokens, []);
      return tokens.map((t) => ({ system: t.system, code: t.code }));
    }
    case 'quantity': {
      const qs: QuantityValue[] = [];
      toQuantities(v, qs);
      return qs.map((q) => ({ num: q.value, system: q.system, code: q.code, unit: q.unit }));
    }
    case 'number': {
      const nums: number[] = [];
      toNumbers(v, nums);
      return nums.map((n) => ({ num: n }));
    }
    case 'date': {
      const ranges: DateRange[] = [];
      toDateRanges(v, ranges);
      return ranges.map((r) => ({ lo: r.lo, hi: r.hi }));
    }
    case 'string': {
      const strs: string[] = [];
      toStrings(v, strs);
      return strs.map((str) => ({ code: normalizeString(str), unit: str }));
    }
    case 'reference': {
      const refs: RefValue[] = [];
      toReferences(v, refs, []);
      return refs.map((r) => ({ system: r.refType, code: r.refId }));
    }
    case 'uri':
      return typeof v === 'string' ? [{ code: v }] : [];
    default:
      return [];
  }
}
