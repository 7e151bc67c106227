// What the active role may see and change, as the UI needs it.
//
// Hidden fields come from each record's own markers, added by the host to every resource it removed
// fields from (never guessed per type from the policy: the nurse's policy hides contact details of
// confidential patients only, and she sees Mary's phone):
//   meta.tag       { system: ACCESS_TAG_SYSTEM, code: 'masked' };
//   meta.extension { url: HIDDEN_FIELD_EXTENSION, valueString: '<path>' }, one per hidden path, written
//                  as in AccessPolicy.resource.hiddenFields ('name', 'telecom', 'address.line', ...).
// What the role may do comes from the effective policy of /auth/me (variables already substituted), read
// with @medplum/core's satisfiedAccessPolicy: an action is offered only where an entry allows it.
import { parseSearchRequest, satisfiedAccessPolicy, type AccessPolicyInteraction } from '@medplum/core';
import type { AccessPolicy, AccessPolicyResource, Meta, Patient, Resource, ResourceType } from '@medplum/fhirtypes';

export const ACCESS_TAG_SYSTEM = 'https://outpost.local/fhir/CodeSystem/access';
export const MASKED_CODE = 'masked';
export const HIDDEN_FIELD_EXTENSION = 'https://outpost.local/fhir/StructureDefinition/hidden-field';
export const HIDDEN_TEXT = 'hidden by access policy';

/** True when the resource carries the host's "masked" tag. */
export function isMasked(resource: Resource | undefined): boolean {
  return Boolean(resource?.meta?.tag?.some((t) => t.system === ACCESS_TAG_SYSTEM && t.code === MASKED_CODE));
}

/** Hidden paths of one resource: the markers the host put on this very record. */
export function hiddenPaths(resource: Resource | undefined): Set<string> {
  const out = new Set<string>();
  if (!resource) {
    return out;
  }
  const meta = resource.meta as (Meta & { extension?: { url?: string; valueString?: string }[] }) | undefined;
  for (const ext of meta?.extension ?? []) {
    if (ext.url === HIDDEN_FIELD_EXTENSION && ext.valueString) {
      out.add(ext.valueString);
    }
  }
  return out;
}

/** True when `path` (or one of its parents, e.g. 'name' for 'name.family') is hidden. */
export function isHiddenPath(hidden: Set<string>, path: string): boolean {
  const parts = path.split('.');
  for (let i = 1; i <= parts.length; i++) {
    if (hidden.has(parts.slice(0, i).join('.'))) {
      return true;
    }
  }
  return false;
}

export type Interaction = AccessPolicyInteraction;

/** The entry with its restriction removed: satisfiedAccessPolicy on it is Medplum's type-level check. */
function typeOnly(entry: AccessPolicyResource): AccessPolicy {
  return { resourceType: 'AccessPolicy', resource: [{ ...entry, criteria: undefined, compartment: undefined }] };
}

const PATIENT_LINKS = new Set(['patient', 'subject']);

/**
 * Does `resource` meet the entry's criteria? Chained criteria through the patient
 * (`Observation?patient.general-practitioner=...`, `Condition?patient._tag=...`) are checked on the
 * patient; criteria the browser cannot evaluate (reverse chains, other chains) are left to the host,
 * which has the last word on every write.
 */
