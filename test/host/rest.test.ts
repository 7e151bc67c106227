// The FHIR REST door through host.handle: every interaction with its statuses and headers.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { open } from '../../electron/host/routes/router.ts';
import { makeHost, patient, type TestHost } from './helpers.ts';

let host: TestHost;
beforeEach(() => {
  host = makeHost({ baseUrl: 'http://outpost.test/' });
});
afterEach(() => host.dispose());

async function createPatient(family = 'Smith', extra: Record<string, unknown> = {}) {
  const res = await host.call('POST', 'Patient', patient(family, extra));
  expect(res.status).toBe(201);
  return res.body;
}

describe('create', () => {
  it('answers 201 with Location, ETag, Last-Modified and the stored resource', async () => {
    const res = await host.call('POST', 'Patient', patient('Smith'));
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.location).toBe(`http://outpost.test/fhir/R4/Patient/${res.body.id}/_history/1`);
    expect(res.headers.etag).toBe('W/"1"');
    expect(new Date(res.headers['last-modified']).toISOString().slice(0, 19)).toBe(res.body.meta.lastUpdated.slice(0, 19));
  });

  it('ignores a client id on create', async () => {
    const res = await host.call('POST', 'Patient', patient('Smith', { id: 'chosen-by-client' }));
    expect(res.status).toBe(201);
    expect(res.body.id).not.toBe('chosen-by-client');
  });

  it('honours Prefer: return=minimal and return=OperationOutcome', async () => {
    const minimal = await host.call('POST', 'Patient', patient('A'), { prefer: 'return=minimal' });
    expect(minimal.status).toBe(201);
    expect(minimal.body).toBeUndefined();
    expect(minimal.headers.location).toContain('/Patient/');
    const oo = await host.call('POST', 'Patient', patient('B'), { prefer: 'return=OperationOutcome' });
    expect(oo.body.resourceType).toBe('OperationOutcome');
    const full = await host.call('POST', 'Patient', patient('C'), { prefer: 'return=representation' });
    expect(full.body.resourceType).toBe('Patient');
  });

  it('If-None-Exist returns the existing match with 200 instead of creating', async () => {
    const identifier = [{ system: 'urn:test', value: 'mrn-1' }];
    const first = await host.call('POST', 'Patient', patient('A', { identifier }), { 'if-none-exist': 'identifier=urn:test|mrn-1' });
    expect(first.status).toBe(201);
    const before = host.counts();
    const second = await host.call('POST', 'Patient', patient('A', { identifier }), { 'if-none-exist': 'identifier=urn:test|mrn-1' });
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    expect(host.counts()).toEqual(before);
  });
});

