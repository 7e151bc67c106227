// Browser mode as `npm start -- --demo` runs it without Electron (`outpost serve --demo`, from the
// sources), seen from the network: it listens on 127.0.0.1 only, the API refuses requests without a
// valid session (401) and answers with one (Medplum's login flow over HTTP), every answer carries the
// CSP and nosniff, other origins and other Host names are refused, and the renderer's index.html is
// served for the app's routes.
import { readFileSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost } from '../../electron/host/host.ts';
import { readOrCreateDatabaseKey } from '../../electron/host/paths.ts';
import { repoRoot } from '../helpers/fixtures.ts';
import { pkceChallenge } from '../../electron/host/auth/tokens.ts';
import { startServe, type ServeProcess } from './serve-process.ts';

const DEMO_ADMIN = 'admin@demo.outpost';
const DEMO_PASSWORD = 'outpost-demo-1';
const INDEX_HTML = '<!doctype html><html><head><script type="module" src="./assets/app-1a2b.js"></script></head><body><div id="root"></div></body></html>\n';

let serve: ServeProcess;
let rendererDir: string;
/** Headers of a signed-in demo administrator. */
let session: Record<string, string>;

const VERIFIER = 'browser-mode-test-verifier-0123456789abcdefghijklmnop';

/** Medplum's login flow over HTTP: POST /auth/login (PKCE), then /oauth2/token; returns the access token. */
async function signIn(origin: string, email: string, password: string): Promise<string> {
  const login = await fetch(`${origin}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password, codeChallenge: pkceChallenge(VERIFIER, 'S256'), codeChallengeMethod: 'S256' }),
  });
  const started = (await login.json()) as { code?: string };
  if (login.status !== 200 || !started.code) {
    throw new Error(`login ${login.status}: ${JSON.stringify(started)}`);
  }
  const token = await fetch(`${origin}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: started.code, code_verifier: VERIFIER }).toString(),
  });
  const body = (await token.json()) as { access_token?: string };
  if (token.status !== 200 || !body.access_token) {
    throw new Error(`token ${token.status}: ${JSON.stringify(body)}`);
  }
  return body.access_token;
}

beforeAll(async () => {
  // A stand-in for dist/renderer, so this file never depends on (or races with) `npm run build`.
  rendererDir = mkdtempSync(path.join(tmpdir(), 'outpost-renderer-'));
  mkdirSync(path.join(rendererDir, 'assets'));
  writeFileSync(path.join(rendererDir, 'index.html'), INDEX_HTML);
  writeFileSync(path.join(rendererDir, 'assets', 'app-1a2b.js'), 'document.getElementById("root").textContent = "Outpost";\n');
  serve = await startServe(path.join(repoRoot, 'bin', 'outpost.mjs'), { OUTPOST_RENDERER_DIR: rendererDir }, ['--demo']);
  session = { authorization: `Bearer ${await signIn(serve.origin, DEMO_ADMIN, DEMO_PASSWORD)}` };
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  rmSync(rendererDir, { recursive: true, force: true });
});

/** Whether a TCP connection to host:port is refused (true) or accepted (false). */
function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.setTimeout(5_000, () => {
      socket.destroy();
      reject(new Error(`no answer from ${host}:${port}`));
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNREFUSED' ? resolve(true) : reject(err)));
  });
}

/** The local addresses of the TCP sockets listening on `port` (Linux: /proc/net/tcp and tcp6, hex as the kernel writes them). */
function listeningAddresses(port: number): string[] {
  const out: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue; // no IPv6 on this machine
    }
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      const [address, portHex] = (local ?? '').split(':');
      if (state === '0A' && portHex && parseInt(portHex, 16) === port) {
        out.push(address);
      }
    }
  }
  return out;
}

/** A raw GET with headers fetch() would not let us set (Host) or a path it would normalise. */
function rawGet(rawPath: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: serve.port, path: rawPath, method: 'GET', headers }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.once('error', reject);
    req.end();
  });
}

describe('browser mode listens on loopback only', () => {
  it('prints a 127.0.0.1 URL and its listening socket is bound to 127.0.0.1 alone', () => {
    expect(serve.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    if (process.platform === 'linux') {
      // 0100007F is 127.0.0.1 in the kernel's byte order; a wildcard bind would show 00000000 (or :: in tcp6).
      expect(listeningAddresses(serve.port)).toEqual(['0100007F']);
    }
  });

  it("refuses connections on the machine's other addresses", async () => {
    // Every address of every interface. Loopback ones (and 127.0.0.2, outside 127.0.0.1 yet on lo) are
    // dialled. Addresses on real networks are not dialled (this workplace sends no traffic to them): for
    // those the kernel's socket table above shows nothing listens on them or on a wildcard for this port.
    const addresses = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a !== undefined);
    expect(addresses.some((a) => a.address === '127.0.0.1')).toBe(true);
    const dialled = ['127.0.0.2', ...addresses.filter((a) => a.internal && a.address !== '127.0.0.1').map((a) => a.address)];
    for (const address of dialled) {
      expect(await refused(address, serve.port), address).toBe(true);
    }
    expect(await refused('127.0.0.1', serve.port)).toBe(false);
    const external = addresses.filter((a) => !a.internal).map((a) => a.address);
    if (process.platform === 'linux') {
      expect(listeningAddresses(serve.port), `not listening on ${external.join(', ') || 'any other address'}`).toEqual(['0100007F']);
    }
  });
});

