// The sync tests' remote: a real @medplum/fhir-router behind HTTP, answering as Medplum does, with faults.
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFhirServer, type TestFhirServer } from '../helpers/fhir-server.ts';

let server: TestFhirServer;

beforeAll(async () => {
  server = await startFhirServer();
});
afterAll(async () => {
  await server.close();
});

async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(server.baseUrl + url, {
    method,
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/fhir+json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

const patient = (value: string): Patient => ({
  resourceType: 'Patient',
  identifier: [{ system: 'urn:outpost:test', value }],
  name: [{ family: 'Doe', given: [value] }],
});

describe('test FHIR server', () => {
  it('refuses requests without the bearer token', async () => {
    const res = await fetch(server.baseUrl + 'Patient');
    expect(res.status).toBe(401);
    const wrong = await fetch(server.baseUrl + 'Patient', { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
  });

  it('creates (201, ETag, Location), reads and searches', async () => {
    const created = await call('POST', 'Patient', patient('crs-1'));
    expect(created.status).toBe(201);
    expect(created.body.id).toBeTruthy();
    expect(created.headers.get('etag')).toBe(`W/"${created.body.meta.versionId}"`);
    expect(created.headers.get('location')).toContain(`Patient/${created.body.id}`);
    const read = await call('GET', `Patient/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body.name[0].given).toEqual(['crs-1']);
    const found = await call('GET', 'Patient?identifier=urn:outpost:test|crs-1');
    expect((found.body as Bundle).entry?.map((e) => e.resource?.id)).toEqual([created.body.id]);
  });

  it('If-None-Exist returns the existing resource instead of a duplicate', async () => {
    const first = await call('POST', 'Patient', patient('ine-1'), { 'if-none-exist': 'identifier=urn:outpost:test|ine-1' });
    expect(first.status).toBe(201);
    const again = await call('POST', 'Patient', patient('ine-1'), { 'if-none-exist': 'identifier=urn:outpost:test|ine-1' });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const found = await call('GET', 'Patient?identifier=urn:outpost:test|ine-1');
    expect(found.body.entry).toHaveLength(1);
  });

  it('If-Match: the current version updates, a stale one is 412 and changes nothing', async () => {
    const created = await call('POST', 'Patient', patient('im-1'));
    const v1 = created.body.meta.versionId as string;
    const updated = await call('PUT', `Patient/${created.body.id}`, { ...created.body, gender: 'female' }, { 'if-match': `W/"${v1}"` });
    expect(updated.status).toBe(200);
    expect(updated.body.meta.versionId).not.toBe(v1);
    const stale = await call('PUT', `Patient/${created.body.id}`, { ...created.body, gender: 'male' }, { 'if-match': `W/"${v1}"` });
    expect(stale.status).toBe(412);
    expect((await call('GET', `Patient/${created.body.id}`)).body.gender).toBe('female');
  });

  it('refuses PUT to an id that does not exist (as Medplum) and invalid resources (400)', async () => {
    const put = await call('PUT', 'Patient/client-chosen-id', { ...patient('put-1'), id: 'client-chosen-id' });
    expect(put.status).toBe(404);
    const invalid = await call('POST', 'Patient', { resourceType: 'Patient', gender: 42 });
    expect(invalid.status).toBe(400);
    expect(invalid.body.resourceType).toBe('OperationOutcome');
  });

  it('runs transactions with urn:uuid references', async () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:11111111-1111-4111-8111-111111111111', resource: patient('tx-1'), request: { method: 'POST', url: 'Patient' } },
        {
          resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'urn:uuid:11111111-1111-4111-8111-111111111111' } },
          request: { method: 'POST', url: 'Encounter' },
        },
      ],
    };
    const res = await call('POST', '', bundle);
    expect(res.status).toBe(200);
    const [p, e] = (res.body as Bundle).entry ?? [];
    expect(p.response?.status).toMatch(/^201/);
    const encId = e.response?.location?.split('/')[1];
    const enc = await call('GET', `Encounter/${encId}`);
    const patientId = p.response?.location?.split('/')[1];
    expect(enc.body.subject.reference).toBe(`Patient/${patientId}`);
  });

  it('keeps history of versions', async () => {
    const created = await call('POST', 'Patient', patient('hist-1'));
    await call('PUT', `Patient/${created.body.id}`, { ...created.body, gender: 'other' });
    const history = await call('GET', `Patient/${created.body.id}/_history`);
    expect(history.body.entry).toHaveLength(2);
  });

  it('injects 500, 412 and 429 with Retry-After on matching requests only', async () => {
    server.inject({ fault: { type: 'status', status: 500 }, match: (r) => r.method === 'POST' });
    expect((await call('GET', 'Patient?_count=1')).status).toBe(200);
    expect((await call('POST', 'Patient', patient('f-500'))).status).toBe(500);
    expect((await call('POST', 'Patient', patient('f-500'))).status).toBe(201);

    server.inject({ fault: { type: 'status', status: 429, retryAfterSeconds: 3 }, times: 2 });
    const throttled = await call('GET', 'Patient');
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('3');
    expect((await call('GET', 'Patient')).status).toBe(429);
    expect((await call('GET', 'Patient')).status).toBe(200);

    server.inject({ fault: { type: 'status', status: 412 } });
    expect((await call('PUT', 'Patient/x', patient('x'))).status).toBe(412);
    expect(server.pendingFaults()).toBe(0);
  });

  it('drops the connection before or after committing', async () => {
    server.inject({ fault: { type: 'drop' } });
    await expect(call('POST', 'Patient', patient('drop-before'))).rejects.toThrow();
    expect((await call('GET', 'Patient?identifier=urn:outpost:test|drop-before')).body.entry).toBeUndefined();

    server.inject({ fault: { type: 'drop', afterCommit: true } });
    await expect(call('POST', 'Patient', patient('drop-after'))).rejects.toThrow();
    expect((await call('GET', 'Patient?identifier=urn:outpost:test|drop-after')).body.entry).toHaveLength(1);
  });

  it('delays slow responses', async () => {
    server.inject({ fault: { type: 'slow', ms: 150 } });
    const started = Date.now();
    expect((await call('GET', 'Patient?_count=1')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});
