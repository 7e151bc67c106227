// Bad input never changes the store: each request below is refused with a 4xx OperationOutcome (or, for a
// string-like search value that is merely odd, answered with no matches), and the row counts of
// `resource` and `resource_history` stay exactly as they were.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHost, patient, type TestHost } from './helpers.ts';

let host: TestHost;
let patientId: string;

beforeAll(async () => {
  host = makeHost({ maxBodyBytes: 64 * 1024 });
  const created = await host.call('POST', 'Patient', patient('Smith', { birthDate: '1980-02-03', identifier: [{ system: 'urn:mrn', value: '1' }] }));
  patientId = created.body.id;
  await host.call('POST', 'Observation', {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
    subject: { reference: `Patient/${patientId}` },
    valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
  });
});
afterAll(() => host.dispose());

async function expectRefused(method: string, path: string, body?: unknown, headers?: Record<string, string>, status?: number) {
  const before = host.counts();
  const res = await host.call(method, path, body, headers);
  expect(res.body?.resourceType, `${method} ${path}`).toBe('OperationOutcome');
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  if (status) {
    expect(res.status).toBe(status);
  }
  expect(host.counts()).toEqual(before);
  return res;
}

describe('malformed bodies', () => {
  it('malformed JSON is 400 on every write', async () => {
    await expectRefused('POST', 'Patient', '{"resourceType": "Patient",', undefined, 400);
    await expectRefused('PUT', `Patient/${patientId}`, '{nope', undefined, 400);
    await expectRefused('PATCH', `Patient/${patientId}`, '[{"op":', { 'content-type': 'application/json-patch+json' }, 400);
    await expectRefused('POST', '', '{"resourceType":"Bundle"', undefined, 400);
    await expectRefused('POST', 'Patient', '', undefined, 400);
    await expectRefused('POST', 'Patient', '[1,2]', undefined, 400);
  });

  it('an unknown or missing resourceType is refused', async () => {
    await expectRefused('POST', 'Patient', { resourceType: 'Spaceship' }, undefined, 400);
    await expectRefused('POST', 'Patient', { name: [{ family: 'x' }] }, undefined, 400);
    await expectRefused('POST', 'Spaceship', { resourceType: 'Spaceship' }, undefined, 404);
  });

  it('a body resourceType or id differing from the URL is 400', async () => {
    await expectRefused('POST', 'Patient', { resourceType: 'Observation', status: 'final', code: { text: 'x' } }, undefined, 400);
    await expectRefused('PUT', `Patient/${patientId}`, { resourceType: 'Observation', id: patientId }, undefined, 400);
    await expectRefused('PUT', `Patient/${patientId}`, { ...patient('X'), id: 'another-id' }, undefined, 400);
    await expectRefused('PUT', `Patient/${patientId}`, patient('X'), undefined, 400);
  });

  it('an invalid resource is refused with the path named', async () => {
    const res = await expectRefused('POST', 'Patient', { resourceType: 'Patient', gender: 42 });
    expect(JSON.stringify(res.body)).toContain('gender');
    await expectRefused('POST', 'Patient', { resourceType: 'Patient', birthDate: '1980-13-45' });
  });

  it('a body over the size limit is 413', async () => {
    const big = JSON.stringify(patient('x'.repeat(70 * 1024)));
    await expectRefused('POST', 'Patient', big, undefined, 413);
    await expectRefused('POST', '', big, undefined, 413);
  });

  it('an unsupported content type is 415', async () => {
    await expectRefused('POST', 'Patient', '<Patient/>', { 'content-type': 'application/fhir+xml' }, 415);
    await expectRefused('POST', 'Patient/_search', 'name=x', { 'content-type': 'text/plain' }, 415);
  });

  it('ids and paths that are not FHIR ids never reach the store', async () => {
    await expectRefused('GET', "Patient/1' OR '1'='1");
    await expectRefused('DELETE', 'Patient/a;DROP TABLE resource');
    await expectRefused('PUT', `Patient/${'x'.repeat(65)}`, { ...patient('X'), id: 'x'.repeat(65) });
  });

  it('conditional writes without criteria are refused', async () => {
    await expectRefused('DELETE', 'Patient', undefined, undefined, 400);
    await expectRefused('PUT', 'Patient', patient('X'), undefined, 400);
  });
});

describe('bad search values', () => {
  it('bad dates and prefixes are 400', async () => {
    for (const query of [
      'Patient?birthdate=2020-13-45',
      'Patient?birthdate=xx2020',
      'Patient?birthdate=not-a-date',
      'Patient?_lastUpdated=gt2020-02-30T99:00:00Z',
      'Observation?value-quantity=zz5',
      'Observation?value-quantity=abc',
      'RiskAssessment?probability=xx0.5',
      'Patient?_count=abc',
      'Patient?nonsense-parameter=1',
    ]) {
      await expectRefused('GET', query);
    }
  });

  const nasty = ["'", '"', "'; DROP TABLE resource; --", "x' OR '1'='1", '%', '_', '\\', '1) OR (1=1', '--', '/*', '*/'];

  it('SQL metacharacters in date, number and quantity values are 400', async () => {
    for (const value of nasty) {
      const v = encodeURIComponent(value);
      for (const query of [`Patient?birthdate=${v}`, `RiskAssessment?probability=${v}`, `Observation?value-quantity=${v}`, `Patient?_lastUpdated=${v}`]) {
        await expectRefused('GET', query);
      }
    }
  });

  it('SQL metacharacters in string, token, reference, uri and composite values match nothing and change nothing', async () => {
    for (const value of nasty) {
      const v = encodeURIComponent(value);
      for (const query of [
        `Patient?name=${v}`,
        `Patient?name:exact=${v}`,
        `Patient?name:contains=${v}`,
        `Patient?identifier=${v}`,
        `Observation?subject=${v}`,
        `Observation?subject=Patient/${v}`,
        `ValueSet?url=${v}`,
        `Observation?code-value-quantity=${v}$72`,
        `Patient?_id=${v}`,
      ]) {
        const before = host.counts();
        const res = await host.call('GET', query);
        if (value === '\\' && res.status === 400) {
          // A lone escape character can leave an empty value: refusing it is right too.
          expect(res.body.resourceType).toBe('OperationOutcome');
        } else {
          expect(res.status, `${query}: ${JSON.stringify(res.body)}`).toBe(200);
          expect(res.body.entry ?? [], query).toEqual([]);
        }
        expect(host.counts()).toEqual(before);
      }
      // The quantity half of a composite is numeric: a metacharacter there is a 400.
      await expectRefused('GET', `Observation?code-value-quantity=http://loinc.org|8867-4$${v}`);
    }
    // The data is still there and findable.
    const found = await host.call('GET', 'Patient?identifier=urn:mrn|1');
    expect(found.body.entry.map((e: any) => e.resource.id)).toEqual([patientId]);
  });

  // @medplum/core's splitSearchOnComma drops a trailing lone backslash, so `identifier=urn:mrn|%5C` would
  // become the system-only `urn:mrn|` and match every identifier of that system: the search refuses it (400).
  it('a value that is only an escape character never widens a token search', async () => {
    for (const query of ['Patient?identifier=urn:mrn|%5C', 'Patient?identifier=urn:mrn|%27']) {
      const before = host.counts();
      const res = await host.call('GET', query);
      expect(res.status === 200 ? (res.body.entry ?? []) : [], query).toEqual([]);
      if (query.endsWith('%5C')) {
        expect(res.status, query).toBe(400);
        expect(res.body.resourceType).toBe('OperationOutcome');
      }
      expect(host.counts()).toEqual(before);
    }
  });
});
