// Builds the effective policy of a session (spec "Building the effective policy"): the membership's
// accessPolicy, then each access[] policy in order with its parameters; variables substituted per
// value; all resource[] entries concatenated. Fail closed: anything that cannot be given a safe
// meaning makes its entry match nothing and is reported as a warning.
import type { AccessPolicy, AccessPolicyResource, ProjectMembership, User } from '@medplum/fhirtypes';
import { isResourceType } from '@medplum/core';
import { errors } from '../../../../shared/errors.ts';
import { loadFhirDefinitions } from '../../fhir/definitions.ts';
import { checkCriteria } from './criteria.ts';
import { fhirPathProblem, normalizeAccessPolicy } from './policy-validate.ts';
import type { EffectivePolicy, EntryOrigin, Interaction, PolicyEntry, PolicyWarning, WriteConstraint } from './types.ts';
import { ADMIN_ONLY_TYPES, ALL_INTERACTIONS, PROTECTED_TYPES, READ_INTERACTIONS } from './types.ts';
import type { MissingVariable, ProjectMembershipParameter, SubstitutionMode, VariableLookup } from './variables.ts';
import { createVariableLookup, substituteVariables } from './variables.ts';

export type PolicyResolver = ReadonlyMap<string, AccessPolicy> | ((reference: string) => AccessPolicy | undefined);

export interface BuildInput {
  membership: ProjectMembership;
  /** Resolves 'AccessPolicy/<id>' to the stored policy. */
  policies: PolicyResolver;
  /** The profile resource (only type and id are read; membership.profile suffices). */
  profile?: { resourceType: string; id?: string };
  user?: Pick<User, 'id' | 'email'>;
}

export const DEFAULT_ORIGIN = '(default)';
export const ADMIN_ORIGIN = '(project-admin)';

/**
 * What a project admin may manage besides their clinical policy (spec: admin does not bypass the
 * policy for clinical data). Secrets stay hidden; a project's protected settings stay read-only.
 */
const ADMIN_ENTRIES: AccessPolicyResource[] = [
  {
    resourceType: 'Project',
    interaction: ['read', 'vread', 'search', 'history', 'update'],
    readonlyFields: ['superAdmin', 'features', 'link', 'owner', 'systemSetting', 'systemSecret'],
    hiddenFields: ['systemSecret'],
  },
  { resourceType: 'ProjectMembership' },
  // Passwords and MFA secrets are set through the auth endpoints only, never through FHIR.
  { resourceType: 'User', hiddenFields: ['passwordHash', 'mfaSecret'], readonlyFields: ['passwordHash', 'mfaSecret'] },
  { resourceType: 'AccessPolicy' },
  { resourceType: 'ClientApplication' },
  { resourceType: 'Bot' },
];

function resolvePolicy(policies: PolicyResolver, reference: string): AccessPolicy | undefined {
  return typeof policies === 'function' ? policies(reference) : policies.get(reference);
}

function interactionsOf(entry: AccessPolicyResource, warn: (message: string) => void): Set<Interaction> {
  if (entry.interaction) {
    const valid = entry.interaction.filter((i) => ALL_INTERACTIONS.includes(i));
    if (valid.length !== entry.interaction.length) {
      warn(`unknown interaction codes ignored: ${entry.interaction.filter((i) => !valid.includes(i)).join(', ')}`);
    }
    return new Set(valid);
  }
  return new Set(entry.readonly === true ? READ_INTERACTIONS : ALL_INTERACTIONS);
}

interface EntryContext {
  lookup: VariableLookup;
  origin: EntryOrigin;
  policyCompartment?: string;
  warnings: PolicyWarning[];
}

function describeOrigin(origin: EntryOrigin): string {
  return `${origin.policy} resource[${origin.index}]`;
}

