// Contracts of the access engine's pure logic: the effective policy of a session, its entries and
// the warnings found while building it. Everything here is plain data so the enforcement point, the
// SQL compiler (search module) and the policy review can share it.
import type { AccessPolicyInteraction } from '@medplum/core';

export type Interaction = AccessPolicyInteraction;

/** The seven restful interactions an AccessPolicy entry can grant, in Medplum's vocabulary. */
export const ALL_INTERACTIONS: readonly Interaction[] = ['create', 'read', 'vread', 'update', 'delete', 'search', 'history'];

/** Legacy `readonly: true` (with no `interaction`) grants exactly these. */
export const READ_INTERACTIONS: readonly Interaction[] = ['search', 'read', 'history', 'vread'];

/**
 * Types a `*` entry never covers: Medplum's projectAdminResourceTypes, plus AccessPolicy (the spec:
 * policy changes need admin) and the program profiles that hold credentials or code
 * (ClientApplication, Bot). They are reachable only through an entry naming them.
 */
export const WILDCARD_EXCLUDED_TYPES: ReadonlySet<string> = new Set([
  'User',
  'Project',
  'ProjectMembership',
  'AccessPolicy',
  'PasswordChangeRequest',
  'UserSecurityRequest',
  'ClientApplication',
  'Bot',
]);

/**
 * Types only a project admin may touch (spec scenario 9): an entry naming one of them in a non-admin's
 * policy is dropped (with a warning); admins get them from `adminEntries`.
 */
export const ADMIN_ONLY_TYPES: ReadonlySet<string> = new Set([
  'User',
  'Project',
  'ProjectMembership',
  'AccessPolicy',
  'PasswordChangeRequest',
  'UserSecurityRequest',
]);

/** Never reachable through any policy (Medplum's protectedResourceTypes): system internals. */
export const PROTECTED_TYPES: ReadonlySet<string> = new Set(['DomainConfiguration', 'JsonWebKey', 'Login']);

export interface WriteConstraint {
  /** FHIRPath, after variable substitution. Evaluated with %before (absent on create) and %after. */
  expression: string;
  description: string;
}

export interface EntryOrigin {
  /** 'AccessPolicy/<id>', or '(default)' for the no-policy grant, or '(project-admin)' for admin entries. */
  policy: string;
  /** Index in that policy's resource[] (the default and admin entries count from 0 too). */
  index: number;
}

export interface PolicyEntry {
  /** A resource type, or '*' (never covering WILDCARD_EXCLUDED_TYPES). */
  resourceType: string;
  interactions: ReadonlySet<Interaction>;
  /** FHIR search criteria after substitution, e.g. 'Patient?general-practitioner=Practitioner/123'. */
  criteria?: string;
  /** A patient compartment reference after substitution, e.g. 'Patient/abc'. */
  compartment?: string;
  hiddenFields: string[];
  readonlyFields: string[];
  writeConstraints: WriteConstraint[];
  /**
   * True when the entry must grant nothing: a variable without value, criteria that cannot be
   * parsed or name an unknown parameter, a bad compartment. Fail closed; a warning says why.
   */
  matchesNothing: boolean;
  origin: EntryOrigin;
}

export type PolicyWarningCode =
  | 'no-policy'
  | 'unfilled-variable'
  | 'unknown-variable'
  | 'invalid-entry'
  | 'admin-type-dropped'
  | 'ignored-field'
  | 'legacy-form'
  | 'wildcard-without-criteria'
  | 'shadowed-entry'
  | 'hidden-writable'
  | 'stays-local';

export interface PolicyWarning {
  code: PolicyWarningCode;
  message: string;
  origin?: EntryOrigin;
}

export interface EffectivePolicy {
  entries: PolicyEntry[];
  warnings: PolicyWarning[];
  source: {
    /** 'ProjectMembership/<id>' when the membership has an id. */
    membership?: string;
    /** 'Practitioner/123'. */
    profile?: string;
    /** Policies used, in order: membership.accessPolicy first, then access[] entries. */
    policies: string[];
    admin: boolean;
  };
}
