// Which entries of an effective policy apply to a resource type and an interaction: the shallow
// check (type and interaction only) that gives the 403 pre-check and the list of entries whose
// criteria / compartment the enforcement point then compiles to SQL or evaluates.
import type { EffectivePolicy, Interaction, PolicyEntry } from './types.ts';
import { PROTECTED_TYPES, WILDCARD_EXCLUDED_TYPES } from './types.ts';

/** The interactions a request can ask for; PATCH counts as update. */
export type RequestedInteraction = Interaction | 'patch';

export function normalizeInteraction(interaction: RequestedInteraction): Interaction {
  return interaction === 'patch' ? 'update' : interaction;
}

/** Does an entry's resourceType cover a type? `*` never covers the admin types. */
export function entryCoversType(entry: Pick<PolicyEntry, 'resourceType'>, resourceType: string): boolean {
  if (PROTECTED_TYPES.has(resourceType)) {
    return false;
  }
  return entry.resourceType === resourceType || (entry.resourceType === '*' && !WILDCARD_EXCLUDED_TYPES.has(resourceType));
}

/**
 * The entries that apply to (resourceType, interaction), in policy order. Entries that match nothing
 * (fail closed) are never returned. Their criteria / compartment still restrict WHICH resources.
 */
export function entriesFor(policy: Pick<EffectivePolicy, 'entries'>, resourceType: string, interaction: RequestedInteraction): PolicyEntry[] {
  const wanted = normalizeInteraction(interaction);
  return policy.entries.filter((e) => !e.matchesNothing && e.interactions.has(wanted) && entryCoversType(e, resourceType));
}

/** True when an entry restricts nothing within its type (no criteria, no compartment). */
export function isUnrestricted(entry: Pick<PolicyEntry, 'criteria' | 'compartment' | 'matchesNothing'>): boolean {
  return !entry.matchesNothing && !entry.criteria && !entry.compartment;
}

/**
 * The entry whose field masks govern a resource: the first of `entries` the resource matches.
 * `matches` is the caller's test (SQL or in-memory) of one entry's criteria / compartment.
 */
export function governingEntry(entries: readonly PolicyEntry[], matches: (entry: PolicyEntry) => boolean): PolicyEntry | undefined {
  return entries.find((e) => !e.matchesNothing && matches(e));
}
