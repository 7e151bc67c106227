// Transaction and batch Bundles: atomicity, urn:uuid rewriting on real Synthea data, conditional
// references and conditional creates inside a transaction, FHIR processing order, batch outcomes.
import type { Bundle, BundleEntry, DocumentReference, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStore, type Store } from '../../electron/host/store/index.ts';
import { FhirError } from '../../shared/errors.ts';
import { rowCounts, smallestSyntheaBundles } from './helpers.ts';

let store: Store;
beforeEach(() => {
  store = createStore({ path: ':memory:' });
});
afterEach(() => store.close());

const tx = (...entry: BundleEntry[]): Bundle => ({ resourceType: 'Bundle', type: 'transaction', entry });
const batch = (...entry: BundleEntry[]): Bundle => ({ resourceType: 'Bundle', type: 'batch', entry });
const post = (fullUrl: string, resource: Resource, ifNoneExist?: string): BundleEntry => ({
  fullUrl,
  resource,
  request: { method: 'POST', url: resource.resourceType, ...(ifNoneExist ? { ifNoneExist } : {}) },
});

function collectReferences(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => collectReferences(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') out.push(v);
      else collectReferences(v, out);
    }
  }
  return out;
}

function allStored(): Resource[] {
  return (store.db.prepare('SELECT content FROM resource WHERE deleted = 0').all() as { content: string }[]).map((r) => JSON.parse(r.content));
}

function failsWith(status: number, fn: () => unknown): FhirError {
  const before = rowCounts(store.db);
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(FhirError);
  expect((caught as FhirError).status).toBe(status);
  expect(rowCounts(store.db)).toEqual(before);
  return caught as FhirError;
}

