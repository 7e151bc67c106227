// Date search in SQL. A search value and a stored value are both inclusive [lo, hi] millisecond
// ranges; each prefix is a set of bounds on the stored lo and hi (FHIR R4 semantics):
//   eq: lo >= s.lo and hi <= s.hi (contained)   ne: not eq
//   gt: hi > s.hi    lt: lo < s.lo    ge: hi >= s.lo    le: lo <= s.hi
//   sa: lo > s.hi    eb: hi < s.lo    ap: overlaps s widened by 10% of its distance from now
// Stored ranges shorter than a day (dates, dateTimes, short periods: nearly all) are indexed under
// the parameter id, longer ones under its negation. For the short ones a bound on hi is also a bound
// on lo (hi - lo < SHORT_SPAN), so every date search is a bounded range scan of the (pid, lo)
// primary key, plus a lookup among the few long ranges.
import type { SqlFragment } from '../db/types.ts';
import type { DateRange } from './values.ts';

export const SHORT_SPAN = 86_400_000;

/** Inclusive bounds on a stored range's lo and hi; undefined = unbounded. */
export interface DateBounds {
  loMin?: number;
  loMax?: number;
  hiMin?: number;
  hiMax?: number;
}

export function isShortRange(lo: number, hi: number): boolean {
  return hi - lo < SHORT_SPAN;
}

export function dateBounds(prefix: string, s: DateRange, now = Date.now()): { bounds: DateBounds; negate: boolean } {
  switch (prefix) {
    case 'eq':
      return { bounds: { loMin: s.lo, hiMax: s.hi }, negate: false };
    case 'ne':
      return { bounds: { loMin: s.lo, hiMax: s.hi }, negate: true };
    case 'gt':
      return { bounds: { hiMin: s.hi + 1 }, negate: false };
    case 'lt':
      return { bounds: { loMax: s.lo - 1 }, negate: false };
    case 'ge':
      return { bounds: { hiMin: s.lo }, negate: false };
    case 'le':
      return { bounds: { loMax: s.hi }, negate: false };
    case 'sa':
      return { bounds: { loMin: s.hi + 1 }, negate: false };
    case 'eb':
      return { bounds: { hiMax: s.lo - 1 }, negate: false };
    default: {
      const width = Math.max(SHORT_SPAN, Math.abs(now - s.lo) * 0.1);
      return { bounds: { loMax: s.hi + width, hiMin: s.lo - width }, negate: false };
    }
  }
}

/** Both sets of bounds at once (AND of two conditions on the same stored value). */
export function intersectBounds(a: DateBounds, b: DateBounds): DateBounds {
  const max = (x?: number, y?: number): number | undefined => (x === undefined ? y : y === undefined ? x : Math.max(x, y));
  const min = (x?: number, y?: number): number | undefined => (x === undefined ? y : y === undefined ? x : Math.min(x, y));
  return { loMin: max(a.loMin, b.loMin), loMax: min(a.loMax, b.loMax), hiMin: max(a.hiMin, b.hiMin), hiMax: min(a.hiMax, b.hiMax) };
}

/** SQL of bounds over two columns (the same column twice for a point such as last_updated). */
export function boundsSql(b: DateBounds, lo: string, hi: string): SqlFragment {
  const sql: string[] = [];
  const params: unknown[] = [];
  const add = (col: string, op: string, v: number | undefined): void => {
    if (v !== undefined) {
      sql.push(`${col} ${op} ?`);
      params.push(v);
    }
  };
  add(lo, '>=', b.loMin);
  add(lo, '<=', b.loMax);
  add(hi, '>=', b.hiMin);
  add(hi, '<=', b.hiMax);
  return { sql: sql.length ? sql.join(' AND ') : '1', params };
}

/**
 * Conditions on idx_date for one parameter: short ranges (pid, lo bounded on both sides whenever
 * the search bounds anything) and long ranges (-pid).
 */
export function dateTableConds(pid: number, b: DateBounds): SqlFragment[] {
  // For short rows: lo > hi - SHORT_SPAN and lo <= hi, so hi bounds become lo bounds.
  const shortLoMin = Math.max(b.loMin ?? -Infinity, b.hiMin === undefined ? -Infinity : b.hiMin - SHORT_SPAN + 1);
  const shortLoMax = Math.min(b.loMax ?? Infinity, b.hiMax ?? Infinity);
  const short = boundsSql(
    { loMin: Number.isFinite(shortLoMin) ? shortLoMin : undefined, loMax: Number.isFinite(shortLoMax) ? shortLoMax : undefined, hiMin: b.hiMin, hiMax: b.hiMax },
    'lo',
    'hi',
  );
  const long = boundsSql(b, 'lo', 'hi');
  return [
    { sql: `pid = ? AND ${short.sql}`, params: [pid, ...short.params] },
    { sql: `pid = ? AND ${long.sql}`, params: [-pid, ...long.params] },
  ];
}