function buildEntry(raw: AccessPolicyResource, ctx: EntryContext): PolicyEntry {
  const { origin, warnings } = ctx;
  let matchesNothing = false;
  const fail = (message: string, code: PolicyWarning['code'] = 'invalid-entry'): void => {
    matchesNothing = true;
    warnings.push({ code, message: `${describeOrigin(origin)}: ${message}; the entry grants nothing`, origin });
  };
  const substitute = (field: string, text: string, mode: SubstitutionMode): string => {
    const result = substituteVariables(text, ctx.lookup, mode);
    for (const m of result.missing) {
      reportMissing(field, m, fail);
    }
    return result.text;
  };

  const type = raw.resourceType;
  if (type !== '*' && !isResourceType(type)) {
    fail(`'${String(type)}' is not a resource type`);
  } else if (PROTECTED_TYPES.has(type)) {
    fail(`${type} is a protected type`);
  }
  const loose = raw as AccessPolicyResource & { hidden?: unknown; readonly?: unknown };
  if (loose.hidden !== undefined || (loose.readonly !== undefined && typeof loose.readonly !== 'boolean')) {
    fail('hidden / readonly have a form that cannot be read (expected a list of field paths, or readonly true/false)');
  }
  for (const field of ['hiddenFields', 'readonlyFields'] as const) {
    if (raw[field] !== undefined && (!Array.isArray(raw[field]) || raw[field].some((f) => typeof f !== 'string'))) {
      fail(`${field} must be a list of field paths`);
    }
  }
  const interactions = interactionsOf(raw, (message) => warnings.push({ code: 'invalid-entry', message: `${describeOrigin(origin)}: ${message}`, origin }));

  let criteria: string | undefined;
  if (raw.criteria !== undefined) {
    criteria = substitute('criteria', raw.criteria, 'criteria');
    if (!matchesNothing) {
      const check = checkCriteria(type, criteria);
      if (!check.ok) {
        fail(`criteria '${criteria}': ${check.reason}`);
      }
    }
  }
  let compartment: string | undefined;
  const compartmentRef = raw.compartment?.reference ?? ctx.policyCompartment;
  if (raw.compartment && !raw.compartment.reference) {
    fail('compartment has no reference');
  } else if (compartmentRef !== undefined) {
    compartment = substitute('compartment', compartmentRef, 'reference');
    if (!matchesNothing && !/^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(compartment)) {
      fail(`compartment '${compartment}' is not a reference Type/id`);
    }
  }
  const writeConstraints: WriteConstraint[] = (raw.writeConstraint ?? []).map((wc, j) => {
    const expression = substitute(`writeConstraint[${j}]`, wc.expression ?? '', 'fhirpath');
    const problem = wc.expression ? fhirPathProblem(expression) : 'no expression';
    if (problem) {
      fail(`writeConstraint[${j}] cannot be parsed (${problem})`);
    }
    return { expression, description: wc.description ?? `Write constraint ${expression} not satisfied` };
  });

  return {
    resourceType: type,
    interactions,
    ...(criteria !== undefined ? { criteria } : {}),
    ...(compartment !== undefined ? { compartment } : {}),
    hiddenFields: stringList(raw.hiddenFields),
    readonlyFields: stringList(raw.readonlyFields),
    writeConstraints,
    matchesNothing,
    origin,
  };
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function reportMissing(field: string, m: MissingVariable, fail: (message: string, code: PolicyWarning['code']) => void): void {
  if (m.reason === 'no-value') {
    fail(`${field} uses ${m.token}, which has no value for this membership`, 'unfilled-variable');
  } else {
    fail(`${field} uses ${m.token}, which is not a known variable`, 'unknown-variable');
  }
}

/**
 * The effective policy of a membership. Throws a 400 FhirError naming the policy when a referenced
 * AccessPolicy does not exist (login fails with it).
 */
export function buildEffectivePolicy(input: BuildInput): EffectivePolicy {
  loadFhirDefinitions();
  const { membership } = input;
  const admin = membership.admin === true;
  const refs: { reference: string; parameters: ProjectMembershipParameter[] }[] = [];
  if (membership.accessPolicy) {
    refs.push({ reference: membership.accessPolicy.reference ?? '', parameters: [] });
  }
  for (const access of membership.access ?? []) {
    refs.push({ reference: access.policy?.reference ?? '', parameters: access.parameter ?? [] });
  }
  const membershipRef = membership.id ? `ProjectMembership/${membership.id}` : 'the membership';
  const entries: PolicyEntry[] = [];
  const warnings: PolicyWarning[] = [];
  const usedPolicies: string[] = [];

  for (const { reference, parameters } of refs) {
    const policy = /^AccessPolicy\/[^/]+$/.test(reference) ? resolvePolicy(input.policies, reference) : undefined;
    if (!policy) {
      throw errors.badRequest(`Access policy ${reference || '(empty reference)'} of ${membershipRef} does not exist`, 'ProjectMembership.accessPolicy');
    }
    usedPolicies.push(reference);
    const lookup = createVariableLookup({ membership, profile: input.profile, user: input.user }, parameters);
    const { policy: normalized, notes } = normalizeAccessPolicy(policy);
    for (const note of notes) {
      warnings.push({ code: 'legacy-form', message: `${reference} ${note}` });
    }
    if (policy.basedOn?.length) {
      warnings.push({ code: 'ignored-field', message: `${reference}: basedOn is not applied; copy the entries you need` });
    }
    if (policy.ipAccessRule?.length) {
      warnings.push({ code: 'ignored-field', message: `${reference}: ipAccessRule is not applied (Outpost serves the loopback interface only)` });
    }
    (normalized.resource ?? []).forEach((raw, index) => {
      const origin = { policy: reference, index };
      if (!admin && ADMIN_ONLY_TYPES.has(raw.resourceType)) {
        warnings.push({
          code: 'admin-type-dropped',
          message: `${describeOrigin(origin)}: ${raw.resourceType} is for project admins only; the entry is ignored for this non-admin membership`,
          origin,
        });
        return;
      }
      entries.push(buildEntry(raw, { lookup, origin, policyCompartment: normalized.compartment?.reference, warnings }));
    });
  }

  if (refs.length === 0) {
    entries.push({
      resourceType: '*',
      interactions: new Set(ALL_INTERACTIONS),
      hiddenFields: [],
      readonlyFields: [],
      writeConstraints: [],
      matchesNothing: false,
      origin: { policy: DEFAULT_ORIGIN, index: 0 },
    });
    warnings.push({
      code: 'no-policy',
      message: `${membershipRef} has no access policy: it may read and write every non-admin resource of the project`,
    });
  }
  if (admin) {
    const lookup = createVariableLookup({ membership, profile: input.profile, user: input.user });
    ADMIN_ENTRIES.forEach((raw, index) => entries.push(buildEntry(raw, { lookup, origin: { policy: ADMIN_ORIGIN, index }, warnings })));
  }

  return {
    entries,
    warnings,
    source: {
      ...(membership.id ? { membership: `ProjectMembership/${membership.id}` } : {}),
      ...(membership.profile?.reference ? { profile: membership.profile.reference } : {}),
      policies: usedPolicies,
      admin,
    },
  };
}

/**
 * The effective policy as one AccessPolicy resource (for `/auth/me` and Medplum tooling): entries
 * that match nothing are left out, so the resource never grants more than the engine.
 */
export function toAccessPolicy(policy: EffectivePolicy): AccessPolicy {
  return {
    resourceType: 'AccessPolicy',
    resource: policy.entries
      .filter((e) => !e.matchesNothing)
      .map((e) => ({
        resourceType: e.resourceType,
        interaction: ALL_INTERACTIONS.filter((i) => e.interactions.has(i)),
        ...(e.criteria ? { criteria: e.criteria } : {}),
        ...(e.compartment ? { compartment: { reference: e.compartment } } : {}),
        ...(e.hiddenFields.length ? { hiddenFields: e.hiddenFields } : {}),
        ...(e.readonlyFields.length ? { readonlyFields: e.readonlyFields } : {}),
        ...(e.writeConstraints.length
          ? { writeConstraint: e.writeConstraints.map((w) => ({ language: 'text/fhirpath' as const, expression: w.expression, description: w.description })) }
          : {}),
      })),
  };
}
