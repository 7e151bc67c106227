// The policy's criteria and compartments as SQL, compiled with the search module's own filter code
// so enforcement and search agree on every parameter. One compiled fragment per (entry, type), per
// session: the search restriction of a type is the OR of its entries' fragments; whether one stored
// row satisfies an entry is the same fragment asked of that row.
import { entryFilters, type PolicyEntry, type Restriction } from './policy/index.ts';
import { buildFilters, type BuildContext } from '../search/query.ts';
import type { SqlFragment } from '../db/types.ts';
import { rowSatisfies } from '../db/resources.ts';
import type { Db } from '../db/types.ts';

/** Matches nothing: an entry whose criteria cannot be compiled at run time grants nothing (fail closed). */
const NOTHING: SqlFragment = { sql: '0', params: [] };

export interface EntryCompiler {
  /** The entry's condition on `resource r` for rows of `type`; null when it restricts nothing. */
  fragment(entry: PolicyEntry, type: string): SqlFragment | null;
  /** The OR of a restriction's entries (search's `restrict` hook), or false / null as given. */
  restriction(restriction: Restriction, type: string): SqlFragment | null | false;
  /** Does the stored current row `rid` satisfy the entry? */
  rowMatches(entry: PolicyEntry, type: string, rid: number): boolean;
}

export function createEntryCompiler(db: Db, project: string): EntryCompiler {
  const fragments = new Map<PolicyEntry, Map<string, SqlFragment | null>>();
  // The guard hands out one Restriction object per (type, interaction): its OR is built once per type.
  const ors = new WeakMap<object, Map<string, SqlFragment | null | false>>();

  function compile(entry: PolicyEntry, type: string): SqlFragment | null {
    if (entry.matchesNothing) {
      return NOTHING;
    }
    const filters = entryFilters(entry);
    if (filters.length === 0) {
      return null;
    }
    let n = 0;
    // Aliases of our own, so the fragment nests inside any search without shadowing its tables.
    const ctx: BuildContext = { project, nextAlias: () => `acl${++n}` };
    try {
      const built = buildFilters(ctx, type, filters, 'r');
      if (built.length === 0) {
        return null;
      }
      return { sql: built.map((b) => `(${b.check.sql})`).join(' AND '), params: built.flatMap((b) => b.check.params) };
    } catch {
      return NOTHING;
    }
  }

  function fragment(entry: PolicyEntry, type: string): SqlFragment | null {
    let byType = fragments.get(entry);
    if (!byType) {
      byType = new Map();
      fragments.set(entry, byType);
    }
    if (!byType.has(type)) {
      byType.set(type, compile(entry, type));
    }
    return byType.get(type) ?? null;
  }

  function orOf(restriction: Exclude<Restriction, false | null>, type: string): SqlFragment | null | false {
    const parts: SqlFragment[] = [];
    for (const { entry } of restriction) {
      const f = fragment(entry, type);
      if (f === null) {
        return null;
      }
      parts.push(f);
    }
    return parts.length === 0 ? false : { sql: parts.map((p) => `(${p.sql})`).join(' OR '), params: parts.flatMap((p) => p.params) };
  }

  return {
    fragment,
    restriction(restriction, type) {
      if (restriction === false || restriction === null) {
        return restriction;
      }
      let byType = ors.get(restriction);
      if (!byType) {
        byType = new Map();
        ors.set(restriction, byType);
      }
      if (!byType.has(type)) {
        byType.set(type, orOf(restriction, type));
      }
      return byType.get(type) as SqlFragment | null | false;
    },
    rowMatches(entry, type, rid) {
      const f = fragment(entry, type);
      return f === null || rowSatisfies(db, rid, f);
    },
  };
}

