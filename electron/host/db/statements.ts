// Prepared statements cached per connection: preparing a search's SQL costs as much as running a
// selective one, and the same query shapes recur (paging, the UI's lists). The cache is keyed by the
// connection object (so hosts never share it) and bounded; it holds no data, only compiled SQL.
import type { Statement } from 'better-sqlite3-multiple-ciphers';
import type { Db } from './types.ts';

const MAX_STATEMENTS = 256;
const caches = new WeakMap<Db, Map<string, Statement<unknown[]>>>();

export function prepareCached(db: Db, sql: string): Statement<unknown[]> {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  let st = cache.get(sql);
  if (st) {
    // Refresh its place in the LRU order.
    cache.delete(sql);
  } else {
    st = db.prepare<unknown[]>(sql);
    if (cache.size >= MAX_STATEMENTS) {
      cache.delete(cache.keys().next().value as string);
    }
  }
  cache.set(sql, st);
  return st;
}
