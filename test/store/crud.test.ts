// The single-resource interactions and their statuses: create, read, vread, update (If-Match, no-op),
// delete (410 after, old versions still readable), history with paging, conditional create/update/delete.
import type { Bundle, Observation, Patient } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStore, type Store } from '../../electron/host/store/index.ts';
import { FhirError } from '../../shared/errors.ts';
import { rowCounts, steppingClock } from './helpers.ts';

function statusOf(fn: () => unknown): number | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof FhirError) return err.status;
    throw err;
  }
}

let store: Store;
beforeEach(() => {
  store = createStore({ path: ':memory:', clock: steppingClock(), defaultProject: 'proj-1' });
});
afterEach(() => store.close());

describe('create, read, vread', () => {
  it('assigns a UUID, version 1, lastUpdated from the clock and the project; client meta is replaced', () => {
    const { status, resource } = store.create<Patient>({
      resourceType: 'Patient',
      id: 'client-id',
      meta: { versionId: '99', lastUpdated: '1999-01-01T00:00:00Z', tag: [{ code: 'keep-me' }] },
      name: [{ family: 'Smith' }],
    });
    expect(status).toBe(201);
    // UUID version 7 (RFC 9562): time-ordered, so B-trees keyed by id grow at their end.
    expect(resource.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(resource.meta).toEqual({ versionId: '1', lastUpdated: '2024-01-01T00:00:01.000Z', project: 'proj-1', tag: [{ code: 'keep-me' }] });
    expect(store.read('Patient', resource.id!)).toEqual(resource);
    expect(store.vread('Patient', resource.id!, '1')).toEqual(resource);
  });

  it('uses the call project over the default', () => {
    const { resource } = store.create<Patient>({ resourceType: 'Patient' }, undefined, { project: 'other' });
    expect(resource.meta?.project).toBe('other');
  });

  it('answers 404 for unknown ids and versions, 400 for unknown types and invalid resources', () => {
    const { resource } = store.create<Patient>({ resourceType: 'Patient' });
    expect(statusOf(() => store.read('Patient', 'nope'))).toBe(404);
    expect(statusOf(() => store.vread('Patient', resource.id!, '2'))).toBe(404);
    expect(statusOf(() => store.vread('Patient', resource.id!, 'x'))).toBe(404);
    expect(statusOf(() => store.read('Patientz', 'x'))).toBe(400);
    const before = rowCounts(store.db);
    expect(statusOf(() => store.create({ resourceType: 'Nonsense' } as never))).toBe(400);
    expect(statusOf(() => store.create({ resourceType: 'Patient', birthDate: 'yesterday' } as Patient))).toBe(400);
    expect(statusOf(() => store.create({ resourceType: 'Patient', id: 'bad id!' }))).toBe(400);
    expect(rowCounts(store.db)).toEqual(before);
  });

  it('names the offending path in the 400 OperationOutcome', () => {
    try {
      store.create({ resourceType: 'Patient', name: [{ given: 'not-an-array' }] } as unknown as Patient);
      expect.fail('should throw');
    } catch (err) {
      expect((err as FhirError).status).toBe(400);
      // The structural check runs first in every mode and names the element with its index.
      expect((err as FhirError).outcome.issue?.[0].expression?.[0]).toBe('Patient.name[0].given');
    }
  });
});

describe('update', () => {
  it('creates a new version, keeps the old one readable, and makes no version for a no-op', () => {
    const v1 = store.create<Patient>({ resourceType: 'Patient', name: [{ family: 'A' }] }).resource;
    const v2 = store.update<Patient>({ ...v1, name: [{ family: 'B' }] });
    expect(v2.status).toBe(200);
    expect(v2.resource.meta?.versionId).toBe('2');
    expect(v2.resource.meta?.lastUpdated).not.toBe(v1.meta?.lastUpdated);

    const counts = rowCounts(store.db);
    // Same content, stale meta from the client: nothing new.
    const same = store.update<Patient>({ ...v2.resource, meta: { versionId: '1', lastUpdated: '2000-01-01T00:00:00Z' } });
    expect(same.unchanged).toBe(true);
    expect(same.resource.meta?.versionId).toBe('2');
    expect(rowCounts(store.db)).toEqual(counts);

    expect(store.vread<Patient>('Patient', v1.id!, '1').name?.[0].family).toBe('A');
    expect(store.read<Patient>('Patient', v1.id!).name?.[0].family).toBe('B');
  });

  it('creates the resource with the given id when it does not exist', () => {
    const r = store.update<Patient>({ resourceType: 'Patient', id: 'my-own-id.1' });
    expect(r.status).toBe(201);
    expect(r.resource.meta?.versionId).toBe('1');
    expect(store.read('Patient', 'my-own-id.1').id).toBe('my-own-id.1');
  });

  it('honours If-Match in every accepted form and answers 412 on mismatch', () => {
    const v1 = store.create<Patient>({ resourceType: 'Patient', gender: 'male' }).resource;
    expect(statusOf(() => store.update({ ...v1, gender: 'female' }, { ifMatch: 'W/"2"' }))).toBe(412);
    expect(store.update({ ...v1, gender: 'female' }, { ifMatch: 'W/"1"' }).resource.meta?.versionId).toBe('2');
    expect(statusOf(() => store.update({ ...v1, gender: 'other' }, { ifMatch: '"1"' }))).toBe(412);
    expect(store.update({ ...v1, gender: 'other' }, { ifMatch: '"2"' }).resource.meta?.versionId).toBe('3');
    expect(store.update({ ...v1, gender: 'unknown' }, { ifMatch: '3' }).resource.meta?.versionId).toBe('4');
    expect(statusOf(() => store.update({ ...v1, gender: 'male' }, { ifMatch: 'garbage' }))).toBe(400);
    expect(statusOf(() => store.update({ resourceType: 'Patient', id: 'missing' }, { ifMatch: 'W/"1"' }))).toBe(412);
  });

  it('rejects an update without id', () => {
    expect(statusOf(() => store.update({ resourceType: 'Patient' }))).toBe(400);
  });
});

describe('delete', () => {
  it('is soft: read answers 410, old versions stay readable, an update brings it back', () => {
    const v1 = store.create<Patient>({ resourceType: 'Patient', gender: 'male' }).resource;
    store.delete('Patient', v1.id!);
    expect(statusOf(() => store.read('Patient', v1.id!))).toBe(410);
    expect(store.vread('Patient', v1.id!, '1')).toEqual(v1);
    expect(statusOf(() => store.vread('Patient', v1.id!, '2'))).toBe(410);
    // Deleting again is a no-op (idempotent); a missing id is a 404 (as Medplum).
    const counts = rowCounts(store.db);
    store.delete('Patient', v1.id!);
    expect(rowCounts(store.db)).toEqual(counts);
    expect(statusOf(() => store.delete('Patient', 'missing'))).toBe(404);

    const back = store.update<Patient>({ ...v1, gender: 'female' });
    expect(back.status).toBe(201);
    expect(back.resource.meta?.versionId).toBe('3');
    expect(store.read<Patient>('Patient', v1.id!).gender).toBe('female');
  });
});

describe('history', () => {
  function follow(first: Bundle, next: (url: URL) => Bundle): Bundle[] {
    const pages = [first];
    for (;;) {
      const link = pages[pages.length - 1].link?.find((l) => l.relation === 'next');
      if (!link) return pages;
      pages.push(next(new URL(link.url)));
    }
  }

  it('lists every version newest first, deleted versions without resource, with request and response', () => {
    const p = store.create<Patient>({ resourceType: 'Patient', gender: 'male' }).resource;
    store.update({ ...p, gender: 'female' });
    store.delete('Patient', p.id!);
    const h = store.history({ resourceType: 'Patient', id: p.id });
    expect(h.type).toBe('history');
    expect(h.entry?.map((e) => e.response?.etag)).toEqual(['W/"3"', 'W/"2"', 'W/"1"']);
    expect(h.entry?.map((e) => e.request?.method)).toEqual(['DELETE', 'PUT', 'POST']);
    expect(h.entry?.[0].resource).toBeUndefined();
    expect(h.entry?.[0].request?.url).toBe(`Patient/${p.id}`);
    expect(h.entry?.[2].request?.url).toBe('Patient');
    expect(h.entry?.[2].response?.status).toMatch(/^201/);
    expect((h.entry?.[1].resource as Patient).gender).toBe('female');
    expect((h.entry?.[2].resource as Patient).gender).toBe('male');
  });

  it('pages type and system history through next links, with _since', () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(store.create<Patient>({ resourceType: 'Patient' }).resource.id!);
    const obs = store.create<Observation>({ resourceType: 'Observation', status: 'final', code: { text: 'x' } }).resource;
    const asQuery = (url: URL, resourceType?: string) => ({
      resourceType,
      count: Number(url.searchParams.get('_count')),
      offset: Number(url.searchParams.get('_offset') ?? 0),
      since: url.searchParams.get('_since') ?? undefined,
    });

    const pages = follow(store.history({ resourceType: 'Patient', count: 3 }), (url) => {
      expect(url.pathname).toBe('/fhir/R4/Patient/_history');
      return store.history(asQuery(url, 'Patient'));
    });
    expect(pages.map((p) => p.entry?.length)).toEqual([3, 3, 1]);
    expect(pages.flatMap((p) => p.entry!.map((e) => e.resource!.id)).sort()).toEqual([...ids].sort());

    const all = follow(store.history({ count: 5 }), (url) => store.history(asQuery(url)));
    expect(all.flatMap((p) => p.entry!.map((e) => e.resource!.id))).toContain(obs.id);
    expect(all.flatMap((p) => p.entry!)).toHaveLength(8);

    // _since: only what changed at or after the 6th patient's creation.
    const sixth = store.read('Patient', ids[5]).meta!.lastUpdated!;
    const since = store.history({ since: sixth });
    expect(since.entry?.map((e) => e.resource!.id)).toEqual([obs.id, ids[6], ids[5]]);
    expect(statusOf(() => store.history({ since: 'last tuesday' }))).toBe(400);
    expect(statusOf(() => store.history({ resourceType: 'Patient', id: 'missing' }))).toBe(404);
  });

  it('keeps history per project', () => {
    store.create({ resourceType: 'Patient' }, undefined, { project: 'other' });
    store.create({ resourceType: 'Patient' });
    expect(store.history({}).entry).toHaveLength(1);
    expect(store.history({}, { project: 'other' }).entry).toHaveLength(1);
  });
});