function meetsCriteria(entry: AccessPolicyResource, resource: Resource, patient: Patient | undefined): boolean {
  if (!entry.criteria) return true;
  const query = entry.criteria.slice(entry.criteria.indexOf('?') + 1);
  const own: string[] = [];
  const onPatient: string[] = [];
  for (const part of query.split('&').filter(Boolean)) {
    const name = part.split('=')[0];
    const [link, ...rest] = name.split('.');
    if (name.startsWith('_has:') || (rest.length && !PATIENT_LINKS.has(link))) return true;
    if (rest.length) onPatient.push(`${rest.join('.')}=${part.slice(name.length + 1)}`);
    else own.push(part);
  }
  const matches = (r: Resource, params: string[]): boolean => {
    if (!params.length) return true;
    const policy: AccessPolicy = { resourceType: 'AccessPolicy', resource: [{ resourceType: r.resourceType, criteria: `${r.resourceType}?${params.join('&')}` }] };
    try {
      return Boolean(satisfiedAccessPolicy(r, 'read', policy));
    } catch {
      return true;
    }
  };
  try {
    parseSearchRequest(entry.criteria);
  } catch {
    return false;
  }
  return matches(resource, own) && (onPatient.length === 0 || (patient !== undefined && matches(patient, onPatient)));
}

/** The entries of the policy that allow `interaction` on this resource (of that patient). */
export function allowingEntries(policy: AccessPolicy | undefined, interaction: Interaction, resource: Resource, patient?: Patient): AccessPolicyResource[] {
  if (!policy) return [{ resourceType: resource.resourceType }];
  const patientRef = patient?.id ? `Patient/${patient.id}` : undefined;
  return (policy.resource ?? []).filter((entry) => {
    if (!satisfiedAccessPolicy(resource, interaction, typeOnly(entry))) return false;
    if (entry.compartment?.reference) {
      const inCompartment = entry.compartment.reference === patientRef || (resource.resourceType === 'Patient' && entry.compartment.reference === `Patient/${resource.id}`);
      if (!inCompartment) return false;
    }
    return meetsCriteria(entry, resource, patient);
  });
}

/** May the role do `interaction` on this resource (of that patient)? No policy known = no restriction. */
export function mayDo(policy: AccessPolicy | undefined, interaction: Interaction, resource: Resource, patient?: Patient): boolean {
  return allowingEntries(policy, interaction, resource, patient).length > 0;
}

/** May the role do `interaction` on some resources of a type (the chart's sections, before any is read)? */
export function mayOnType(policy: AccessPolicy | undefined, interaction: Interaction, resourceType: ResourceType | string, patient?: Patient): boolean {
  const probe = { resourceType, ...(patient?.id && resourceType !== 'Patient' ? { subject: { reference: `Patient/${patient.id}` }, patient: { reference: `Patient/${patient.id}` } } : {}) } as unknown as Resource;
  if (!policy) return true;
  return (policy.resource ?? []).some((entry) => {
    if (!satisfiedAccessPolicy(probe, interaction, typeOnly(entry))) return false;
    if (entry.compartment?.reference && patient?.id) return entry.compartment.reference === `Patient/${patient.id}`;
    return true;
  });
}

export interface WriteRules {
  readonlyFields: Set<string>;
  hiddenFields: Set<string>;
  reason: string;
}

/** Fields the role may not write on this resource: readonly and hidden fields of the entries that allow the write. */
export function writeRules(policy: AccessPolicy | undefined, interaction: 'create' | 'update', resource: Resource, patient?: Patient): WriteRules {
  const entries = allowingEntries(policy, interaction, resource, patient);
  const readonlyFields = new Set<string>();
  const hiddenFields = new Set<string>();
  entries.forEach((e) => {
    e.readonlyFields?.forEach((f) => readonlyFields.add(f));
    e.hiddenFields?.forEach((f) => hiddenFields.add(f));
  });
  const name = policy?.name ? `the "${policy.name}" access policy` : 'your access policy';
  return { readonlyFields, hiddenFields, reason: `Read-only field under ${name}` };
}

export function fieldLocked(rules: WriteRules, path: string): boolean {
  return isHiddenPath(rules.readonlyFields, path) || isHiddenPath(rules.hiddenFields, path);
}

/** Importing creates records: offered only to a role with an entry that allows creating. */
export function mayImport(policy: AccessPolicy | undefined): boolean {
  return !policy || (policy.resource ?? []).some((e) => (e.interaction ? e.interaction.includes('create') : !e.readonly));
}
