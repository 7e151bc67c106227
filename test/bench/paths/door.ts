// The doors of `npm run bench -- paths`: a host as the app opens one, a clinic administrator signed in
// through Medplum's login flow, and the two transports a person's requests take (loopback HTTP in
// browser mode, the IPC request handler of the desktop app). Every request here is a session's:
// checked by the enforcement point and audited, as in use.
import { request as httpRequest } from 'node:http';
import type { Practitioner, ProjectMembership, User } from '@medplum/fhirtypes';
import type { HostRequest, HostResponse } from '../../../shared/contract/host.ts';
import { hashPassword } from '../../../electron/host/auth/passwords.ts';
import { pkceChallenge } from '../../../electron/host/auth/tokens.ts';
import { DEFAULT_PROJECT_ID } from '../../../electron/host/db/project.ts';
import { createHost, type Host } from '../../../electron/host/host.ts';
import { startHttpServer, type HttpServer } from '../../../electron/host/http.ts';
import { APP_ENTRY_URL } from '../../../electron/shell/app-protocol.ts';
import { createIpcRequestHandler } from '../../../electron/shell/ipc-request.ts';

export const ADMIN_EMAIL = 'bench-admin@example.org';
const PASSWORD = 'bench-password-1';
const VERIFIER = 'bench-verifier-0123456789-abcdefghijklmnopqrstuvwxyz';
const DAY_MS = 24 * 60 * 60_000;

/** A host on `dataDir` as the app opens one (audit on unless asked otherwise); sessions last the run. */
export function openHost(dataDir: string, key: string, audit = true): Host {
  return createHost({ dataDir, key, audit, authOptions: { idleLockMs: DAY_MS, sessionTtlMs: DAY_MS, accessTokenTtlMs: DAY_MS } });
}

/** A clinic administrator (project admin, no AccessPolicy: the whole project), seeded around every policy. */
export async function seedAdmin(host: Host): Promise<void> {
  const ctx = { project: DEFAULT_PROJECT_ID };
  const user = host.rawStore.create<User>({ resourceType: 'User', email: ADMIN_EMAIL, firstName: 'Bench', lastName: 'Admin', passwordHash: await hashPassword(PASSWORD) }, undefined, ctx).resource;
  const profile = host.rawStore.create<Practitioner>({ resourceType: 'Practitioner', name: [{ family: 'Admin', given: ['Bench'] }] }, undefined, ctx).resource;
  host.rawStore.create<ProjectMembership>(
    {
      resourceType: 'ProjectMembership',
      project: { reference: `Project/${DEFAULT_PROJECT_ID}` },
      user: { reference: `User/${user.id}` },
      profile: { reference: `Practitioner/${profile.id}` },
      admin: true,
    },
    undefined,
    ctx,
  );
}

async function post(host: Host, path: string, body: string, contentType = 'application/json'): Promise<HostResponse> {
  return host.handle({ method: 'POST', path, headers: { 'content-type': contentType }, body });
}

/** Medplum's login flow (PKCE) through the host's door; returns the access token. */
export async function signIn(host: Host): Promise<string> {
  const started = await post(host, '/auth/login', JSON.stringify({ email: ADMIN_EMAIL, password: PASSWORD, codeChallenge: pkceChallenge(VERIFIER, 'S256'), codeChallengeMethod: 'S256' }));
  const code = (started.body as { code?: string }).code;
  if (!code) {
    throw new Error(`bench sign-in failed: ${started.status} ${JSON.stringify(started.body)}`);
  }
  const token = await post(host, '/oauth2/token', new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: VERIFIER }).toString(), 'application/x-www-form-urlencoded');
  return (token.body as { access_token: string }).access_token;
}

export interface DoorAnswer {
  status: number;
  /** The body as the client reads it (parsed JSON). */
  body: unknown;
}

/** One transport to a host: `send` answers a request as the app's client would receive it. */
export interface Door {
  name: string;
  send(method: HostRequest['method'], path: string, body?: string): Promise<DoorAnswer>;
  close(): Promise<void>;
}

/**
 * Browser mode's door: loopback HTTP to the host's adapter (node:http, keep-alive), the body read and
 * parsed as a browser's fetch().json() would.
 */
export async function httpDoor(host: Host, token: string): Promise<Door> {
  const server: HttpServer = await startHttpServer(host, { requireToken: false });
  const { Agent } = await import('node:http');
  // Keep-alive as a browser does; a connection idle for long (the other paths ran meanwhile) is not
  // reused, since the server closes idle ones after 5 s and a request racing that close is reset.
  let agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let lastUse = 0;
  return {
    name: 'HTTP',
    send(method, path, body) {
      if (performance.now() - lastUse > 1_000) {
        agent.destroy();
        agent = new Agent({ keepAlive: true, maxSockets: 1 });
      }
      return new Promise((resolve, reject) => {
        const headers: Record<string, string | number> = { authorization: `Bearer ${token}`, accept: 'application/fhir+json' };
        if (body !== undefined) {
          headers['content-type'] = 'application/fhir+json';
          headers['content-length'] = Buffer.byteLength(body);
        }
        const req = httpRequest(`${server.url}${path}`, { method, headers, agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            lastUse = performance.now();
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
          });
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      });
    },
    async close() {
      agent.destroy();
      await server.close();
    },
  };
}

/**
 * The desktop app's door: the main process's IPC request handler (envelope checks, host.handle, the
 * plain copy of the answer that crosses to the renderer), called as Electron's ipcMain.handle calls it.
 */
export function ipcDoor(host: Host, token: string): Door {
  const handle = createIpcRequestHandler(() => host);
  return {
    name: 'IPC',
    async send(method, path, body) {
      const envelope = { method, path, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/fhir+json' } : {}) }, ...(body !== undefined ? { body } : {}) };
      const answer = await handle({ senderUrl: APP_ENTRY_URL }, envelope);
      return { status: answer.status, body: answer.body };
    },
    close: async () => undefined,
  };
}
