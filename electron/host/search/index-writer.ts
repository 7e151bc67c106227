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
  /** Where each table's buffer ends now: `truncate(mark)` drops what was buffered after it. */
  mark: () => number[];
  truncate: (mark: number[]) => void;
  /** Writes the buffered rows, each table's sorted by its primary key (multi-row INSERTs). */
  flush: () => void;
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

export function prepareIndexWriter(db: Db): Statements {
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
        const { columns } = INSERTS[table];
        const rows = buffered.length / columns;
        const values = rows > 1 ? sortedRows(buffered, columns) : buffered;
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
