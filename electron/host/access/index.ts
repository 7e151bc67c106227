// Public surface of the access engine's pure logic (no database): what the enforcement point, the
// SQL compiler, /auth/me and the policy review use.
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
export { restrictionFor, refusedSearchParams, assertSearchAllowed, createSearchGuard, criteriaFilters } from './search-guard.ts';
export type { Restriction, EntryFilter, SearchGuard } from './search-guard.ts';
export { visibleVersion, decideWrite, decideDelete } from './decisions.ts';
export type { EntryMatcher, WriteDecision, WriteInput } from './decisions.ts';
