// References named for people: Patient/<uuid> -> "Mary Johnson", through the session's own searches
// (`Type?_id=a,b,c`), so a name the role may not see stays a reference. Used by the audit log, the
// membership editor and the policy review.
import type { MedplumClient } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { conceptText, personName } from '../components/clinical.ts';

/** A record's name: people by their name, a user by name and email, a policy by its name, else its type and code. */
export function resourceName(r: Resource): string {
  const any = r as Resource & Record<string, any>;
  switch (r.resourceType) {
    case 'Patient':
    case 'Practitioner':
    case 'RelatedPerson':
      return personName(any.name) || r.resourceType;
    case 'User':
      return [[any.firstName, any.lastName].filter(Boolean).join(' '), any.email ? `(${any.email})` : ''].filter(Boolean).join(' ') || 'User';
    case 'ProjectMembership':
      return `membership of ${any.profile?.display ?? any.profile?.reference ?? 'someone'}`;
    case 'AccessPolicy':
    case 'Project':
    case 'Organization':
      return `${any.name ?? r.resourceType}`;
    default: {
      const code = conceptText(any.code ?? any.vaccineCode ?? any.medicationCodeableConcept ?? any.type?.[0]);
      return code ? `${code} (${r.resourceType})` : r.resourceType;
    }
  }
}

/** Ids per search when resolving. */
const ID_BATCH = 50;

/** Names of the references not in `known` (the map returned holds only the new ones). */
export async function resolveNames(medplum: MedplumClient, references: string[], known: Record<string, string> = {}): Promise<Record<string, string>> {
  const byType = new Map<string, Set<string>>();
  for (const ref of references) {
    const [type, id, ...rest] = ref.split('/');
    if (!type || !id || rest.length || known[ref] !== undefined || !/^[A-Z][A-Za-z]+$/.test(type)) continue;
    byType.set(type, (byType.get(type) ?? new Set()).add(id));
  }
  const names: Record<string, string> = {};
  const searches: Promise<void>[] = [];
  for (const [type, idSet] of byType) {
    const ids = [...idSet];
    for (let i = 0; i < ids.length; i += ID_BATCH) {
      const batch = ids.slice(i, i + ID_BATCH);
      searches.push(
        medplum
          .searchResources(type as 'Patient', new URLSearchParams({ _id: batch.join(','), _count: String(batch.length) }))
          .then((found) => found.forEach((r) => (names[`${type}/${r.id}`] = resourceName(r as Resource))))
          .catch(() => undefined) // a type the session may not search keeps its reference
      );
    }
  }
  await Promise.all(searches);
  return names;
}

/** Replaces every Type/id reference in a text with its name when known. */
export function nameReferences(text: string, names: Record<string, string>): string {
  return text.replace(/\b([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})\b/g, (ref) => names[ref] ?? ref);
}

/** The Type/id references in a text. */
export function referencesIn(text: string): string[] {
  return text.match(/\b[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}\b/g) ?? [];
}
