// One transaction wrapper per connection. better-sqlite3's `db.transaction(fn)` builds a new wrapper
// (four closures and their properties) on every call; hot paths that wrapped each Bundle entry and
// each enforced write that way spent ~5% of a bulk import building wrappers.
import type { Db } from './types.ts';

type Runner = (fn: () => unknown) => unknown;

const runners = new WeakMap<Db, Runner>();

/**
 * Runs `fn` in a transaction on `db`: BEGIN/COMMIT when none is open, else a savepoint, rolled back
 * (and the error rethrown) when `fn` throws, as `db.transaction(fn)()` does.
 */
export function inTransaction<R>(db: Db, fn: () => R): R {
  let run = runners.get(db);
  if (run === undefined) {
    run = db.transaction((body: () => unknown) => body());
    runners.set(db, run);
  }
  return run(fn) as R;
}
