// "What can this role see": counts of visible resources per type, computed with the enforcement
// point's own SQL: the session's restriction (restrictionFor over the effective policy) compiled by
// the enforcement entry compiler (which uses the search module's filter compiler), applied by search
// to the main type, chains, _has and includes alike. Each count is one `_summary=count` search: nothing
// is loaded into JavaScript to be filtered.
import { restrictionFor } from '../access/index.ts';
import type { EffectivePolicy } from '../access/index.ts';
import { createEntryCompiler } from '../enforce/sql-match.ts';
import type { SqlFragment } from '../search/types.ts';
import type { Store } from '../store/types.ts';

/** The search-module restrict hook of a policy, as the enforcement point builds it for searches. */
export function restrictHook(store: Pick<Store, 'db'>, project: string, policy: Pick<EffectivePolicy, 'entries'>): (resourceType: string) => SqlFragment | null | false {
  const compiler = createEntryCompiler(store.db, project);
  const memo = new Map<string, SqlFragment | null | false>();
  return (resourceType) => {
    if (!memo.has(resourceType)) {
      memo.set(resourceType, compiler.restriction(restrictionFor(policy, resourceType, 'search'), resourceType));
    }
    return memo.get(resourceType)!;
  };
}

/** Resources of a type the policy lets the role find by search in the project. */
export function countVisible(store: Store, project: string, policy: Pick<EffectivePolicy, 'entries'>, resourceType: string): number {
  const restrict = restrictHook(store, project, policy);
  if (restrict(resourceType) === false) {
    return 0;
  }
  return store.search(resourceType, '_summary=count', { project, search: { restrict } }).total ?? 0;
}

/** Live resource types present in the project (what a `*` entry is counted over). */
export function typesInProject(store: Pick<Store, 'db'>, project: string): string[] {
  return store.db.prepare('SELECT DISTINCT type FROM resource WHERE project = ? AND deleted = 0 ORDER BY type').pluck().all(project) as string[];
}
