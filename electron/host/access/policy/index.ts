// The pure half of the access domain (no database): building a membership's effective policy, its
// search guard (the hidden-field rule), write decisions and constraints, field masks, validation of a
// policy on save and the policy review in words. The enforcement point (../repository.ts and its
// parts) compiles what is here to SQL and applies it to every request.
//
// Per session (rebuilt whenever a policy or the membership changes, see ../principal.ts):
//   policy = buildEffectivePolicy({ membership, policies: ref => stored AccessPolicy, user })  // 400 if a policy is missing
//   guard = createSearchGuard(policy)      // restriction(type, interaction), refused params, assertAllowed(query)
//   constraints = createWriteConstraintCache()
// Per write: decideWrite({ policy, before, after, matches, constraintsOf }) / decideDelete(policy, stored, matches),
// where `matches(entry, resource)` is answered by the enforcement point with the search module's SQL.
// On save of an AccessPolicy: validateAccessPolicy(policy) (400 naming AccessPolicy.resource[i].x), then
// normalizeAccessPolicy(policy).policy so the guide's `hidden` / `readonly: [..]` become fields.
export * from './types.ts';
export { buildEffectivePolicy, toAccessPolicy, ADMIN_ORIGIN, DEFAULT_ORIGIN } from './policy-build.ts';
export type { BuildInput, PolicyResolver } from './policy-build.ts';
export { validateAccessPolicy, findPolicyProblems, normalizeAccessPolicy } from './policy-validate.ts';
export type { PolicyProblem } from './policy-validate.ts';
export { checkCriteria } from './criteria.ts';
export { createVariableLookup, substituteVariables, escapeSearchValue } from './variables.ts';
export { entriesFor, entryCoversType, isUnrestricted, governingEntry, normalizeInteraction } from './interactions.ts';
export type { RequestedInteraction } from './interactions.ts';
export { removeHiddenFields, protectOnWrite, masksOf, hiddenSearchParams } from './fields.ts';
export { compileWriteConstraints, createWriteConstraintCache } from './write-constraints.ts';
export type { WriteConstraintSet } from './write-constraints.ts';
export { reviewMembership, describeEntry, findShadowedEntries, findWritableHiddenFields } from './review.ts';
export type { PolicyReview, CountVisible } from './review.ts';
export { restrictionFor, refusedSearchParams, assertSearchAllowed, createSearchGuard, criteriaFilters, entryFilters } from './search-guard.ts';
export type { Restriction, EntryFilter, SearchGuard } from './search-guard.ts';
export { decideWrite, decideDelete } from './decisions.ts';
export type { EntryMatcher, WriteDecision, WriteInput } from './decisions.ts';
