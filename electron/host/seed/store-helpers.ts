// Small adapters between the seed and the store/access modules.
import type { AccessPolicy } from '@medplum/fhirtypes';
import { normalizeAccessPolicy, validateAccessPolicy } from '../access/policy/index.ts';

export { DEFAULT_PROJECT_ID } from '../db/project.ts';

/** A policy as it is saved through FHIR: validated (a 400 naming the entry) and in its normal form. */
export function normalizeForStore(policy: AccessPolicy): AccessPolicy {
  validateAccessPolicy(policy);
  return normalizeAccessPolicy(policy).policy;
}
