// Writes a resource's search index rows (inside the store's write transaction). For each resource
// type a plan is built once: every search parameter with its compiled extractor. Indexing is then a
// loop of extract -> convert -> INSERT with prepared statements.
import type { Resource } from '@medplum/fhirtypes';
import type { Db } from '../db/types.ts';
import { loadFhirDefinitions, readPatientCompartment } from '../fhir/definitions.ts';
import { isShortRange } from './dates.ts';
import { compileExtractor, compileRelativeExtractor } from './extract.ts';
import type { Extractor } from './extract.ts';
import { COLUMN_PARAMS, getParamRegistry, paramId } from './params.ts';
import type { ParamDef } from './params.ts';
import { storedThrough } from './shared-rows.ts';
import { DEFERRED_FLUSH_VALUES, prepareIndexWriter, type CompositeValue, type Statements } from './index-writer.ts';
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

export function createSearchIndexer(): SearchIndexer {
  // Prepared statements and buffers per database handle (the indexer may serve several stores in tests).
  const states = new WeakMap<Db, { s: Statements; deferring: number }>();
  /** Open transaction levels per connection, followed from the start (the writer is made on first use). */
  const levels = new WeakMap<Db, number>();
  const state = (db: Db): { s: Statements; deferring: number } => {
    let st = states.get(db);
    if (!st) {
      st = { s: prepareIndexWriter(db, levels.get(db) ?? 0), deferring: 0 };
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
    // Nothing buffered before the first index write, and the index tables may not exist yet
    // (migrations): a connection without state has nothing to flush and no levels to follow yet.
    flush(db) {
      states.get(db)?.s.flush();
    },
    begin(db) {
      levels.set(db, (levels.get(db) ?? 0) + 1);
      states.get(db)?.s.begin();
    },
    release(db) {
      levels.set(db, (levels.get(db) ?? 1) - 1);
      states.get(db)?.s.release();
    },
    rollback(db) {
      levels.set(db, (levels.get(db) ?? 1) - 1);
      states.get(db)?.s.rollback();
    },
    deferred(db, fn) {
      const st = state(db);
      st.deferring++;
      try {
        const result = fn();
        st.s.flush();
        return result;
      } catch (err) {
        st.s.discard(); // the caller's transaction rolls back: nothing of the scope stays
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
