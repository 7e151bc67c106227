// What the active role may see and change, as the UI needs it.
//
// Masked resources (the contract the access engine is asked to match):
//   meta.tag       { system: ACCESS_TAG_SYSTEM, code: 'masked' } on every resource the host removed fields from;
//   meta.extension { url: HIDDEN_FIELD_EXTENSION, valueString: '<path>' }, one per hidden path, the path
//                  written as in AccessPolicy.resource.hiddenFields ('name', 'telecom', 'address.line', ...).
// The effective policy of /auth/me (accessPolicy.resource[].hiddenFields / readonlyFields / readonly) is
// used too, so a field is shown as hidden even when the host sent no marker for it.
import type { AccessPolicy, AccessPolicyResource, Meta, Resource } from '@medplum/fhirtypes';

export const ACCESS_TAG_SYSTEM = 'https://outpost.local/fhir/CodeSystem/access';
export const MASKED_CODE = 'masked';
export const HIDDEN_FIELD_EXTENSION = 'https://outpost.local/fhir/StructureDefinition/hidden-field';
export const HIDDEN_TEXT = 'hidden by access policy';

function entriesFor(policy: AccessPolicy | undefined, resourceType: string): AccessPolicyResource[] {
  return (policy?.resource ?? []).filter((e) => e.resourceType === resourceType || e.resourceType === '*');
}

/** True when the resource carries the host's "masked" tag. */
export function isMasked(resource: Resource | undefined): boolean {
  return Boolean(resource?.meta?.tag?.some((t) => t.system === ACCESS_TAG_SYSTEM && t.code === MASKED_CODE));
}

/** Hidden paths of one resource: its own markers plus the role's policy for its type. */
export function hiddenPaths(resource: Resource | undefined, policy: AccessPolicy | undefined): Set<string> {
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
  for (const entry of entriesFor(policy, resource.resourceType)) {
    entry.hiddenFields?.forEach((f) => out.add(f));
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

export interface WriteRules {
  /** The role may not change this type at all (reason in `reason`). */
  readonly: boolean;
  readonlyFields: Set<string>;
  hiddenFields: Set<string>;
  reason: string;
}

/** How the role may edit a type: readonly entries, readonly and hidden fields. No policy = no restriction known. */
export function writeRules(policy: AccessPolicy | undefined, resourceType: string): WriteRules {
  const entries = entriesFor(policy, resourceType);
  const readonlyFields = new Set<string>();
  const hiddenFields = new Set<string>();
  entries.forEach((e) => {
    e.readonlyFields?.forEach((f) => readonlyFields.add(f));
    e.hiddenFields?.forEach((f) => hiddenFields.add(f));
  });
  const readonly = policy !== undefined && (entries.length === 0 || entries.every((e) => e.readonly));
  const name = policy?.name ? `the "${policy.name}" access policy` : 'your access policy';
  return {
    readonly,
    readonlyFields,
    hiddenFields,
    reason: readonly ? `Read-only for your role: ${name} does not allow changing ${resourceType}` : `Read-only field under ${name}`,
  };
}

export function fieldLocked(rules: WriteRules, path: string): boolean {
  return rules.readonly || isHiddenPath(rules.readonlyFields, path) || isHiddenPath(rules.hiddenFields, path);
}
