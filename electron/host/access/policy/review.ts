// The policy review (Outpost goes further): for a membership, its effective policy after
// substitution, in words and as data, with warnings a project admin should act on. The "what can this
// role see" counts need SQL: the caller passes `countVisible`, which must use the same predicates as
// enforcement (the union of the given entries' criteria / compartments).
import type { AccessPolicy } from '@medplum/fhirtypes';
import { medplumAcceptsCriteria } from '../../../../shared/fhir/medplum-policy.ts';
import { criteriaInWords } from './criteria-words.ts';
import { entriesFor, entryCoversType, isUnrestricted } from './interactions.ts';
import type { BuildInput } from './policy-build.ts';
import { buildEffectivePolicy, toAccessPolicy } from './policy-build.ts';
import type { EffectivePolicy, PolicyEntry, PolicyWarning } from './types.ts';
import { ALL_INTERACTIONS } from './types.ts';

/** Visible resources of a type for the role: the union of `entries` (all allow search on that type). */
export type CountVisible = (resourceType: string, entries: PolicyEntry[]) => number;

export interface ReviewInput extends BuildInput {
  countVisible?: CountVisible;
  /** Types to count for `*` entries (e.g. the types present in the store). Named types are always counted. */
  countTypes?: string[];
}

export interface PolicyReview {
  membership?: string;
  profile?: string;
  admin: boolean;
  policy: EffectivePolicy;
  /** The effective policy as an AccessPolicy resource. */
  accessPolicy: AccessPolicy;
  /** Build warnings and review findings. */
  warnings: PolicyWarning[];
  /** The policy in words: one line per entry. */
  lines: string[];
  /** Visible resources per type, when countVisible was given. */
  counts?: { resourceType: string; count: number }[];
}

function sameScope(a: PolicyEntry, b: PolicyEntry): boolean {
  return (a.criteria ?? '') === (b.criteria ?? '') && (a.compartment ?? '') === (b.compartment ?? '');
}

function coversEntryType(earlier: PolicyEntry, later: PolicyEntry): boolean {
  if (earlier.resourceType === later.resourceType) {
    return true;
  }
  return earlier.resourceType === '*' && later.resourceType !== '*' && entryCoversType(earlier, later.resourceType);
}

/** Entries made redundant by an earlier, at least as broad entry of the same type and interactions. */
export function findShadowedEntries(policy: EffectivePolicy): PolicyWarning[] {
  const warnings: PolicyWarning[] = [];
  policy.entries.forEach((later, j) => {
    if (later.matchesNothing) {
      return;
    }
    const shadow = policy.entries.slice(0, j).find(
      (earlier) =>
        !earlier.matchesNothing &&
        coversEntryType(earlier, later) &&
        (isUnrestricted(earlier) || sameScope(earlier, later)) &&
        [...later.interactions].every((i) => earlier.interactions.has(i))
    );
    if (shadow) {
      const masks = later.hiddenFields.length || later.readonlyFields.length || later.writeConstraints.length;
      warnings.push({
        code: 'shadowed-entry',
        message:
          `${label(later)} is shadowed by ${label(shadow)}, which already grants the same or more` +
          (masks ? '; its hidden/readonly fields and write constraints never apply (the first matching entry governs)' : ''),
        origin: later.origin,
      });
    }
  });
  return warnings;
}

/** Is a field path covered by one of the mask paths (equal, or inside one)? */
function coveredBy(field: string, masks: readonly string[]): boolean {
  return masks.some((m) => field === m || field.startsWith(`${m}.`));
}

/** Do two entries' types meet (a `*` meets every type it covers)? */
function typesMeet(a: PolicyEntry, b: PolicyEntry): boolean {
  if (a.resourceType === b.resourceType) {
    return true;
  }
  if (a.resourceType === '*') {
    return entryCoversType(a, b.resourceType);
  }
  return b.resourceType === '*' && entryCoversType(b, a.resourceType);
}

/**
 * Hidden fields this role can still write: on create through an entry that does not make them
 * readonly (readonly fields are dropped on create), or on update through an entry that neither hides
 * nor makes them readonly (those keep the stored value).
 */
export function findWritableHiddenFields(policy: EffectivePolicy): PolicyWarning[] {
  const warnings: PolicyWarning[] = [];
  for (const entry of policy.entries) {
    if (entry.matchesNothing || entry.hiddenFields.length === 0) {
      continue;
    }
    const ways = new Set<string>();
    for (const w of policy.entries) {
      if (w.matchesNothing || !typesMeet(entry, w)) {
        continue;
      }
      if (w.interactions.has('create') && entry.hiddenFields.some((f) => !coveredBy(f, w.readonlyFields))) {
        ways.add(`create (${label(w)})`);
      }
      if (w.interactions.has('update') && entry.hiddenFields.some((f) => !coveredBy(f, [...w.hiddenFields, ...w.readonlyFields]))) {
        ways.add(`update (${label(w)})`);
      }
    }
    if (ways.size > 0) {
      warnings.push({
        code: 'hidden-writable',
        message: `${label(entry)} hides ${entry.hiddenFields.join(', ')}, yet the same role can write them by ${[...ways].join(', ')}`,
        origin: entry.origin,
      });
    }
  }
  return warnings;
}