describe('read and vread', () => {
  it('reads the current version with its ETag and any version by vread', async () => {
    const created = await createPatient();
    await host.call('PUT', `Patient/${created.id}`, { ...created, gender: 'female' });
    const read = await host.call('GET', `Patient/${created.id}`);
    expect(read.status).toBe(200);
    expect(read.headers.etag).toBe('W/"2"');
    expect(read.body.gender).toBe('female');
    const v1 = await host.call('GET', `Patient/${created.id}/_history/1`);
    expect(v1.status).toBe(200);
    expect(v1.headers.etag).toBe('W/"1"');
    expect(v1.body.gender).toBeUndefined();
  });

  it('404 for an unknown id or version, 404 for an unknown type', async () => {
    const created = await createPatient();
    expect((await host.call('GET', 'Patient/does-not-exist')).status).toBe(404);
    expect((await host.call('GET', `Patient/${created.id}/_history/9`)).status).toBe(404);
    const unknown = await host.call('GET', 'Spaceship/1');
    expect(unknown.status).toBe(404);
    expect(unknown.body.resourceType).toBe('OperationOutcome');
  });

  it('HEAD answers like GET without a body', async () => {
    const created = await createPatient();
    const res = await host.call('HEAD', `Patient/${created.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('W/"1"');
    expect(res.body).toBeUndefined();
  });
});

describe('update', () => {
  it('PUT makes a new version; If-Match with a stale version is 412 and changes nothing', async () => {
    const created = await createPatient();
    const updated = await host.call('PUT', `Patient/${created.id}`, { ...created, gender: 'male' }, { 'if-match': 'W/"1"' });
    expect(updated.status).toBe(200);
    expect(updated.headers.etag).toBe('W/"2"');
    const before = host.counts();
    const stale = await host.call('PUT', `Patient/${created.id}`, { ...created, gender: 'other' }, { 'if-match': 'W/"1"' });
    expect(stale.status).toBe(412);
    expect(stale.body.resourceType).toBe('OperationOutcome');
    expect(host.counts()).toEqual(before);
    expect((await host.call('GET', `Patient/${created.id}`)).body.gender).toBe('male');
  });

  it('conditional update creates when nothing matches and updates the one match', async () => {
    const identifier = [{ system: 'urn:test', value: 'cu-1' }];
    const created = await host.call('PUT', 'Patient?identifier=urn:test|cu-1', patient('A', { identifier }));
    expect(created.status).toBe(201);
    const updated = await host.call('PUT', 'Patient?identifier=urn:test|cu-1', patient('B', { identifier }));
    expect(updated.status).toBe(200);
    expect(updated.body.id).toBe(created.body.id);
    expect(updated.body.name[0].family).toBe('B');
  });
});

describe('patch', () => {
  it('applies a JSON Patch', async () => {
    const created = await createPatient();
    const res = await host.call('PATCH', `Patient/${created.id}`, [{ op: 'add', path: '/gender', value: 'female' }], {
      'content-type': 'application/json-patch+json',
    });
    expect(res.status).toBe(200);
    expect(res.body.gender).toBe('female');
    expect(res.headers.etag).toBe('W/"2"');
  });

  it('a conditional JSON Patch patches the one match; none is 404, several 412, and nothing changes', async () => {
    const created = await createPatient('Conditional-Patch-One');
    const patch = [{ op: 'add', path: '/gender', value: 'other' }];
    const headers = { 'content-type': 'application/json-patch+json' };
    const one = await host.call('PATCH', 'Patient?family=Conditional-Patch-One', patch, headers);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: created.id, gender: 'other' });
    expect((await host.call('PATCH', 'Patient?family=Conditional-Patch-None', patch, headers)).status).toBe(404);
    await createPatient('Conditional-Patch-Two');
    await createPatient('Conditional-Patch-Two');
    expect((await host.call('PATCH', 'Patient?family=Conditional-Patch-Two', patch, headers)).status).toBe(412);
    const two = await host.call('GET', 'Patient?family=Conditional-Patch-Two');
    expect(two.body.entry.map((e: any) => e.resource.gender ?? null)).toEqual([null, null]);
  });

  it('applies a FHIRPath Patch Parameters body', async () => {
    const created = await createPatient('Smith', { birthDate: '1970-01-01' });
    const body = {
      resourceType: 'Parameters',
      parameter: [
        {
          name: 'operation',
          part: [
            { name: 'type', valueCode: 'replace' },
            { name: 'path', valueString: 'Patient.birthDate' },
            { name: 'value', valueDate: '1990-05-06' },
          ],
        },
      ],
    };
    const res = await host.call('PATCH', `Patient/${created.id}`, body);
    expect(res.status).toBe(200);
    expect(res.body.birthDate).toBe('1990-05-06');
  });

  it('rejects a JSON Patch body that is not an array', async () => {
    const created = await createPatient();
    const before = host.counts();
    const res = await host.call('PATCH', `Patient/${created.id}`, { op: 'add' }, { 'content-type': 'application/json-patch+json' });
    expect(res.status).toBe(400);
    expect(host.counts()).toEqual(before);
  });
});

describe('delete', () => {
  it('deletes softly: read is 410 afterwards, history keeps the versions', async () => {
    const created = await createPatient();
    const res = await host.call('DELETE', `Patient/${created.id}`);
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect((await host.call('GET', `Patient/${created.id}`)).status).toBe(410);
    const history = await host.call('GET', `Patient/${created.id}/_history`);
    expect(history.body.entry.length).toBe(2);
  });

  it('conditional delete removes the matches', async () => {
    const identifier = [{ system: 'urn:test', value: 'cd-1' }];
    const created = await createPatient('A', { identifier });
    const res = await host.call('DELETE', 'Patient?identifier=urn:test|cd-1');
    expect(res.status).toBe(200);
    expect((await host.call('GET', `Patient/${created.id}`)).status).toBe(410);
  });
});

describe('history', () => {
  it('instance, type and system history list versions newest first', async () => {
    const a = await createPatient('A');
    await host.call('PUT', `Patient/${a.id}`, { ...a, gender: 'male' });
    await host.call('POST', 'Observation', {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      subject: { reference: `Patient/${a.id}` },
    });
    const instance = await host.call('GET', `Patient/${a.id}/_history`);
    expect(instance.status).toBe(200);
    expect(instance.body.type).toBe('history');
    expect(instance.body.entry.map((e: any) => e.resource.meta.versionId)).toEqual(['2', '1']);
    const type = await host.call('GET', 'Patient/_history');
    expect(type.body.entry.every((e: any) => e.resource.resourceType === 'Patient')).toBe(true);
    const system = await host.call('GET', '_history');
    expect(system.body.entry.length).toBe(3);
  });

  it('pages with _count and a next link that works when followed', async () => {
    const a = await createPatient('A');
    for (const gender of ['male', 'female', 'other', 'unknown']) {
      await host.call('PUT', `Patient/${a.id}`, { ...a, gender });
    }
    let page = await host.call('GET', `Patient/${a.id}/_history?_count=2`);
    const versions: string[] = [];
    for (let i = 0; i < 10 && page.body; i++) {
      versions.push(...page.body.entry.map((e: any) => e.resource.meta.versionId));
      const next = page.body.link.find((l: any) => l.relation === 'next');
      if (!next) break;
      page = await host.call('GET', new URL(next.url).pathname + new URL(next.url).search);
    }
    expect(versions).toEqual(['5', '4', '3', '2', '1']);
  });

  it('rejects a bad _since or an unknown history parameter', async () => {
    expect((await host.call('GET', '_history?_since=yesterday')).status).toBe(400);
    expect((await host.call('GET', '_history?_at=2020')).status).toBe(400);
    expect((await host.call('GET', '_history?_count=-1')).status).toBe(400);
  });
});

describe('batch and transaction', () => {
  it('a transaction resolves urn:uuid references and answers a transaction-response', async () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:4a8f7e1c-0000-4000-8000-000000000001', resource: patient('T'), request: { method: 'POST', url: 'Patient' } },
        {
          fullUrl: 'urn:uuid:4a8f7e1c-0000-4000-8000-000000000002',
          resource: {
            resourceType: 'Observation',
            status: 'final',
            code: { text: 'x' },
            subject: { reference: 'urn:uuid:4a8f7e1c-0000-4000-8000-000000000001' },
          },
          request: { method: 'POST', url: 'Observation' },
        },
      ],
    };
    const res = await host.call('POST', '', bundle);
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('transaction-response');
    const [p, o] = res.body.entry;
    expect(o.resource.subject.reference).toBe(`Patient/${p.resource.id}`);
  });

  it('a failing transaction changes nothing; a batch fails entry by entry', async () => {
    const before = host.counts();
    const bad = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: patient('OK'), request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', gender: 42 }, request: { method: 'POST', url: 'Patient' } },
      ],
    };
    const failed = await host.call('POST', '', bad);
    expect(failed.status).toBeGreaterThanOrEqual(400);
    expect(failed.status).toBeLessThan(500);
    expect(failed.body.resourceType).toBe('OperationOutcome');
    expect(host.counts()).toEqual(before);

    const batch = await host.call('POST', '', { ...bad, type: 'batch' });
    expect(batch.status).toBe(200);
    expect(batch.body.type).toBe('batch-response');
    expect(batch.body.entry[0].response.status).toMatch(/^201/);
    expect(batch.body.entry[1].response.status).toMatch(/^4/);
  });

  it('rejects a Bundle that is neither batch nor transaction', async () => {
    const res = await host.call('POST', '', { resourceType: 'Bundle', type: 'collection', entry: [] });
    expect(res.status).toBe(400);
  });
});

describe('metadata and routing', () => {
  it('GET metadata is a CapabilityStatement of what works', async () => {
    const res = await host.call('GET', 'metadata');
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('CapabilityStatement');
    expect(res.body.fhirVersion).toBe('4.0.1');
    const rest = res.body.rest[0];
    expect(rest.interaction.map((i: any) => i.code).sort()).toEqual(['batch', 'history-system', 'search-system', 'transaction']);
    const patientEntry = rest.resource.find((r: any) => r.type === 'Patient');
    expect(patientEntry.interaction.map((i: any) => i.code)).toContain('patch');
    expect(patientEntry.searchParam.map((p: any) => p.name)).toContain('birthdate');
  });

  it('every search parameter the CapabilityStatement lists is answered', async () => {
    const rest = (await host.call('GET', 'metadata')).body.rest[0];
    const refused: string[] = [];
    let probed = 0;
    for (const resource of rest.resource) {
      for (const param of resource.searchParam) {
        probed++;
        // :missing suits every simple type; a composite gets a value of each shape its second part may take.
        const probes = param.type === 'composite' ? ['x$1', 'x$2020', 'x$y'] : [null];
        let answered = false;
        for (const probe of probes) {
          const query = probe === null ? `${param.name}:missing=true` : `${param.name}=${encodeURIComponent(probe)}`;
          if ((await host.call('GET', `${resource.type}?${query}&_count=0`)).status === 200) {
            answered = true;
            break;
          }
        }
        if (!answered) refused.push(`${resource.type}?${param.name} (${param.type})`);
      }
    }
    expect(probed).toBeGreaterThan(1000);
    expect(refused).toEqual([]);
  });

  it('405 with Allow for a method a path does not support; 404 outside the API', async () => {
    const res = await host.call('PATCH', 'metadata');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toContain('GET');
    expect((await host.call('OPTIONS', 'Patient')).status).toBe(405);
    expect((await host.call('TRACE', 'Patient')).status).toBe(405);
    expect((await host.call('GET', '/elsewhere')).status).toBe(404);
  });

  it('never leaks a stack trace: failures are OperationOutcomes', async () => {
    const res = await host.call('GET', 'Patient/%E0%A4%A');
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+/);
  });
});

describe('extra routes', () => {
  it("routes planted beside the host's own share the one table, with its 404/405", async () => {
    const mounted = makeHost({
      dataDir: ':memory:',
      routes: (services) => [{ method: 'GET', pattern: 'outpost/ping', ...open(() => ({ status: 200, headers: {}, body: { ok: !!services.access } })) }],
    });
    try {
      expect((await mounted.call('GET', '/outpost/ping')).body).toEqual({ ok: true });
      expect((await mounted.call('POST', '/outpost/ping', '{}')).status).toBe(405);
      expect((await mounted.call('GET', '/outpost/nothing')).status).toBe(404);
      expect((await mounted.call('GET', 'metadata')).status).toBe(200);
    } finally {
      mounted.dispose();
    }
  });
});

describe('lifecycle', () => {
  it('a closed host answers 503 and closing twice is harmless', async () => {
    const closing = makeHost({ dataDir: ':memory:' });
    closing.close();
    closing.close();
    const res = await closing.call('GET', 'metadata');
    expect(res.status).toBe(503);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  it('hosts are independent: two data folders never see each other', async () => {
    const other = makeHost();
    try {
      const created = await host.call('POST', 'Patient', patient('Only here'));
      expect((await other.call('GET', `Patient/${created.body.id}`)).status).toBe(404);
    } finally {
      other.dispose();
    }
  });
});
