// The buffered writer of index rows: one buffer per index table, written with multi-row INSERTs
// prepared once per row count, each table's rows sorted by its primary key (schema.ts). The indexer
// (indexer.ts) decides what goes in and when it is written.
import type { Statement } from 'better-sqlite3-multiple-ciphers';
import type { Db } from '../db/types.ts';
import type { QuantityValue, Token } from './values.ts';

export interface Statements {
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
  /** Where each table's buffer (at the current transaction level) ends now: `truncate(mark)` drops what was buffered after it. */
  mark: () => number[];
  truncate: (mark: number[]) => void;
  /** Writes the buffered rows, each table's sorted by its primary key (multi-row INSERTs). */
  flush: () => void;
  /** Drops every buffered row (a deferred scope that failed: its transaction rolls back). */
  discard: () => void;
  /**
   * A transaction or savepoint began, was released, or rolled back on the connection. Rows buffered
   * inside a level that rolls back are dropped with it; rows of outer levels that a flush wrote inside
   * it (a read of the index inside a savepoint) are buffered again, since its rollback removed them.
   */
  begin: () => void;
  release: () => void;
  rollback: () => void;
  remove: (rid: number) => void;
}

export interface CompositeValue {
  system?: string | null;
  code?: string | null;
  unit?: string | null;
  num?: number | null;
  lo?: number | null;
  hi?: number | null;
}

export const INDEX_TABLES = ['idx_token', 'idx_string', 'idx_ref', 'idx_date', 'idx_number', 'idx_quantity', 'idx_composite', 'compartment'];

/** Each table's INSERT head and column count. */
const INSERTS: Record<string, { head: string; columns: number }> = {
  idx_token: { head: 'INSERT OR IGNORE INTO idx_token (pid, code, system, rid) VALUES ', columns: 4 },
  idx_string: { head: 'INSERT OR IGNORE INTO idx_string (pid, norm, rid, raw) VALUES ', columns: 4 },
  idx_ref: { head: 'INSERT OR IGNORE INTO idx_ref (pid, ref_id, ref_type, rid) VALUES ', columns: 4 },
  idx_date: { head: 'INSERT OR IGNORE INTO idx_date (pid, lo, hi, rid) VALUES ', columns: 4 },
  idx_number: { head: 'INSERT OR IGNORE INTO idx_number (pid, value, rid) VALUES ', columns: 3 },
  idx_quantity: { head: 'INSERT OR IGNORE INTO idx_quantity (pid, value, system, code, unit, rid) VALUES ', columns: 6 },
  idx_composite: { head: 'INSERT INTO idx_composite (pid, c1_code, c1_system, rid, k, v_system, v_code, v_unit, v_num, v_lo, v_hi) VALUES ', columns: 11 },
  compartment: { head: 'INSERT OR IGNORE INTO compartment (ref_id, ref_type, rid) VALUES ', columns: 3 },
};

/** Rows per INSERT statement. */
const MAX_ROWS = 64;
/** A deferred scope writes its buffered rows once they hold this many values (bounds memory). */
export const DEFERRED_FLUSH_VALUES = 200_000;

/**
 * The buffered rows of one table ordered by their first two columns, the leading primary-key
 * columns of every index table (schema.ts: (pid, value, ...) and compartment's (ref_id, ref_type, ...)).
 * Array.prototype.sort is stable, so rows with equal leading columns keep their arrival order, which
 * is rid order. Consecutive inserts then land on the same or neighbouring B-tree pages, which SQLite
 * finds in its cache with a warm CPU cache; a Bundle's rows in arrival order jump between parameters
 * and values. (Order changes speed only, never content.)
 */
