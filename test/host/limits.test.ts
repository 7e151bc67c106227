// Bad input of issue 14, part 2, at the door (host.handle and the loopback HTTP adapter): each gets a
// 4xx OperationOutcome naming what is wrong, as Medplum's server would answer or stricter, and the
// store is left as it was. Also: every id the server assigns is a UUIDv7, inside transactions too.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, MAX_BUNDLE_BODY_BYTES, MAX_JSON_DEPTH } from '../../shared/contract/host.ts';
import { startHttpServer, type HttpServer } from '../../electron/host/http.ts';
import { makeHost, patient, type TestHost } from './helpers.ts';

let host: TestHost;
let server: HttpServer;
let auth: Record<string, string>;

beforeAll(async () => {
  host = makeHost();
  server = await startHttpServer(host, { port: 0, hostname: '127.0.0.1' });
  auth = { authorization: `Bearer ${server.token}` };
});
afterAll(async () => {
  await server.close();
  host.dispose();
});

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function refused(method: string, path: string, body: unknown, status: number, words?: RegExp) {
  const before = host.counts();
  const res = await host.call(method, path, body);
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body).slice(0, 300)}`).toBe(status);
  expect(res.body.resourceType).toBe('OperationOutcome');
  if (words) {
    expect(JSON.stringify(res.body)).toMatch(words);
  }
  expect(host.counts()).toEqual(before);
  return res;
}

describe('JSON bodies', () => {
  it('nesting deeper than the limit is 400, however deep (a 10,000-deep array, extensions 3,000 deep)', async () => {
    await refused('POST', 'Patient', `{"resourceType":"Patient","name":[{"given":${'['.repeat(10_000)}${']'.repeat(10_000)}}]}`, 400, /nests deeper than 100/);
    const open = '{"url":"http://example.org/x","extension":['.repeat(3_000);
    const extension = `${open}{"url":"http://example.org/x","valueString":"x"}${']}'.repeat(3_000)}`;
    await refused('POST', 'Patient', `{"resourceType":"Patient","extension":[${extension}]}`, 400, /nests deeper/);
    await refused('POST', '', `{"resourceType":"Bundle","type":"batch","entry":${'['.repeat(5_000)}${']'.repeat(5_000)}}`, 400, /nests deeper/);
    // A real resource a few dozen levels deep is fine.
    let nested: object = { linkId: 'leaf', text: 'leaf', type: 'string' };
    for (let i = 0; i < 20; i++) nested = { linkId: `g${i}`, text: 'group', type: 'group', item: [nested] };
    expect((await host.call('POST', 'Questionnaire', { resourceType: 'Questionnaire', status: 'active', item: [nested] })).status).toBe(201);
    expect(MAX_JSON_DEPTH).toBe(100);
  });

  it('__proto__ and constructor are refused like any unknown property', async () => {
    await refused('POST', 'Patient', '{"resourceType":"Patient","__proto__":{"polluted":true}}', 400, /Invalid additional property \\"__proto__\\"/);
    await refused('POST', 'Patient', '{"resourceType":"Patient","constructor":{"name":"x"}}', 400, /Invalid additional property \\"constructor\\"/);
    await refused('POST', 'Patient', '{"resourceType":"Patient","name":[{"family":"x","__proto__":{"a":1}}]}', 400, /Patient\.name\[0\]\.__proto__/);
    await refused('POST', 'Patient', '{"resourceType":"Patient","unknownField":1}', 400, /Invalid additional property \\"unknownField\\"/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a code outside its required value set is 400 naming the path and the value set (validateResource would take it)', async () => {
    await refused('POST', 'Patient', patient('X', { gender: 'banana' }), 400, /administrative-gender.*Patient\.gender/);
    await refused('POST', 'Observation', { resourceType: 'Observation', status: 'done', code: { text: 'x' } }, 400, /observation-status.*Observation\.status/);
    await refused('POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: patient('X', { gender: 'banana' }), request: { method: 'POST', url: 'Patient' } }] }, 400, /gender/);
    expect((await host.call('POST', 'Patient', patient('X', { gender: 'female' }))).status).toBe(201);
  });

  it('two values of one choice element, and a lone surrogate in a string, are 400', async () => {
    await refused('POST', 'Patient', patient('X', { deceasedBoolean: true, deceasedDateTime: '2020-01-01' }), 400, /Only one of deceased\[x\]/);
    await refused('POST', 'Patient', '{"resourceType":"Patient","name":[{"family":"\\ud800"}]}', 400, /lone surrogate/);
    await refused('POST', 'Patient', '{"resourceType":"Patient","name":[{"family":"\\udc00x"}]}', 400, /lone surrogate/);
    expect((await host.call('POST', 'Patient', '{"resourceType":"Patient","name":[{"family":"\\ud83d\\ude00"}]}')).status).toBe(201);
  });

  it('a day its month does not have is 400, in a resource and in a search (naming the parameter)', async () => {
    await refused('POST', 'Patient', patient('X', { birthDate: '2021-02-29' }), 400, /2021-02-29 is not a day/);
    await refused('POST', 'Patient', patient('X', { birthDate: '2020-04-31' }), 400, /not a day/);
    expect((await host.call('POST', 'Patient', patient('Leap', { birthDate: '2020-02-29' }))).status).toBe(201);
    const search = await refused('GET', 'Patient?birthdate=2020-02-30', undefined, 400, /birthdate/);
    expect(search.body.issue[0].expression).toEqual(['birthdate']);
    await refused('GET', 'Patient?_lastUpdated=gt2023-06-31T00:00:00Z', undefined, 400, /_lastUpdated/);
    expect((await host.call('GET', 'Patient?birthdate=2020-02-29')).body.total).toBe(1);
  });
});

describe('sizes', () => {
  it('a URL over 16 KiB is 431 with an OperationOutcome, over HTTP and at the host', async () => {
    const long = `Patient?name=${'a'.repeat(17 * 1024)}`;
    const res = await fetch(`${server.url}/fhir/R4/${long}`, { headers: auth });
    expect(res.status).toBe(431);
    expect(res.headers.get('content-type')).toContain('fhir+json');
    expect((await res.json()).resourceType).toBe('OperationOutcome');
    expect((await host.call('GET', long)).status).toBe(431);
    expect((await fetch(`${server.url}/fhir/R4/metadata`, { headers: auth })).status).toBe(200);
  });

  it('a body whose stated length is over the limit is refused at once, before any of it is sent', async () => {
    // 50 MB announced, not one byte of it sent: the answer must not wait for the body.
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: server.port });
      let text = '';
      socket.setTimeout(10_000, () => reject(new Error(`no answer; got ${text}`)));
      socket.on('data', (d) => {
        text += d.toString();
        if (text.includes('"OperationOutcome"')) {
          socket.destroy();
          resolve(text);
        }
      });
      socket.on('error', reject);
      socket.write(
        `POST /fhir/R4/Patient HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: Bearer ${server.token}\r\n` +
          `Content-Type: application/fhir+json\r\nContent-Length: ${50 * 1024 * 1024}\r\n\r\n`,
      );
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    expect(answer.toLowerCase()).toContain('connection: close');
    // The FHIR base takes Bundles up to their own, larger limit; past it, 413 too.
    expect(MAX_BUNDLE_BODY_BYTES).toBeGreaterThan(MAX_BODY_BYTES);
    const bundleAnswer = await fetch(`${server.url}/fhir/R4/`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: [{ resource: patient('y'.repeat(MAX_BODY_BYTES)), request: { method: 'POST', url: 'Patient' } }] }),
    });
    expect(bundleAnswer.status).not.toBe(413); // 1 MiB at the base is under its limit (the string itself is then refused by validation)
    expect((await fetch(`${server.url}/fhir/R4/metadata`, { headers: auth })).status).toBe(200);
  });

  it('a resource body over 1 MiB is 413 at the host too (IPC and in-process callers)', async () => {
    await refused('POST', 'Patient', JSON.stringify(patient('z'.repeat(MAX_BODY_BYTES))), 413);
  });
});

describe('ids', () => {
  it('every id the server assigns is a UUIDv7: creates, conditional creates, batch and transaction entries', async () => {
    const created = await host.call('POST', 'Patient', patient('Seven'));
    const conditional = await host.call('PUT', 'Patient?identifier=urn:x|seven', patient('Seven', { identifier: [{ system: 'urn:x', value: 'seven' }] }));
    const transaction = await host.call('POST', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:6b3f1b9e-0000-4000-8000-000000000001', resource: patient('InTransaction'), request: { method: 'POST', url: 'Patient' } },
        {
          resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'urn:uuid:6b3f1b9e-0000-4000-8000-000000000001' } },
          request: { method: 'POST', url: 'Observation' },
        },
        { resource: patient('ConditionalInTransaction'), request: { method: 'PUT', url: 'Patient?identifier=urn:x|t' } },
      ],
    });
    const batch = await host.call('POST', '', { resourceType: 'Bundle', type: 'batch', entry: [{ resource: patient('InBatch'), request: { method: 'POST', url: 'Patient' } }] });
    expect(transaction.status, JSON.stringify(transaction.body)).toBe(200);
    const ids = [created.body.id, conditional.body.id, ...transaction.body.entry.map((e: any) => e.resource.id), ...batch.body.entry.map((e: any) => e.resource.id)];
    expect(ids).toHaveLength(6);
    for (const id of ids) {
      expect(id).toMatch(UUID_V7);
    }
    expect(transaction.body.entry[1].resource.subject.reference).toBe(`Patient/${transaction.body.entry[0].resource.id}`);
  });
});
