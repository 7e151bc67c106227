// Public surface of the access engine's pure logic (no database): what the enforcement point, the
// SQL compiler, /auth/me and the policy review use.
//
// Wiring, per session (rebuild whenever a policy or the membership changes):
//   policy = buildEffectivePolicy({ membership, policies: ref => stored AccessPolicy, user })  // 400 if a policy is missing
//   guard = createSearchGuard(policy); constraints = createWriteConstraintCache()
//   /auth/me: toAccessPolicy(policy)
// Per request:
//   typeAllowed(policy, type, interaction) false -> 403 (PATCH = 'patch', counted as update)
//   search: guard.assertAllowed(type, query) (403 on hidden-field params); SearchOptions.restrict =
//     type => guard.restriction(type, 'search') compiled with the search module's buildFilters
//     (false = type not searchable, null = unrestricted, else OR over entries of AND over filters)
//   read/vread/history/search results: visibleVersion(policy, interaction, resource, matches) -> copy
//     without hidden fields, or undefined (404 for read/vread; absent from searches)
//   create/update/patch: decideWrite({ policy, before, after, matches, constraintsOf: constraints.forEntry })
//     -> resource to store (readonly/hidden protected) or a 403; delete: decideDelete(...)
//   PATCH: apply the patch to the role's visible version of the stored resource (not the stored one:
//     a JSON Patch `test` op on a hidden path would be an existence oracle), then decideWrite with
//     before = the stored version, after = the patched result; hidden values come back from `before`.
//   `matches(entry, resource)` answers with SQL: entryFilters(entry) (empty = always) against
//   the row (for a new version, inside the write transaction, so a 403 rolls back).
// On save of an AccessPolicy: validateAccessPolicy(policy) (400 naming AccessPolicy.resource[i].x);
// store normalizeAccessPolicy(policy).policy so the guide's `hidden` / `readonly: [..]` become fields.
export * from './types.ts';
export { buildEffectivePolicy, toAccessPolicy, ADMIN_ORIGIN, DEFAULT_ORIGIN } from './policy-build.ts';
export type { BuildInput, PolicyResolver } from './policy-build.ts';
export { validateAccessPolicy, findPolicyProblems, normalizeAccessPolicy } from './policy-validate.ts';
export type { PolicyProblem } from './policy-validate.ts';
export { checkCriteria } from './criteria.ts';
export { createVariableLookup, substituteVariables, escapeSearchValue } from './variables.ts';
export { entriesFor, typeAllowed, entryCoversType, isUnrestricted, governingEntry, normalizeInteraction } from './interactions.ts';
export type { RequestedInteraction } from './interactions.ts';
export { removeHiddenFields, protectOnWrite, masksOf, hiddenSearchParams } from './fields.ts';
export { compileWriteConstraints, createWriteConstraintCache } from './write-constraints.ts';
export type { WriteConstraintSet } from './write-constraints.ts';
export { reviewMembership, describeEntry, findShadowedEntries, findWritableHiddenFields } from './review.ts';
export type { PolicyReview, CountVisible } from './review.ts';
export { restrictionFor, refusedSearchParams, assertSearchAllowed, createSearchGuard, criteriaFilters, entryFilters } from './search-guard.ts';
export type { Restriction, EntryFilter, SearchGuard } from './search-guard.ts';
export { visibleVersion, decideWrite, decideDelete } from './decisions.ts';
export type { EntryMatcher, WriteDecision, WriteInput } from './decisions.ts';