describe('conditional interactions', () => {
  const ident = (value: string) => ({ identifier: [{ system: 'urn:mrn', value }] });

  it('conditional create: 0 matches creates, 1 returns the existing with 200, several -> 412', () => {
    const first = store.create<Patient>({ resourceType: 'Patient', ...ident('1') }, { ifNoneExist: 'identifier=urn:mrn|1' });
    expect(first.status).toBe(201);
    const again = store.create<Patient>({ resourceType: 'Patient', ...ident('1') }, { ifNoneExist: 'identifier=urn:mrn|1' });
    expect(again.status).toBe(200);
    expect(again.resource.id).toBe(first.resource.id);
    store.create({ resourceType: 'Patient', ...ident('1') });
    const counts = rowCounts(store.db);
    expect(statusOf(() => store.create({ resourceType: 'Patient', ...ident('1') }, { ifNoneExist: 'identifier=urn:mrn|1' }))).toBe(412);
    expect(rowCounts(store.db)).toEqual(counts);
  });

  it('conditional update: 0 matches creates, 1 updates it, several -> 412', () => {
    const created = store.conditionalUpdate<Patient>('Patient', 'identifier=urn:mrn|2', { resourceType: 'Patient', ...ident('2'), gender: 'male' });
    expect(created.status).toBe(201);
    const updated = store.conditionalUpdate<Patient>('Patient', 'identifier=urn:mrn|2', { resourceType: 'Patient', ...ident('2'), gender: 'female' });
    expect(updated.status).toBe(200);
    expect(updated.resource.id).toBe(created.resource.id);
    expect(updated.resource.meta?.versionId).toBe('2');
    expect(
      statusOf(() => store.conditionalUpdate('Patient', 'identifier=urn:mrn|2', { resourceType: 'Patient', id: 'other-id', ...ident('2') })),
    ).toBe(400);
    store.create({ resourceType: 'Patient', ...ident('2') });
    expect(statusOf(() => store.conditionalUpdate('Patient', 'identifier=urn:mrn|2', { resourceType: 'Patient', ...ident('2') }))).toBe(412);
  });

  it('conditional delete: 0 matches does nothing, 1 deletes it, several -> 412 and nothing deleted', () => {
    expect(store.conditionalDelete('Patient', 'identifier=urn:mrn|3')).toBe(0);
    const p = store.create<Patient>({ resourceType: 'Patient', ...ident('3') }).resource;
    expect(store.conditionalDelete('Patient', 'identifier=urn:mrn|3')).toBe(1);
    expect(statusOf(() => store.read('Patient', p.id!))).toBe(410);
    store.create({ resourceType: 'Patient', ...ident('4') });
    store.create({ resourceType: 'Patient', ...ident('4') });
    const counts = rowCounts(store.db);
    expect(statusOf(() => store.conditionalDelete('Patient', 'identifier=urn:mrn|4'))).toBe(412);
    expect(rowCounts(store.db)).toEqual(counts);
  });
});