describe('transaction', () => {
  it('imports real Synthea Bundles with every reference resolved to a stored resource', () => {
    const bundles = smallestSyntheaBundles(2);
    let expected = 0;
    for (const b of bundles) {
      const response = store.processBundle(b);
      expect(response.type).toBe('transaction-response');
      expect(response.entry).toHaveLength(b.entry!.length);
      for (const e of response.entry!) {
        expect(e.response?.status).toBe('201 Created');
        expect(e.response?.location).toMatch(/^[A-Za-z]+\/[0-9a-f-]{36}\/_history\/1$/);
        expect(e.response?.etag).toBe('W/"1"');
        expect(e.response?.lastModified).toBeTruthy();
      }
      expected += b.entry!.length;
    }
    const stored = allStored();
    expect(stored).toHaveLength(expected);
    const keys = new Set(stored.map((r) => `${r.resourceType}/${r.id}`));
    let checked = 0;
    for (const r of stored) {
      for (const ref of collectReferences(r)) {
        if (ref.startsWith('#')) continue; // contained
        expect(ref).not.toMatch(/^urn:/);
        expect(keys.has(ref), `${r.resourceType}/${r.id} -> ${ref}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('is atomic: one bad entry anywhere and nothing is stored', () => {
    store.create({ resourceType: 'Patient', id: undefined });
    const good = post('urn:uuid:6c1a3d2e-0000-4000-8000-000000000001', { resourceType: 'Patient', name: [{ family: 'Good' }] });
    // Invalid resource after valid ones.
    failsWith(400, () => store.processBundle(tx(good, post('urn:uuid:2', { resourceType: 'Patient', birthDate: 'not a date' } as Patient))));
    // A GET of a missing resource, processed last, still undoes the writes before it.
    failsWith(404, () => store.processBundle(tx(good, { request: { method: 'GET', url: 'Patient/nope' } })));
    // A DELETE of a missing resource.
    failsWith(404, () => store.processBundle(tx(good, { request: { method: 'DELETE', url: 'Patient/nope' } })));
    // A reference to a fullUrl no entry declares.
    failsWith(400, () =>
      store.processBundle(tx(good, post('urn:uuid:3', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'urn:uuid:ghost' } }))),
    );
    // Malformed entries and bundles.
    failsWith(400, () => store.processBundle(tx(good, { resource: { resourceType: 'Patient' } })));
    failsWith(400, () => store.processBundle({ resourceType: 'Bundle', type: 'collection', entry: [good] }));
    failsWith(400, () => store.processBundle(tx(good, { fullUrl: 'x', resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Observation' } })));
    const err = failsWith(400, () => store.processBundle(tx(good, post('urn:uuid:2', { resourceType: 'Patient', birthDate: 'x' } as Patient))));
    expect(err.outcome.issue?.[0].details?.text).toMatch(/Bundle\.entry\[1\]/);
  });

  it('rewrites references everywhere: nested extensions, contained resources, Attachment.url', () => {
    const pat = 'urn:uuid:11111111-1111-4111-8111-111111111111';
    const bin = 'urn:uuid:22222222-2222-4222-8222-222222222222';
    const docEntry = post('urn:uuid:33333333-3333-4333-8333-333333333333', {
      resourceType: 'DocumentReference',
      status: 'current',
      subject: { reference: pat },
      content: [{ attachment: { url: bin, contentType: 'text/plain' } }],
      extension: [{ url: 'http://example.org/ext', extension: [{ url: 'who', valueReference: { reference: pat } }] }],
      contained: [{ resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'x' }, subject: { reference: pat } }],
    } as DocumentReference);
    // The referring entry comes first: order in the Bundle must not matter.
    const response = store.processBundle(
      tx(docEntry, post(pat, { resourceType: 'Patient' }), post(bin, { resourceType: 'Binary', contentType: 'text/plain', data: 'aGk=' } as Resource)),
    );
    const patientRef = response.entry![1].response!.location!.split('/_history')[0];
    const binaryRef = response.entry![2].response!.location!.split('/_history')[0];
    const doc = store.read<DocumentReference>('DocumentReference', response.entry![0].resource!.id!);
    expect(doc.subject?.reference).toBe(patientRef);
    expect(doc.content[0].attachment.url).toBe(binaryRef);
    expect(doc.extension?.[0].extension?.[0].valueReference?.reference).toBe(patientRef);
    expect((doc.contained?.[0] as Observation).subject?.reference).toBe(patientRef);
  });

  it('resolves conditional references: one match, none (400), several (412)', () => {
    const p = store.create<Patient>({ resourceType: 'Patient', identifier: [{ system: 'urn:mrn', value: '7' }] }).resource;
    const obs = (ref: string): BundleEntry => post('urn:uuid:44444444-4444-4444-8444-444444444444', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: ref } } as Observation);
    const ok = store.processBundle(tx(obs('Patient?identifier=urn:mrn|7')));
    expect((ok.entry![0].resource as Observation).subject?.reference).toBe(`Patient/${p.id}`);
    failsWith(400, () => store.processBundle(tx(obs('Patient?identifier=urn:mrn|8'))));
    store.create({ resourceType: 'Patient', identifier: [{ system: 'urn:mrn', value: '7' }] });
    failsWith(412, () => store.processBundle(tx(obs('Patient?identifier=urn:mrn|7'))));
  });

  it('maps the fullUrl of a matched conditional create to the existing resource', () => {
    const existing = store.create<Patient>({ resourceType: 'Patient', identifier: [{ system: 'urn:mrn', value: '9' }] }).resource;
    const pat = 'urn:uuid:55555555-5555-4555-8555-555555555555';
    const response = store.processBundle(
      tx(
        post(pat, { resourceType: 'Patient', identifier: [{ system: 'urn:mrn', value: '9' }] }, 'identifier=urn:mrn|9'),
        post('urn:uuid:66666666-6666-4666-8666-666666666666', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: pat } } as Observation),
      ),
    );
    expect(response.entry![0].response?.status).toBe('200 OK');
    expect(response.entry![0].resource?.id).toBe(existing.id);
    expect((response.entry![1].resource as Observation).subject?.reference).toBe(`Patient/${existing.id}`);
    expect(store.search('Patient', 'identifier=urn:mrn|9').entry).toHaveLength(1);
  });

  it('processes DELETE, POST, PUT/PATCH, GET in FHIR order whatever the Bundle order', () => {
    const a = store.create<Patient>({ resourceType: 'Patient', gender: 'male' }).resource;
    const b = store.create<Patient>({ resourceType: 'Patient' }).resource;
    const response = store.processBundle(
      tx(
        { request: { method: 'GET', url: `Patient/${a.id}` } },
        { request: { method: 'GET', url: 'Patient?gender=female' } },
        { resource: { ...a, gender: 'female' }, request: { method: 'PUT', url: `Patient/${a.id}`, ifMatch: 'W/"1"' } },
        { resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: Buffer.from(JSON.stringify([{ op: 'add', path: '/active', value: true }])).toString('base64') } as Resource, request: { method: 'PATCH', url: `Patient/${a.id}` } },
        { request: { method: 'DELETE', url: `Patient/${b.id}` } },
        { fullUrl: 'urn:uuid:77777777-7777-4777-8777-777777777777', resource: { resourceType: 'Patient', id: 'put-created' }, request: { method: 'PUT', url: 'Patient/put-created' } },
      ),
    );
    // The GETs ran after the writes.
    expect(response.entry![0].resource).toMatchObject({ gender: 'female', active: true, meta: { versionId: '3' } });
    expect(response.entry![2].response?.status).toBe('200 OK');
    expect(response.entry![4].response?.status).toBe('204 No Content');
    expect(response.entry![5].response?.status).toBe('201 Created');
    expect(() => store.read('Patient', b.id!)).toThrow(FhirError);
    // If-Match mismatch inside a transaction fails it whole.
    failsWith(412, () => store.processBundle(tx({ resource: { ...a, gender: 'male' }, request: { method: 'PUT', url: `Patient/${a.id}`, ifMatch: 'W/"1"' } })));
    failsWith(400, () => store.processBundle(tx({ resource: { ...a, id: 'other' }, request: { method: 'PUT', url: `Patient/${a.id}` } })));
  });
  it('handles conditional update and delete entries, and urn:oid fullUrls', () => {
    const existing = store.create<Patient>({ resourceType: 'Patient', identifier: [{ system: 'urn:mrn', value: '10' }], gender: 'male' }).resource;
    const doomed = store.create<Patient>({ resourceType: 'Patient', identifier: [{ system: 'urn:mrn', value: '11' }] }).resource;
    const oid = 'urn:oid:1.2.3.4.5';
    const response = store.processBundle(
      tx(
        { fullUrl: oid, resource: { resourceType: 'Patient', identifier: [{ system: 'urn:mrn', value: '10' }], gender: 'female' }, request: { method: 'PUT', url: 'Patient?identifier=urn:mrn|10' } },
        { resource: { resourceType: 'Patient', identifier: [{ system: 'urn:mrn', value: '12' }] }, request: { method: 'PUT', url: 'Patient?identifier=urn:mrn|12' } },
        { request: { method: 'DELETE', url: 'Patient?identifier=urn:mrn|11' } },
        post('urn:uuid:88888888-8888-4888-8888-888888888888', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: oid } } as Observation),
      ),
    );
    expect(response.entry!.map((e) => e.response?.status)).toEqual(['200 OK', '201 Created', '204 No Content', '201 Created']);
    expect(response.entry![0].resource?.id).toBe(existing.id);
    expect(store.read<Patient>('Patient', existing.id!).gender).toBe('female');
    expect(() => store.read('Patient', doomed.id!)).toThrow(FhirError);
    expect((response.entry![3].resource as Observation).subject?.reference).toBe(`Patient/${existing.id}`);
    expect(store.search('Patient', 'identifier=urn:mrn|12').entry).toHaveLength(1);
  });
});

describe('batch', () => {
  it('runs entries one by one, each failure an OperationOutcome with its status', () => {
    const p = store.create<Patient>({ resourceType: 'Patient' }).resource;
    const response = store.processBundle(
      batch(
        post('urn:uuid:a', { resourceType: 'Patient', gender: 'male' }),
        post('urn:uuid:b', { resourceType: 'Patient', birthDate: 'soon' } as Patient),
        { request: { method: 'GET', url: `Patient/${p.id}` } },
        { request: { method: 'GET', url: 'Patient/missing' } },
        { resource: { ...p, gender: 'other' }, request: { method: 'PUT', url: `Patient/${p.id}`, ifMatch: 'W/"5"' } },
        { request: { method: 'DELETE', url: `Patient/${p.id}` } },
        { request: { method: 'GET', url: 'Patient?gender=male' } },
      ),
    );
    expect(response.type).toBe('batch-response');
    expect(response.entry!.map((e) => e.response?.status.split(' ')[0])).toEqual(['201', '400', '200', '404', '412', '204', '200']);
    expect(response.entry![1].response?.outcome?.resourceType).toBe('OperationOutcome');
    expect(response.entry![3].response?.outcome?.issue?.[0].code).toBe('not-found');
    expect(response.entry![2].resource?.id).toBe(p.id);
    expect((response.entry![6].resource as Bundle).entry).toHaveLength(1);
    expect(() => store.read('Patient', p.id!)).toThrow(FhirError);
    expect(store.read('Patient', response.entry![0].resource!.id!)).toMatchObject({ gender: 'male' });
  });
});
