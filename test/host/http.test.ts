// The loopback HTTP adapter, end to end with fetch: token, loopback-only binding, no CORS, security
// headers, streaming body limit, and the FHIR REST routes with their headers.
import { readFileSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServer } from '../../electron/host/http.ts';
import { makeHost, patient, type TestHost } from './helpers.ts';

let host: TestHost;
let server: HttpServer;
let auth: Record<string, string>;

beforeAll(async () => {
  host = makeHost({ maxBodyBytes: 256 * 1024 });
  server = await startHttpServer(host, { port: 0, hostname: '127.0.0.1' });
  auth = { authorization: `Bearer ${server.token}` };
});
afterAll(async () => {
  await server.close();
  host.dispose();
});

const api = (path: string) => `${server.url}/fhir/R4/${path}`;
const fhir = { 'content-type': 'application/fhir+json' };

describe('the door is locked', () => {
  it('refuses requests without the token, or with a wrong one, with a 401 OperationOutcome', async () => {
    const none = await fetch(api('metadata'));
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((await none.json()).resourceType).toBe('OperationOutcome');
    const wrong = await fetch(api('metadata'), { headers: { authorization: 'Bearer 0000' } });
    expect(wrong.status).toBe(401);
    const before = host.counts();
    const write = await fetch(api('Patient'), { method: 'POST', headers: fhir, body: JSON.stringify(patient('X')) });
    expect(write.status).toBe(401);
    expect(host.counts()).toEqual(before);
  });

  it('writes the random token to the data folder with mode 0600', () => {
    expect(server.token).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(server.tokenFile!, 'utf8').trim()).toBe(server.token);
    expect(statSync(server.tokenFile!).mode & 0o777).toBe(0o600);
  });

  it('binds 127.0.0.1 only', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // Another loopback address on the same port is refused: the socket is not bound to every interface.
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.2', port: server.port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
    await expect(startHttpServer(host, { hostname: '0.0.0.0' as '127.0.0.1', token: 'x' })).rejects.toThrow(/127\.0\.0\.1/);
  });

  it('refuses a foreign Origin (no CORS) and a foreign Host (DNS rebinding)', async () => {
    const foreign = await fetch(api('metadata'), { headers: { ...auth, origin: 'http://evil.example' } });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const same = await fetch(api('metadata'), { headers: { ...auth, origin: server.url } });
    expect(same.status).toBe(200);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(api('metadata'), { headers: { ...auth, host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(400);
  });

  it('sends security headers', async () => {
    const res = await fetch(api('metadata'), { headers: auth });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
  });
});

describe('FHIR REST over HTTP', () => {
  it('create, read, update, delete with statuses and headers', async () => {
    const created = await fetch(api('Patient'), { method: 'POST', headers: { ...auth, ...fhir }, body: JSON.stringify(patient('Http')) });
    expect(created.status).toBe(201);
    const body = await created.json();
    expect(created.headers.get('location')).toBe(`${server.url}/fhir/R4/Patient/${body.id}/_history/1`);
    expect(created.headers.get('etag')).toBe('W/"1"');
    expect(created.headers.get('last-modified')).toBeTruthy();

    const read = await fetch(created.headers.get('location')!.replace(/\/_history\/1$/, ''), { headers: auth });
    expect(read.status).toBe(200);
    expect((await read.json()).id).toBe(body.id);

    const minimal = await fetch(api(`Patient/${body.id}`), {
      method: 'PUT',
      headers: { ...auth, ...fhir, 'if-match': 'W/"1"', prefer: 'return=minimal' },
      body: JSON.stringify({ ...body, gender: 'female' }),
    });
    expect(minimal.status).toBe(200);
    expect(minimal.headers.get('etag')).toBe('W/"2"');
    expect(await minimal.text()).toBe('');

    const stale = await fetch(api(`Patient/${body.id}`), {
      method: 'PUT',
      headers: { ...auth, ...fhir, 'if-match': 'W/"1"' },
      body: JSON.stringify({ ...body, gender: 'male' }),
    });
    expect(stale.status).toBe(412);

    expect((await fetch(api(`Patient/${body.id}`), { method: 'DELETE', headers: auth })).status).toBe(200);
    expect((await fetch(api(`Patient/${body.id}`), { headers: auth })).status).toBe(410);
  });

  it('malformed JSON is 400 and an unsupported method 405, changing nothing', async () => {
    const before = host.counts();
    const bad = await fetch(api('Patient'), { method: 'POST', headers: { ...auth, ...fhir }, body: '{"resourceType":' });
    expect(bad.status).toBe(400);
    const options = await fetch(api('Patient'), { method: 'OPTIONS', headers: auth });
    expect(options.status).toBe(405);
    const patchType = await fetch(api('Patient'), { method: 'PATCH', headers: { ...auth, ...fhir }, body: '[]' });
    expect(patchType.status).toBe(400); // a conditional patch needs search parameters
    const deleteMetadata = await fetch(api('metadata'), { method: 'DELETE', headers: auth });
    expect(deleteMetadata.status).toBe(405);
    expect(host.counts()).toEqual(before);
  });

  it('a body over the limit is refused with 413 while streaming, changing nothing', async () => {
    const before = host.counts();
    const big = JSON.stringify(patient('y'.repeat(300 * 1024)));
    const declared = await fetch(api('Patient'), { method: 'POST', headers: { ...auth, ...fhir }, body: big });
    expect(declared.status).toBe(413);
    expect((await declared.json()).resourceType).toBe('OperationOutcome');
    // Chunked (no Content-Length): the limit is enforced as the bytes arrive.
    const chunks = [big.slice(0, 100_000), big.slice(100_000, 200_000), big.slice(200_000)];
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunks) controller.enqueue(new TextEncoder().encode(c));
        controller.close();
      },
    });
    const chunked = await fetch(api('Patient'), {
      method: 'POST',
      headers: { ...auth, ...fhir },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(host.counts()).toEqual(before);
  });

  it('search over HTTP pages through next links', async () => {
    for (let i = 0; i < 5; i++) {
      await fetch(api('Patient'), {
        method: 'POST',
        headers: { ...auth, ...fhir },
        body: JSON.stringify(patient('Pager', { identifier: [{ system: 'urn:pager', value: String(i) }] })),
      });
    }
    let url: string | undefined = api('Patient?identifier=urn:pager|&_count=2');
    const ids: string[] = [];
    for (let i = 0; url && i < 10; i++) {
      const res: Response = await fetch(url, { headers: auth });
      expect(res.status).toBe(200);
      const bundle: any = await res.json();
      ids.push(...(bundle.entry ?? []).map((e: any) => e.resource.id));
      url = bundle.link?.find((l: any) => l.relation === 'next')?.url;
      if (url) expect(url.startsWith(`${server.url}/fhir/R4/`)).toBe(true);
    }
    expect(new Set(ids).size).toBe(5);
  });
});

