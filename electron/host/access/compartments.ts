// Outpost goes further than Medplum: a write lands only in charts the role may write.
//
// A resource belongs to the Patient compartment of every patient it references through the
// CompartmentDefinition's parameters (Observation: subject and performer; Patient: itself and its
// links). An entry that grants one compartment (the nurse's per-patient access to Mary) matches a
// resource that is in Mary's compartment *and* another patient's, so on its own it would let the write
// land in a chart the role cannot reach. Medplum accepts such a write; Outpost refuses it with 403.
//
// Rule: for every Patient compartment P of the version written (and, for update and delete, of the
// stored version), that version *as it would be in P alone* must match an entry allowing the
// interaction. "In P alone" rewrites every reference to another of its patients to P (and, for a
// Patient, takes P's identity), so an entry whose reach depends on the compartment (a compartment, a
// `_compartment` or patient-reference criterion, a chain through the patient) is asked about each
// chart on its own, while an entry that does not depend on it (no criteria, `status=final`) answers
// the same for every chart. A role with an unrestricted entry for the interaction may write anywhere.
import type { Resource } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import { entriesFor, type PolicyEntry } from './policy/index.ts';
import { parseReferenceString } from '../search/values.ts';
import type { Enforcer } from './context.ts';

export type WriteInteraction = 'create' | 'update' | 'delete';

/** Does `resource` match the entry (for a new version: by a rolled-back probe write)? */
export type VersionMatcher = (entry: PolicyEntry, resource: Resource) => boolean;

/** The version with every reference to another of its patients pointed at `patient` (and, for a Patient, P's identity). */
export function inChartAlone<T extends Resource>(resource: T, patient: string, others: ReadonlySet<string>): T {
  const rewrite = (value: unknown, key: string): unknown => {
    if (Array.isArray(value)) {
      return value.map((v) => rewrite(v, key));
    }
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v, k)]));
    }
    if (key === 'reference' && typeof value === 'string') {
      const ref = parseReferenceString(value);
      if (ref.refType === 'Patient' && others.has(ref.refId)) {
        return `Patient/${patient}`;
      }
    }
    return value;
  };
  const copy = rewrite(resource, '') as T;
  return resource.resourceType === 'Patient' ? { ...copy, id: patient } : copy;
}

/**
 * 403 unless each Patient compartment of `version` is one the role may `interaction` this type in.
 * `patientsOf`: the version's Patient compartments (from its index rows, stored or probed), asked only
 * when the answer can matter: the host's own work and a role with an unrestricted entry for the
 * interaction write anywhere, and for a new version that question costs a probe write.
 */
export function assertChartsWritable(e: Enforcer, interaction: WriteInteraction, version: Resource, patientsOf: () => readonly string[], matches: VersionMatcher): void {
  if (e.p.kind === 'system') {
    return;
  }
  const type = version.resourceType;
  const candidates = entriesFor(e.p.policy, type, interaction);
  if (candidates.some((entry) => !entry.matchesNothing && e.p.compiler.fragment(entry, type) === null)) {
    return; // an unrestricted entry: this role may write this type in any chart
  }
  const distinct = new Set(patientsOf());
  const self = version.resourceType === 'Patient' ? version.id : undefined;
  if (distinct.size <= 1 && (self === undefined || distinct.size === 0 || distinct.has(self))) {
    return; // one chart at most: the entry that allowed the version already decided it
  }
  for (const patient of distinct) {
    const others = new Set([...distinct].filter((p) => p !== patient));
    const alone = inChartAlone(version, patient, others);
    if (!candidates.some((entry) => matches(entry, alone))) {
      throw errors.forbidden(`This ${type} would be in the record of Patient/${patient}, which this role may not ${interaction === 'create' ? 'write' : interaction}`);
    }
  }
}