describe('the API needs a valid session', () => {
  it('refuses requests without one, or with a forged or foreign token, with a 401 OperationOutcome', async () => {
    const forged = session.authorization.slice(0, -2) + (session.authorization.endsWith('AA') ? 'BB' : 'AA');
    const attempts: Record<string, string>[] = [{}, { authorization: forged }, { authorization: 'Bearer not-a-token' }, { authorization: 'Basic YWRtaW46YWRtaW4=' }];
    for (const headers of attempts) {
      const res = await fetch(`${serve.origin}/fhir/R4/Patient`, { headers });
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(((await res.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
    }
  });

  it('answers with a session from the login flow', async () => {
    const res = await fetch(`${serve.origin}/fhir/R4/Patient?_count=5`, { headers: session });
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as { resourceType: string; entry?: unknown[] };
    expect(bundle.resourceType).toBe('Bundle');
    expect(bundle.entry?.length).toBeGreaterThan(0);
  });

  it('a write without credentials stores nothing', async () => {
    const res = await fetch(`${serve.origin}/fhir/R4/Patient`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Intruder' }] }),
    });
    expect(res.status).toBe(401);
    // Checked in the data folder itself once serve has stopped (see the last test).
  });
});

describe('headers and origins', () => {
  it('sends the CSP and X-Content-Type-Options: nosniff on API answers, errors included, and on the app', async () => {
    const answers = [
      await fetch(`${serve.origin}/fhir/R4/metadata`, { headers: session }),
      await fetch(`${serve.origin}/fhir/R4/Patient`),
      await fetch(`${serve.origin}/`),
      await fetch(`${serve.origin}/assets/app-1a2b.js`),
      await fetch(`${serve.origin}/assets/missing.js`),
    ];
    for (const res of answers) {
      expect(res.headers.get('x-content-type-options'), res.url).toBe('nosniff');
      expect(res.headers.get('content-security-policy'), res.url).toMatch(/default-src 'none'/);
      expect(res.headers.get('content-security-policy'), res.url).toMatch(/frame-ancestors 'none'/);
      await res.arrayBuffer();
    }
    expect(answers[2].headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(answers[2].headers.get('content-security-policy')).not.toMatch(/unsafe-(inline|eval)/);
  });

  it('refuses a request from another origin with 403, even with valid credentials', async () => {
    for (const origin of ['http://evil.example', 'http://127.0.0.1:1', 'null']) {
      const res = await fetch(`${serve.origin}/fhir/R4/metadata`, { headers: { ...session, origin } });
      expect(res.status, origin).toBe(403);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
    const write = await fetch(`${serve.origin}/fhir/R4/Patient`, {
      method: 'POST',
      headers: { ...session, origin: 'http://evil.example', 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'CrossOrigin' }] }),
    });
    expect(write.status).toBe(403);
    const same = await fetch(`${serve.origin}/fhir/R4/metadata`, { headers: { ...session, origin: serve.origin } });
    expect(same.status).toBe(200);
  });

  it('refuses another Host name (DNS rebinding) with 400', async () => {
    expect((await rawGet('/fhir/R4/metadata', { ...session, host: `evil.example:${serve.port}` })).status).toBe(400);
    expect((await rawGet('/', { host: `evil.example:${serve.port}` })).status).toBe(400);
    expect((await rawGet('/fhir/R4/metadata', { ...session, host: `localhost:${serve.port}` })).status).toBe(200);
  });
});

describe("the renderer's files", () => {
  it("serves index.html at / and for the app's client-side routes, without credentials", async () => {
    // The app routes by hash (#/patients/123): any other path without an extension is the app too.
    for (const route of ['/', '/index.html', '/#/patients/123', '/patients']) {
      const res = await fetch(`${serve.origin}${route}`);
      expect(res.status, route).toBe(200);
      expect(res.headers.get('content-type'), route).toMatch(/^text\/html/);
      expect(await res.text(), route).toBe(INDEX_HTML);
    }
    const script = await fetch(`${serve.origin}/assets/app-1a2b.js`);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
  });

  it('serves nothing outside the renderer folder', async () => {
    for (const raw of ['/../package.json', '/%2e%2e/package.json', '/assets/..%2f..%2fpackage.json', '/..%5cpackage.json']) {
      expect((await rawGet(raw, {})).status, raw).toBe(404);
    }
  });
});

describe('after serve stops', () => {
  it('exits 0 on SIGTERM, and the refused writes stored nothing', async () => {
    const dataDir = serve.dataDir;
    expect(await serve.stop({ keepData: true })).toBe(0);
    const host = createHost({ dataDir, key: readOrCreateDatabaseKey(dataDir) });
    try {
      const count = host.rawStore.db.prepare("SELECT count(*) AS n FROM resource WHERE type = 'Patient' AND (content LIKE '%Intruder%' OR content LIKE '%CrossOrigin%')").get() as { n: number };
      expect(count.n).toBe(0);
    } finally {
      host.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