describe('browser mode with the renderer', () => {
  it('serves the built renderer without the token, and the API still with it only', async () => {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tempDir } = await import('./helpers.ts');
    const dist = tempDir('outpost-renderer-');
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>Outpost</title><script src="/assets/app.js"></script>');
    writeFileSync(join(dist, 'assets', 'app.js'), 'console.log("outpost")');
    const ui = await startHttpServer(host, { port: 0, token: 'ui-test-token', rendererDir: dist });
    try {
      const index = await fetch(`${ui.url}/`);
      expect(index.status).toBe(200);
      expect(index.headers.get('content-type')).toMatch(/^text\/html/);
      expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await index.text()).toContain('<title>Outpost</title>');
      const route = await fetch(`${ui.url}/patients/123`);
      expect(await route.text()).toContain('<title>Outpost</title>');
      const js = await fetch(`${ui.url}/assets/app.js`);
      expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect((await fetch(`${ui.url}/assets/missing.js`)).status).toBe(404);
      expect((await fetch(`${ui.url}/fhir/R4/metadata`)).status).toBe(401);
      expect((await fetch(`${ui.url}/fhir/R4/metadata`, { headers: { authorization: 'Bearer ui-test-token' } })).status).toBe(200);
      expect((await fetch(`${ui.url}/`, { headers: { origin: 'http://evil.example' } })).status).toBe(403);
    } finally {
      await ui.close();
    }
  });
});
