// Search through the door: type, POST _search, system and compartment searches, and paging by following
// the Bundle's own links back through host.handle.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHost, pathOf, patient, type TestHost } from './helpers.ts';

let host: TestHost;
const patients: string[] = [];
let observations: string[] = [];

beforeAll(async () => {
  host = makeHost({ baseUrl: 'http://outpost.test/' });
  for (let i = 0; i < 7; i++) {
    const res = await host.call('POST', 'Patient', patient(i < 4 ? 'Garcia' : 'Okafor', { birthDate: `19${70 + i}-03-04` }));
    patients.push(res.body.id);
  }
  observations = [];
  for (const [i, subject] of [patients[0], patients[0], patients[1]].entries()) {
    const res = await host.call('POST', 'Observation', {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: { reference: `Patient/${subject}` },
      effectiveDateTime: `2024-01-0${i + 1}`,
    });
    observations.push(res.body.id);
  }
});
afterAll(() => host.dispose());

const ids = (bundle: any): string[] => (bundle.entry ?? []).map((e: any) => e.resource.id).sort();

describe('type search', () => {
  it('GET Type?params answers a searchset Bundle', async () => {
    const res = await host.call('GET', 'Patient?name=garcia');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(res.body.type).toBe('searchset');
    expect(ids(res.body)).toEqual(patients.slice(0, 4).sort());
    expect(res.body.link.find((l: any) => l.relation === 'self').url).toMatch(/^http:\/\/outpost\.test\/fhir\/R4\/Patient\?/);
  });

  it('POST Type/_search with a form body equals the GET', async () => {
    const get = await host.call('GET', 'Patient?birthdate=ge1973-01-01');
    const post = await host.call('POST', 'Patient/_search', 'birthdate=ge1973-01-01', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(post.status).toBe(200);
    expect(ids(post.body)).toEqual(ids(get.body));
    expect(ids(post.body).length).toBe(4);
    const merged = await host.call('POST', 'Patient/_search?name=okafor', 'birthdate=ge1973-01-01', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(ids(merged.body)).toEqual(patients.slice(4).sort());
  });

  it('an unknown parameter is a 400 OperationOutcome', async () => {
    const res = await host.call('GET', 'Patient?colour=blue');
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });
});

describe('system and compartment search', () => {
  it('system search over several types', async () => {
    const res = await host.call('GET', '?_type=Patient,Observation&_count=100');
    expect(res.status).toBe(200);
    expect(ids(res.body)).toEqual([...patients, ...observations].sort());
    const post = await host.call('POST', '_search', '_type=Observation', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(ids(post.body)).toEqual([...observations].sort());
  });

  it('Patient/id/Type is the compartment search', async () => {
    const res = await host.call('GET', `Patient/${patients[0]}/Observation`);
    expect(res.status).toBe(200);
    expect(ids(res.body)).toEqual(observations.slice(0, 2).sort());
    const filtered = await host.call('GET', `Patient/${patients[0]}/Observation?date=2024-01-02`);
    expect(ids(filtered.body)).toEqual([observations[1]]);
    expect((await host.call('GET', `Patient/${patients[0]}/Spaceship`)).status).toBe(404);
  });
});

describe('paging', () => {
  it('following next links visits every match once, and previous goes back', async () => {
    let page = await host.call('GET', 'Patient?_count=3&_sort=birthdate');
    expect(page.status).toBe(200);
    const seen: string[] = [];
    const pages: any[] = [];
    for (let i = 0; i < 10; i++) {
      pages.push(page.body);
      seen.push(...page.body.entry.map((e: any) => e.resource.id));
      const next = page.body.link.find((l: any) => l.relation === 'next');
      if (!next) break;
      page = await host.call('GET', pathOf(next.url));
      expect(page.status).toBe(200);
    }
    expect(seen).toEqual(patients); // created in birthdate order
    expect(pages.length).toBe(3);
    const previous = pages[2].link.find((l: any) => l.relation === 'previous');
    expect(previous).toBeTruthy();
    const back = await host.call('GET', pathOf(previous.url));
    expect(ids(back.body)).toEqual(ids(pages[1]));
  });
});