function sortedRows(values: unknown[], columns: number): unknown[] {
  const rows = values.length / columns;
  const order = Array.from({ length: rows }, (_, i) => i * columns);
  order.sort((a, b) => {
    const x0 = values[a] as string | number;
    const y0 = values[b] as string | number;
    if (x0 !== y0) {
      return x0 < y0 ? -1 : 1;
    }
    const x1 = values[a + 1] as string | number;
    const y1 = values[b + 1] as string | number;
    return x1 === y1 ? 0 : x1 < y1 ? -1 : 1;
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

/** `levels`: transactions and savepoints already open on `db` (the writer follows them from there). */
export function prepareIndexWriter(db: Db, levels = 0): Statements {
  // Buffered row values per table, written by flush() with a statement prepared for that row count.
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
  // Buffered rows by transaction level (see Statements.begin): segment 0 outside any transaction,
  // segment d the rows buffered while the transaction or savepoint of depth d was the innermost one.
  // Each segment holds one flat value array per table (INDEX_TABLES order).
  const emptyTables = (): unknown[][] => INDEX_TABLES.map(() => []);
  const segments: unknown[][][] = Array.from({ length: levels + 1 }, emptyTables);
  /** Per open level: rows of outer levels a flush wrote inside it, to buffer again if it rolls back. */
  const restores: { segment: number; tables: unknown[][] }[][] = Array.from({ length: levels + 1 }, () => []);
  let top = segments[levels];
  const T = Object.fromEntries(INDEX_TABLES.map((t, i) => [t, i])) as Record<string, number>;
  const removes = INDEX_TABLES.map((t) => db.prepare(`DELETE FROM ${t} WHERE rid = ?`));
  const append = (into: unknown[], from: unknown[]): void => {
    for (let i = 0; i < from.length; i++) into.push(from[i]);
  };
  const buffered = (): number => segments.reduce((n, tables) => n + tables.reduce((m, values) => m + values.length, 0), 0);
  return {
    token: (pid, code, system, rid) => top[T.idx_token].push(pid, code, system, rid),
    string: (pid, norm, rid, raw) => top[T.idx_string].push(pid, norm, rid, raw),
    ref: (pid, refId, refType, rid) => top[T.idx_ref].push(pid, refId, refType, rid),
    date: (pid, lo, hi, rid) => top[T.idx_date].push(pid, lo, hi, rid),
    number: (pid, value, rid) => top[T.idx_number].push(pid, value, rid),
    quantity: (pid, q, rid) => top[T.idx_quantity].push(pid, q.value, q.system, q.code, q.unit, rid),
    composite: (pid, c1, rid, k, v) =>
      top[T.idx_composite].push(pid, c1.code, c1.system, rid, k, v.system ?? null, v.code ?? null, v.unit ?? null, v.num ?? null, v.lo ?? null, v.hi ?? null),
    compartment: (refId, refType, rid) => top[T.compartment].push(refId, refType, rid),
    pending: buffered,
    mark: () => top.map((values) => values.length),
    truncate: (mark) => top.forEach((values, i) => (values.length = mark[i])),
    flush: () => {
      if (buffered() === 0) {
        return;
      }
      // Rows of outer levels are written inside the innermost one: if it rolls back, they are buffered again.
      const depth = segments.length - 1;
      for (let j = 0; j < depth; j++) {
        if (segments[j].some((values) => values.length > 0)) {
          restores[depth].push({ segment: j, tables: segments[j] });
        }
      }
      INDEX_TABLES.forEach((table, t) => {
        const values: unknown[] = [];
        for (const tables of segments) append(values, tables[t]);
        if (values.length === 0) {
          return;
        }
        const { columns } = INSERTS[table];
        const rows = values.length / columns;
        const sorted = rows > 1 ? sortedRows(values, columns) : values;
        for (let start = 0; start < rows; start += MAX_ROWS) {
          const n = Math.min(MAX_ROWS, rows - start);
          statement(table, n).run(...(n === rows ? sorted : sorted.slice(start * columns, (start + n) * columns)));
        }
      });
      for (let j = 0; j <= depth; j++) segments[j] = emptyTables();
      top = segments[depth];
    },
    discard: () => {
      for (let j = 0; j < segments.length; j++) segments[j] = emptyTables();
      top = segments[segments.length - 1];
    },
    begin: () => {
      segments.push(emptyTables());
      restores.push([]);
      top = segments[segments.length - 1];
    },
    release: () => {
      const tables = segments.pop() as unknown[][];
      const restore = restores.pop() ?? [];
      const parent = segments.length - 1;
      top = segments[parent];
      tables.forEach((values, t) => append(top[t], values));
      // Rows of the parent level written inside the released one stay written, as the parent's own
      // writes are; rows of levels further out must still be buffered again if the parent rolls back.
      restores[parent].push(...restore.filter((r) => r.segment < parent));
    },
    rollback: () => {
      segments.pop();
      const restore = restores.pop() ?? [];
      top = segments[segments.length - 1];
      for (const r of restore) {
        r.tables.forEach((values, t) => append(segments[r.segment][t], values));
      }
    },
    remove: (rid) => {
      for (const s of removes) {
        s.run(rid);
      }
    },
  };
}
