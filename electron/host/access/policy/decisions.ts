// The per-resource decisions of the enforcement point, composed from the pieces of this folder. They
// stay pure: whether a resource satisfies an entry's criteria / compartment is asked of the caller
// (`matches`), which answers with the search module's SQL (for a new version, inside the write's
// transaction before it commits, so a denial rolls everything back).
import type { Resource } from '@medplum/fhirtypes';
import { errors } from '../../../../shared/errors.ts';
import { protectOnWrite } from './fields.ts';
import { entriesFor, governingEntry } from './interactions.ts';
import type { EffectivePolicy, Interaction, PolicyEntry } from './types.ts';
import type { WriteConstraintSet } from './write-constraints.ts';
import { compileWriteConstraints } from './write-constraints.ts';

const READ_TYPE: Interaction[] = ['read', 'vread', 'search', 'history'];

/** Does the resource satisfy this entry's criteria and compartment? (an unrestricted entry: always) */
export type EntryMatcher = (entry: PolicyEntry, resource: Resource) => boolean;

type PolicyLike = Pick<EffectivePolicy, 'entries'>;

export interface WriteInput<T extends Resource> {
  policy: PolicyLike;
  /** Stored current version for update; undefined for create. */
  before?: T;
  /** What the client sent. */
  after: T;
  matches: EntryMatcher;
  /** Compiled constraints of an entry (pass a createWriteConstraintCache().forEntry to compile once). */
  constraintsOf?: (entry: PolicyEntry) => WriteConstraintSet;
}

export interface WriteDecision<T extends Resource> {
  /** The resource to store: readonly (and, on update, hidden) fields protected. */
  resource: T;
  /** The update/create entry that governs the new version (its write constraints were satisfied). */
  entry: PolicyEntry;
}

/**
 * Create and update (PATCH is an update: pass the patched result as `after`). 403 when the type is
 * not writable, when the stored version is outside the role's update reach, when the new version
 * is outside it (a user cannot move a resource out of, or into, their reach), or when a write
 * constraint of the governing entry is not exactly true. The caller has already answered 404 when
 * the stored version is not readable.
 * Masks: on update, those of the update entry governing the stored version plus the hidden fields
 * of the entries governing its reads (what the client saw); on create, those of the entry governing
 * what was sent.
 */
export function decideWrite<T extends Resource>(input: WriteInput<T>): WriteDecision<T> {
  const { policy, before, after, matches } = input;
  const interaction: Interaction = before ? 'update' : 'create';
  const type = after.resourceType;
  const candidates = entriesFor(policy, type, interaction);
  if (candidates.length === 0) {
    throw errors.forbidden(`This role may not ${interaction} ${type}`);
  }
  let maskEntry: PolicyEntry | undefined;
  if (before) {
    maskEntry = governingEntry(candidates, (e) => matches(e, before));
    if (!maskEntry) {
      throw errors.forbidden(`This ${type} is outside what this role may update`);
    }
  } else {
    maskEntry = governingEntry(candidates, (e) => matches(e, after));
  }
  // On update the client saw the stored version through the entries governing its reads (read,
  // vread, search, history): what they hide must survive too, even when the update entry hides nothing.
  const seenThrough = before
    ? READ_TYPE.map((i) => governingEntry(entriesFor(policy, type, i), (e) => matches(e, before))).filter((e) => e !== undefined)
    : [];
  const hidden = [...new Set([...(maskEntry?.hiddenFields ?? []), ...seenThrough.flatMap((e) => e.hiddenFields)])];
  const resource = protectOnWrite({ before, after, hidden, readonly: maskEntry?.readonlyFields ?? [], isCreate: !before });
  const entry = governingEntry(candidates, (e) => matches(e, resource));
  if (!entry) {
    throw errors.forbidden(before ? `The new version of this ${type} would be outside what this role may update` : `This role may not create this ${type}`);
  }
  const constraints = input.constraintsOf?.(entry) ?? compileWriteConstraints(entry.writeConstraints);
  constraints.check({ before, after: resource });
  return { resource, entry };
}

/** Delete: the stored version must match a delete entry (the caller answered 404 when not readable). */
export function decideDelete(policy: PolicyLike, stored: Resource, matches: EntryMatcher): PolicyEntry {
  const entry = governingEntry(entriesFor(policy, stored.resourceType, 'delete'), (e) => matches(e, stored));
  if (!entry) {
    throw errors.forbidden(`This role may not delete this ${stored.resourceType}`);
  }
  return entry;
}
