// What a Medplum server accepts in an AccessPolicy, known before anything is sent.
//
// Medplum 5 validates AccessPolicy.resource with constraint axp-3 (profiles-medplum.json):
//   criteria.exists() implies criteria.matches('^' & iif(%context.resourceType = '*', '\\*', %context.resourceType)
//     & '\\?([a-zA-Z_:-]+=[^&]+&?)+$') and criteria.contains('_has:').not()
// so parameter names hold only letters, '_', ':' and '-': a chain (`subject:Patient.name`,
// `subject.name`) or reverse chain (`_has:`) is refused with 400. Outpost enforces such criteria
// locally; a policy using them stays on the workstation when the project syncs with Medplum.
import type { AccessPolicy } from '@medplum/fhirtypes';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** True when Medplum's axp-3 accepts `criteria` on an entry of `resourceType` (or there are none). */
export function medplumAcceptsCriteria(resourceType: string | undefined, criteria: string | undefined): boolean {
  if (criteria === undefined) return true;
  const type = resourceType === '*' ? '\\*' : escapeRegExp(resourceType ?? '');
  return new RegExp(`^${type}\\?([a-zA-Z_:-]+=[^&]+&?)+$`).test(criteria) && !criteria.includes('_has:');
}

export interface RefusedCriteria {
  /** Index in AccessPolicy.resource. */
  index: number;
  resourceType?: string;
  criteria: string;
}

/** The entries of a policy whose criteria a Medplum server refuses (empty: the policy can be pushed). */
export function criteriaMedplumRefuses(policy: Pick<AccessPolicy, 'resource'>): RefusedCriteria[] {
  const out: RefusedCriteria[] = [];
  (policy.resource ?? []).forEach((entry, index) => {
    if (!medplumAcceptsCriteria(entry.resourceType, entry.criteria)) {
      out.push({ index, resourceType: entry.resourceType, criteria: entry.criteria as string });
    }
  });
  return out;
}
