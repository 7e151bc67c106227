// What matchesSearchRequest cannot judge (chains, _has, _include/_revinclude, composite, quantity,
// _sort, paging through `next` links), checked on the imported Synthea subset against expectations
// computed directly from the stored resources in plain JavaScript.
import type { Observation, Patient, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../electron/host/store/index.ts';
import { allResources, loadSyntheaStore, searchAll } from './helpers.ts';

let store: Store;
let resources: Resource[];
let observations: Observation[];
let patients: Patient[];

beforeAll(() => {
  store = loadSyntheaStore(4);
  resources = allResources(store);
  observations = resources.filter((r): r is Observation => r.resourceType === 'Observation');
  patients = resources.filter((r): r is Patient => r.resourceType === 'Patient');
});

afterAll(() => store.close());

const sorted = (ids: (string | undefined)[]): string[] => ids.map((id) => id as string).sort();
const matchIds = (type: string, query: string): string[] => sorted(searchAll(store, type, query).ids.map((ref) => ref.split('/')[1]));
const codesOf = (o: { code?: { coding?: { code?: string }[] } }): string[] => (o.code?.coding ?? []).map((c) => c.code as string);
const patientOf = (o: Observation): string | undefined => o.subject?.reference?.split('/')[1];

describe('Synthea: searches matchesSearchRequest cannot judge', () => {
  it('has data to search', () => {
    expect(patients.length).toBeGreaterThanOrEqual(4);
    expect(observations.length).toBeGreaterThan(200);
  });

  it('quantity: body weight above 80 kg', () => {
    const want = observations.filter((o) => codesOf(o).includes('29463-7') && o.valueQuantity?.unit === 'kg' && (o.valueQuantity.value ?? 0) > 80);
    expect(matchIds('Observation', 'code=29463-7&value-quantity=gt80||kg')).toEqual(sorted(want.map((o) => o.id)));
  });

  it('composite: systolic blood pressure component at or above 120', () => {
    const want = observations.filter((o) => (o.component ?? []).some((c) => codesOf(c).includes('8480-6') && (c.valueQuantity?.value ?? 0) >= 120));
    expect(want.length).toBeGreaterThan(0);
    expect(matchIds('Observation', 'component-code-value-quantity=http://loinc.org|8480-6$ge120')).toEqual(sorted(want.map((o) => o.id)));
  });

  it('chain: observations of patients born before 1960', () => {
    const old = new Set(patients.filter((p) => (p.birthDate ?? '9999') < '1960').map((p) => p.id));
    const want = observations.filter((o) => old.has(patientOf(o)));
    expect(matchIds('Observation', 'subject:Patient.birthdate=lt1960')).toEqual(sorted(want.map((o) => o.id)));
  });

  it('two-level chain: observations whose encounter was provided by an organization named ...', () => {
    const orgName = new Map(resources.filter((r) => r.resourceType === 'Organization').map((o) => [`Organization/${o.id}`, ((o as { name?: string }).name ?? '').toLowerCase()]));
    const providerOf = new Map(
      resources.filter((r) => r.resourceType === 'Encounter').map((e) => [`Encounter/${e.id}`, (e as { serviceProvider?: { reference?: string } }).serviceProvider?.reference ?? '']),
    );
    const prefix = [...orgName.values()][0].slice(0, 4);
    const want = observations.filter((o) => (orgName.get(providerOf.get(o.encounter?.reference ?? '') ?? '') ?? '').startsWith(prefix));
    expect(want.length).toBeGreaterThan(0);
    expect(matchIds('Observation', `encounter:Encounter.service-provider.name=${encodeURIComponent(prefix)}`)).toEqual(sorted(want.map((o) => o.id)));
  });

  it('_has: patients with a hemoglobin A1c observation', () => {
    const want = new Set(observations.filter((o) => codesOf(o).includes('4548-4')).map(patientOf));
    expect(matchIds('Patient', '_has:Observation:subject:code=4548-4')).toEqual(sorted([...want]));
  });

  it('_include and _revinclude bring each referenced resource once, as include', () => {
    const page = store.search('Observation', 'code=8302-2&_include=Observation:subject&_count=50');
    const matched = (page.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource as Observation);
    const included = (page.entry ?? []).filter((e) => e.search?.mode === 'include').map((e) => e.resource?.id);
    expect(sorted(included)).toEqual(sorted([...new Set(matched.map(patientOf))]));
    const patientId = patients[0].id as string;
    const rev = store.search('Patient', `_id=${patientId}&_revinclude=Encounter:subject&_count=1`);
    const encounters = resources.filter((r) => r.resourceType === 'Encounter' && (r as { subject?: { reference?: string } }).subject?.reference === `Patient/${patientId}`);
    expect(sorted((rev.entry ?? []).filter((e) => e.search?.mode === 'include').map((e) => e.resource?.id))).toEqual(sorted(encounters.map((e) => e.id)));
  });

  it('_sort: observations by date descending then id, across pages followed through next links', () => {
    const code = '8302-2';
    const want = observations
      .filter((o) => codesOf(o).includes(code))
      .map((o) => ({ id: o.id as string, t: Date.parse(o.effectiveDateTime as string) }))
      .sort((a, b) => b.t - a.t || a.id.localeCompare(b.id))
      .map((o) => `Observation/${o.id}`);
    const { ids, pages } = searchAll(store, 'Observation', `code=${code}&_sort=-date,_id&_count=7&_total=accurate`);
    expect(pages.length).toBe(Math.ceil(want.length / 7));
    expect(ids).toEqual(want);
    expect(pages.every((p) => p.total === want.length)).toBe(true);
  });

  it('compartment: everything in one patient compartment', () => {
    const id = patients[1].id as string;
    const want = observations.filter((o) => patientOf(o) === id).map((o) => o.id);
    expect(matchIds('Observation', `_compartment=Patient/${id}&_count=1000`)).toEqual(sorted(want));
  });
});