function wildcardWarnings(policy: EffectivePolicy): PolicyWarning[] {
  return policy.entries
    .filter((e) => e.resourceType === '*' && isUnrestricted(e))
    .map((e) => ({
      code: 'wildcard-without-criteria' as const,
      message: `${label(e)} grants ${interactionWords(e)} on every non-admin resource type without criteria or compartment`,
      origin: e.origin,
    }));
}

/**
 * Entries whose criteria a Medplum server refuses (chains, `_has`: its constraint axp-3): the policy is
 * enforced here, but when the project syncs with Medplum it stays on this workstation (never pushed).
 */
export function findLocalOnlyPolicies(policy: EffectivePolicy): PolicyWarning[] {
  const seen = new Set<string>();
  const warnings: PolicyWarning[] = [];
  for (const e of policy.entries) {
    if (!e.criteria || medplumAcceptsCriteria(e.resourceType, e.criteria) || !e.origin.policy.startsWith('AccessPolicy/') || seen.has(e.origin.policy)) {
      continue;
    }
    seen.add(e.origin.policy);
    warnings.push({
      code: 'stays-local',
      message:
        `${label(e)} uses criteria a Medplum server refuses (a chained or _has search: its constraint axp-3), ${e.criteria}: ` +
        `enforced on this workstation, but when the project syncs with Medplum, ${e.origin.policy} stays on this workstation and is not pushed`,
      origin: e.origin,
    });
  }
  return warnings;
}

function label(e: PolicyEntry): string {
  return `${e.origin.policy} resource[${e.origin.index}] (${e.resourceType})`;
}

function interactionWords(e: PolicyEntry): string {
  const list = ALL_INTERACTIONS.filter((i) => e.interactions.has(i));
  return list.length === ALL_INTERACTIONS.length ? 'every interaction' : list.length ? list.join(', ') : 'no interaction';
}

/** One entry in words. */
export function describeEntry(e: PolicyEntry): string {
  const what = e.resourceType === '*' ? 'every non-admin resource type' : e.resourceType;
  const parts = [`${what}: ${interactionWords(e)}`];
  if (e.criteria) {
    parts.push(`only where ${criteriaInWords(e.criteria)}`);
  }
  if (e.compartment) {
    parts.push(`only in the compartment of ${e.compartment}`);
  }
  if (e.hiddenFields.length) {
    parts.push(`hidden: ${e.hiddenFields.join(', ')}`);
  }
  if (e.readonlyFields.length) {
    parts.push(`read-only: ${e.readonlyFields.join(', ')}`);
  }
  for (const wc of e.writeConstraints) {
    parts.push(`writes must satisfy "${wc.description}"`);
  }
  const line = parts.join('; ');
  return e.matchesNothing ? `${line} (grants nothing: see warnings)` : line;
}

function countsFor(policy: EffectivePolicy, countVisible: CountVisible, countTypes: string[]): { resourceType: string; count: number }[] {
  const types = new Set<string>();
  for (const e of policy.entries) {
    if (e.resourceType !== '*') {
      types.add(e.resourceType);
    }
  }
  if (policy.entries.some((e) => e.resourceType === '*')) {
    for (const t of countTypes) {
      types.add(t);
    }
  }
  return [...types]
    .sort()
    .map((resourceType) => {
      const entries = entriesFor(policy, resourceType, 'search');
      return { resourceType, count: entries.length ? countVisible(resourceType, entries) : 0 };
    });
}

/** The review of one membership. Throws like buildEffectivePolicy when a referenced policy is missing. */
export function reviewMembership(input: ReviewInput): PolicyReview {
  const policy = buildEffectivePolicy(input);
  const warnings = [...policy.warnings, ...wildcardWarnings(policy), ...findShadowedEntries(policy), ...findWritableHiddenFields(policy), ...findLocalOnlyPolicies(policy)];
  return {
    ...(policy.source.membership ? { membership: policy.source.membership } : {}),
    ...(policy.source.profile ? { profile: policy.source.profile } : {}),
    admin: policy.source.admin,
    policy,
    accessPolicy: toAccessPolicy(policy),
    warnings,
    lines: policy.entries.map(describeEntry),
    ...(input.countVisible ? { counts: countsFor(policy, input.countVisible, input.countTypes ?? []) } : {}),
  };
}
