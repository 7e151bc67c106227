// The demo clinic (`npm start -- --demo`) on a real, encrypted SQLite file, reached as a client reaches
// it: over loopback HTTP (the browser-mode adapter), each demo person signed in through Medplum's
// login flow. Tests that attack the door as a clinic's own people would start here.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHost, type Host } from '../../electron/host/host.ts';
import { startHttpServer, type HttpServer } from '../../electron/host/http.ts';
import { DEMO_PASSWORD, seedDemo, type DemoSeedResult } from '../../electron/host/seed/index.ts';
import { loginThroughDoor } from './door-login.ts';

export type DemoRole = 'admin' | 'chen' | 'chenPatient' | 'nurse' | 'robert' | 'researcher';

/** Who signs in for each role, and which membership they pick (text of its profile reference). */
export const DEMO_ROLE_LOGINS: Record<DemoRole, { email: string; membership?: string }> = {
  admin: { email: 'admin@demo.outpost' },
  chen: { email: 'sarah.chen@demo.outpost', membership: 'Practitioner/' },
  chenPatient: { email: 'sarah.chen@demo.outpost', membership: 'Patient/' },
  nurse: { email: 'jennifer.williams@demo.outpost' },
  robert: { email: 'robert.johnson@demo.outpost' },
  researcher: { email: 'researcher@demo.outpost' },
};

export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  body: any;
  /** The body as received (for looking for bytes that must not be there). */
  text: string;
}

export interface DemoDoor {
  host: Host;
  server: HttpServer;
  dataDir: string;
  ids: NonNullable<DemoSeedResult['ids']>;
  tokens: Record<DemoRole, string>;
  /** One request over HTTP as `who` (a role's session, a raw token, or no one). */
  call(who: DemoRole | { token: string } | undefined, method: string, urlPath: string, body?: unknown, headers?: Record<string, string>): Promise<HttpReply>;
  close(): Promise<void>;
}

export async function signIn(host: Host, role: DemoRole): Promise<string> {
  const { email, membership } = DEMO_ROLE_LOGINS[role];
  return loginThroughDoor(host, email, DEMO_PASSWORD, (choices) => choices.find((m) => !membership || m.profile.reference.includes(membership))?.id);
}

/** Seeds the demo clinic in a fresh data folder, serves it on 127.0.0.1 and signs every role in. */
export async function openDemoDoor(options: { roles?: DemoRole[] } = {}): Promise<DemoDoor> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'outpost-demo-door-'));
  const host = createHost({ dataDir, key: 'demo-door-test-key' });
  const seeded = await seedDemo(host);
  const server = await startHttpServer(host, { requireToken: false });
  const tokens = {} as Record<DemoRole, string>;
  for (const role of options.roles ?? (Object.keys(DEMO_ROLE_LOGINS) as DemoRole[])) {
    tokens[role] = await signIn(host, role);
  }

  async function call(who: DemoRole | { token: string } | undefined, method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpReply> {
    const token = who === undefined ? undefined : typeof who === 'string' ? tokens[who] : who.token;
    const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const res = await fetch(`${server.url}${urlPath.startsWith('/') ? urlPath : `/fhir/R4/${urlPath}`}`, {
      method,
      headers: {
        ...(text !== undefined ? { 'content-type': 'application/fhir+json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: text,
    });
    const raw = await res.text();
    let parsed: unknown;
    try {
      parsed = raw ? JSON.parse(raw) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: Object.fromEntries(res.headers.entries()), body: parsed, text: raw };
  }

  return {
    host,
    server,
    dataDir,
    ids: seeded.ids!,
    tokens,
    call,
    async close() {
      await server.close();
      host.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
