// Search features on small hand-made resources, through the real store (create -> index -> search).
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../electron/host/store/index.ts';
import type { Store } from '../../electron/host/store/index.ts';
import { BASE_URL } from './helpers.ts';

let store: Store;

function create(r: Resource): Resource {
  return store.create(r).resource;
}

function ids(bundle: Bundle, mode: 'match' | 'include' = 'match'): string[] {
  return (bundle.entry ?? []).filter((e) => e.search?.mode === mode).map((e) => e.resource?.id as string);
}

function find(type: string, query: string): string[] {
  return ids(store.search(type, query)).sort();
}

const P: Record<string, string> = {};
const O: Record<string, string> = {};

beforeAll(() => {
  store = createStore({ path: ':memory:', baseUrl: BASE_URL });
  const org = create({ resourceType: 'Organization', name: 'Clinic Nord' });
  const gp = create({ resourceType: 'Practitioner', name: [{ family: 'Häusler', given: ['Eva'] }] });
  P.alice = create({
    resourceType: 'Patient',
    name: [{ family: 'Smith', given: ['Alice', 'Marie'] }],
    gender: 'female',
    birthDate: '1980-05-17',
    identifier: [{ system: 'http://mrn', value: 'A1' }],
    telecom: [{ system: 'phone', value: '555-1234' }, { system: 'email', value: 'alice@example.org' }],
    address: [{ city: 'Zürich', postalCode: '8000' }],
    generalPractitioner: [{ reference: `Practitioner/${gp.id}` }],
    managingOrganization: { reference: `Organization/${org.id}` },
    meta: { tag: [{ system: 'http://tags', code: 'vip' }], profile: ['http://example.org/StructureDefinition/p'] },
  }).id as string;
  P.bob = create({
    resourceType: 'Patient',
    name: [{ family: 'Smithers', given: ['Bob'] }],
    gender: 'male',
    birthDate: '1975',
    identifier: [{ system: 'http://mrn', value: 'B2' }],
    active: true,
  }).id as string;
  P.carl = create({ resourceType: 'Patient', name: [{ family: "O'Brien", given: ['Carl'] }], gender: 'male', birthDate: '2001-01-01' }).id as string;
  const obs = (key: string, patient: string, code: string, value: number | undefined, date: string, extra: Partial<Resource> = {}): void => {
    O[key] = create({
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code, display: code === '8302-2' ? 'Body Height' : 'Other' }], text: code === '8302-2' ? 'Height' : undefined },
      subject: { reference: `Patient/${patient}` },
      effectiveDateTime: date,
      ...(value === undefined ? {} : { valueQuantity: { value, unit: 'cm', system: 'http://unitsofmeasure.org', code: 'cm' } }),
      ...extra,
    } as Resource).id as string;
  };
  obs('h1', P.alice, '8302-2', 165, '2020-03-04T10:00:00Z');
  obs('h2', P.alice, '8302-2', 166.5, '2021-06-01T10:00:00+02:00');
  obs('h3', P.bob, '8302-2', 180, '2019-12-31T23:30:00Z');
  obs('bp', P.bob, '85354-9', undefined, '2020-03-04', {
    component: [
      { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 140, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
      { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 90, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
    ],
  } as Partial<Resource>);
  create({ resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${P.alice}` }, period: { start: '2020-03-04T09:00:00Z', end: '2020-03-04T11:00:00Z' } });
});

afterAll(() => store.close());

describe('token', () => {
  it('matches code with or without system, |code for no system, system| for any code, OR lists and :not', () => {
    expect(find('Observation', 'code=8302-2')).toEqual([O.h1, O.h2, O.h3].sort());
    expect(find('Observation', 'code=http://loinc.org|8302-2')).toHaveLength(3);
    expect(find('Observation', 'code=http://other|8302-2')).toEqual([]);
    expect(find('Observation', 'code=|8302-2')).toEqual([]);
    expect(find('Observation', 'code=http://loinc.org|')).toHaveLength(4);
    expect(find('Observation', 'code=85354-9,8302-2')).toHaveLength(4);
    expect(find('Observation', 'code:not=8302-2')).toEqual([O.bp]);
    expect(find('Patient', 'identifier=http://mrn|A1')).toEqual([P.alice]);
    expect(find('Patient', 'gender=male')).toEqual([P.bob, P.carl].sort());
    expect(find('Patient', 'active=true')).toEqual([P.bob]);
    expect(find('Patient', 'email=alice@example.org')).toEqual([P.alice]);
    expect(find('Patient', 'phone=555-1234')).toEqual([P.alice]);
  });

  it(':text searches display and text; :missing finds absence and presence', () => {
    expect(find('Observation', 'code:text=body')).toHaveLength(3);
    expect(find('Observation', 'code:text=heig')).toHaveLength(3);
    expect(find('Patient', 'active:missing=true')).toEqual([P.alice, P.carl].sort());
    expect(find('Patient', 'active:missing=false')).toEqual([P.bob]);
  });
});

describe('string', () => {
  it('starts-with, case and accent insensitive, on every name part; :exact and :contains', () => {
    expect(find('Patient', 'name=smi')).toEqual([P.alice, P.bob].sort());
    expect(find('Patient', 'name=marie')).toEqual([P.alice]);
    expect(find('Patient', 'family=Smith')).toEqual([P.alice, P.bob].sort());
    expect(find('Patient', 'family:exact=Smith')).toEqual([P.alice]);
    expect(find('Patient', 'family:exact=smith')).toEqual([]);
    expect(find('Patient', 'family:contains=ither')).toEqual([P.bob]);
    expect(find('Patient', 'address-city=zurich')).toEqual([P.alice]);
    expect(find('Practitioner', 'name=hausler')).toHaveLength(1);
    expect(find('Patient', "name=o'brien")).toEqual([P.carl]);
    expect(find('Patient', 'name=smith,carl')).toEqual([P.alice, P.bob, P.carl].sort());
    expect(find('Patient', 'name=smi&name=bob')).toEqual([P.bob]);
  });
});

describe('date', () => {
  it('precision ranges and every prefix with FHIR semantics', () => {
    expect(find('Patient', 'birthdate=1980')).toEqual([P.alice]);
    expect(find('Patient', 'birthdate=1980-05')).toEqual([P.alice]);
    expect(find('Patient', 'birthdate=1980-05-17')).toEqual([P.alice]);
    expect(find('Patient', 'birthdate=1975-06-01')).toEqual([]); // 1975 is wider than the day searched
    expect(find('Patient', 'birthdate=lt1980')).toEqual([P.bob]);
    expect(find('Patient', 'birthdate=ge1980-05-17')).toEqual([P.alice, P.carl].sort());
    expect(find('Patient', 'birthdate=gt1980-05-17')).toEqual([P.carl]);
    expect(find('Patient', 'birthdate=le1975-06')).toEqual([P.bob]); // starts before the end of June 1975
    expect(find('Patient', 'birthdate=ne1980')).toEqual([P.bob, P.carl].sort());
    expect(find('Patient', 'birthdate=sa1980')).toEqual([P.carl]);
    expect(find('Patient', 'birthdate=eb1980')).toEqual([P.bob]);
    expect(find('Patient', 'birthdate=ap2001-02-10')).toEqual([P.carl]); // within 10% of the gap to now
    expect(find('Patient', 'birthdate=1975,2001')).toEqual([P.bob, P.carl].sort());
    expect(find('Patient', 'birthdate=ge1970&birthdate=lt1980')).toEqual([P.bob]);
  });

  it('compares instants across time zones and periods by overlap prefixes', () => {
    expect(find('Observation', 'date=2021-06-01')).toEqual([O.h2]); // 08:00Z
    expect(find('Observation', 'date=2019-12-31')).toEqual([O.h3]);
    expect(find('Observation', 'date=2020-03-04T10:00:00Z')).toEqual([O.h1]);
    expect(find('Encounter', 'date=2020-03-04')).toHaveLength(1); // the period lies within the day
    expect(find('Encounter', 'date=2020-03-04T10:00')).toHaveLength(0); // the period is wider than that minute
    expect(find('Encounter', 'date=ge2020-03-04T10:00&date=le2020-03-04T10:00')).toHaveLength(1);
  });

  it('_lastUpdated uses the store timestamp', () => {
    expect(find('Patient', '_lastUpdated=gt2000-01-01')).toHaveLength(3);
    expect(find('Patient', '_lastUpdated=lt2000-01-01')).toHaveLength(0);
  });
});

describe('number, quantity and composite', () => {
  it('quantity with prefixes, precision, system and unit', () => {
    expect(find('Observation', 'value-quantity=165')).toEqual([O.h1]);
    expect(find('Observation', 'value-quantity=166')).toEqual([]); // 166.5 lies outside [165.5, 166.5)
    expect(find('Observation', 'value-quantity=166.5')).toEqual([O.h2]);
    expect(find('Observation', 'value-quantity=gt165')).toEqual([O.h2, O.h3].sort());
    expect(find('Observation', 'value-quantity=le166.5|http://unitsofmeasure.org|cm')).toEqual([O.h1, O.h2].sort());
    expect(find('Observation', 'value-quantity=165||cm')).toEqual([O.h1]);
    expect(find('Observation', 'value-quantity=165|http://unitsofmeasure.org|kg')).toEqual([]);
    expect(find('Observation', 'value-quantity=ap170')).toEqual([O.h1, O.h2, O.h3].sort());
  });

  it('composites pair the code with the value of the same component', () => {
    expect(find('Observation', 'component-code-value-quantity=8480-6$gt130')).toEqual([O.bp]);
    expect(find('Observation', 'component-code-value-quantity=8462-4$gt130')).toEqual([]);
    expect(find('Observation', 'component-code-value-quantity=http://loinc.org|8462-4$90|http://unitsofmeasure.org|mm[Hg]')).toEqual([O.bp]);
    expect(find('Observation', 'code-value-quantity=8302-2$lt170')).toEqual([O.h1, O.h2].sort());
    expect(find('Observation', 'code-value-quantity=8302-2$lt170,8302-2$gt175')).toHaveLength(3);
  });
});

describe('reference, chains, _has, compartments', () => {
  it('references by Type/id, id, absolute URL, :Type and :missing', () => {
    expect(find('Observation', `subject=Patient/${P.alice}`)).toEqual([O.h1, O.h2].sort());
    expect(find('Observation', `patient=${P.alice}`)).toEqual([O.h1, O.h2].sort());
    expect(find('Observation', `subject:Patient=${P.bob}`)).toEqual([O.bp, O.h3].sort());
    expect(find('Observation', `subject=${BASE_URL}Patient/${P.bob}`)).toEqual([O.bp, O.h3].sort());
    expect(find('Patient', 'organization:missing=false')).toEqual([P.alice]);
  });

  it('chains over several levels, and reverse chains (nested too)', () => {
    expect(find('Observation', 'subject:Patient.name=alice')).toEqual([O.h1, O.h2].sort());
    expect(find('Observation', 'patient.gender=male')).toEqual([O.bp, O.h3].sort());
    expect(find('Observation', 'subject:Patient.general-practitioner.name=hausler')).toEqual([O.h1, O.h2].sort());
    expect(find('Observation', 'subject:Patient.organization.name=clinic')).toEqual([O.h1, O.h2].sort());
    expect(find('Patient', '_has:Observation:patient:code=85354-9')).toEqual([P.bob]);
    expect(find('Patient', '_has:Observation:patient:value-quantity=gt170')).toEqual([P.bob]);
    expect(find('Practitioner', '_has:Patient:general-practitioner:_has:Observation:patient:code=8302-2')).toHaveLength(1);
    expect(find('Patient', '_has:Encounter:patient:class=AMB&gender=female')).toEqual([P.alice]);
  });

  it('_compartment and compartment-style searches', () => {
    expect(find('Observation', `_compartment=Patient/${P.bob}`)).toEqual([O.bp, O.h3].sort());
    expect(find('Encounter', `_compartment=Patient/${P.alice}`)).toHaveLength(1);
    expect(find('Patient', `_compartment=Patient/${P.alice}`)).toEqual([P.alice]);
  });
});

describe('common parameters', () => {
  it('_id, _tag, _profile', () => {
    expect(find('Patient', `_id=${P.alice},${P.carl}`)).toEqual([P.alice, P.carl].sort());
    expect(find('Patient', `_id:not=${P.alice}`)).toEqual([P.bob, P.carl].sort());
    expect(find('Patient', '_tag=http://tags|vip')).toEqual([P.alice]);
    expect(find('Patient', '_profile=http://example.org/StructureDefinition/p')).toEqual([P.alice]);
    expect(find('Patient', '_profile:below=http://example.org/')).toEqual([P.alice]);
  });

  it('escaped commas are part of a value', () => {
    expect(find('Patient', 'name=smith\\,alice')).toEqual([]);
  });

  it('system-level search with _type', () => {
    const b = store.search(undefined, `_type=Patient,Observation&_id=${P.alice},${O.h1}`);
    expect(ids(b).sort()).toEqual([P.alice, O.h1].sort());
  });
});

describe('result control', () => {
  it('_sort by several keys, descending, _id and _lastUpdated', () => {
    expect(ids(store.search('Patient', '_sort=birthdate'))).toEqual([P.bob, P.alice, P.carl]);
    expect(ids(store.search('Patient', '_sort=-birthdate'))).toEqual([P.carl, P.alice, P.bob]);
    expect(ids(store.search('Patient', '_sort=gender,-birthdate'))).toEqual([P.alice, P.carl, P.bob]);
    expect(ids(store.search('Patient', '_sort=_lastUpdated'))).toEqual([P.alice, P.bob, P.carl]);
    expect(ids(store.search('Patient', '_sort=_id'))).toEqual([P.alice, P.bob, P.carl].sort());
    expect(ids(store.search('Observation', '_sort=-date&_count=1'))).toEqual([O.h2]);
  });

  it('_count, _offset, total and working next/previous links', () => {
    const first = store.search('Observation', '_count=3&_sort=date&_total=accurate');
    expect(first.total).toBe(4);
    expect(first.entry).toHaveLength(3);
    const next = first.link?.find((l) => l.relation === 'next')?.url as string;
    expect(next.startsWith(`${BASE_URL}Observation?`)).toBe(true);
    const second = store.search('Observation', new URL(next).search.slice(1));
    expect(ids(second)).toHaveLength(1);
    expect(second.link?.some((l) => l.relation === 'next')).toBe(false);
    const prev = second.link?.find((l) => l.relation === 'previous')?.url as string;
    expect(ids(store.search('Observation', new URL(prev).search.slice(1)))).toEqual(ids(first));
    expect(store.search('Observation', '_total=none').total).toBeUndefined();
    expect(store.search('Observation', '_summary=count')).toMatchObject({ total: 4 });
    expect(store.search('Observation', '_summary=count').entry).toBeUndefined();
    expect(store.search('Observation', '_count=0').total).toBe(4);
    // Without _total (Medplum's default) a page that is not the last carries no total; the last one does.
    expect(store.search('Observation', '_count=3').total).toBeUndefined();
    expect(store.search('Observation', '_count=3&_offset=3').total).toBe(4);
    expect(store.search('Observation', '_count=3&_total=estimate').total).toBe(4);
  });

  it('fullUrl and search.mode on entries', () => {
    const b = store.search('Patient', `_id=${P.alice}`);
    expect(b.entry?.[0]).toMatchObject({ fullUrl: `${BASE_URL}Patient/${P.alice}`, search: { mode: 'match' } });
  });

  it('_include, _revinclude, :iterate and *', () => {
    const inc = store.search('Observation', `_id=${O.h1}&_include=Observation:subject`);
    expect(ids(inc, 'include')).toEqual([P.alice]);
    const rev = store.search('Patient', `_id=${P.bob}&_revinclude=Observation:subject`);
    expect(ids(rev, 'include').sort()).toEqual([O.bp, O.h3].sort());
    const iter = store.search('Observation', `_id=${O.h1}&_include=Observation:subject&_include:iterate=Patient:general-practitioner`);
    expect(iter.entry?.filter((e) => e.search?.mode === 'include').map((e) => e.resource?.resourceType).sort()).toEqual(['Patient', 'Practitioner']);
    const star = store.search('Patient', `_id=${P.alice}&_include=*`);
    expect(star.entry?.filter((e) => e.search?.mode === 'include').map((e) => e.resource?.resourceType).sort()).toEqual(['Organization', 'Practitioner']);
    const typed = store.search('Observation', `_id=${O.h1}&_include=Observation:subject:Group`);
    expect(ids(typed, 'include')).toEqual([]);
  });

  it('_elements and _summary=true return subsets marked SUBSETTED', () => {
    const b = store.search('Patient', `_id=${P.alice}&_elements=gender`);
    const p = b.entry?.[0].resource as Resource & { gender?: string; name?: unknown };
    expect(p.gender).toBe('female');
    expect(p.name).toBeUndefined();
    expect(p.meta?.tag?.some((t) => t.code === 'SUBSETTED')).toBe(true);
    const s = store.search('Patient', `_id=${P.alice}&_summary=true`).entry?.[0].resource as Resource & { name?: unknown; address?: unknown };
    expect(s.name).toBeDefined();
    const obs = store.search('Observation', `_id=${O.h1}&_summary=text`).entry?.[0].resource as Resource & { status?: string; valueQuantity?: unknown };
    expect(obs.status).toBe('final'); // mandatory elements stay
    expect(obs.valueQuantity).toBeUndefined();
  });
});

describe('restrict (access-control hook)', () => {
  it('applies to the main search, chains, _has, _include and _revinclude', () => {
    const onlyAlice = {
      search: {
        restrict: (type: string) => (type === 'Patient' ? { sql: 'r.id = ?', params: [P.alice] } : type === 'Practitioner' ? false : null),
      },
    };
    expect(ids(store.search('Patient', '', onlyAlice))).toEqual([P.alice]);
    expect(ids(store.search('Observation', 'patient.gender=male', onlyAlice))).toEqual([]);
    expect(ids(store.search('Observation', 'patient.gender=female', onlyAlice)).sort()).toEqual([O.h1, O.h2].sort());
    expect(ids(store.search('Organization', '_has:Patient:organization:gender=female', onlyAlice))).toHaveLength(1);
    const inc = store.search('Observation', `_id=${O.h3}&_include=Observation:subject`, onlyAlice);
    expect(ids(inc, 'include')).toEqual([]);
    const star = store.search('Patient', `_id=${P.alice}&_include=*`, onlyAlice);
    expect(star.entry?.filter((e) => e.search?.mode === 'include').map((e) => e.resource?.resourceType)).toEqual(['Organization']);
    expect(() => store.search('Practitioner', '', onlyAlice)).toThrow(expect.objectContaining({ status: 403 }));
  });
});

describe('meta.account and meta.compartment', () => {
  it('place a resource in those compartments', () => {
    const org = create({ resourceType: 'Organization', name: 'Account Holder' });
    const tagged = create({
      resourceType: 'Patient',
      name: [{ family: 'Accounted' }],
      meta: { account: { reference: `Organization/${org.id}` }, compartment: [{ reference: 'Project/p-1' }] },
    } as Resource);
    expect(find('Patient', `_compartment=Organization/${org.id}`)).toEqual([tagged.id]);
    expect(find('Patient', '_compartment=Project/p-1')).toEqual([tagged.id]);
  });
});

describe('writes keep the index current', () => {
  it('an update re-indexes and a delete removes from results', () => {
    const p = create({ resourceType: 'Patient', name: [{ family: 'Tempo' }], gender: 'other' });
    expect(find('Patient', 'family=tempo')).toEqual([p.id]);
    store.update({ ...p, name: [{ family: 'Changed' }] } as Resource);
    expect(find('Patient', 'family=tempo')).toEqual([]);
    expect(find('Patient', 'family=changed')).toEqual([p.id]);
    store.delete('Patient', p.id as string);
    expect(find('Patient', 'family=changed')).toEqual([]);
  });
});
