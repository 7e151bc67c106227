// The real Medplum server of `npm run test:medplum` (../shared/medplum-server, started by
// bin/test-medplum.mjs or named by OUTPOST_MEDPLUM_ENV): its env.json, Medplum's login flow, and a
// fresh tenant per test file made through Medplum's own API as the seeded super admin (a project, an
// admin ClientApplication for sync, a server-scoped and a project-scoped member), so files never share
// a project or a quota. Data is seeded and checked by the super admin signed in to the Super Admin
// project: Medplum does not meter it there and lets it write `meta.project`, so the tenant's client
// quota is left to the workstation. (Signed in to the tenant itself, the super admin is a metered
// project admin like any other.)
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Bundle, Resource } from '@medplum/fhirtypes';

export interface KitEnv {
  baseUrl: string;
  fhirUrl: string;
  tokenUrl: string;
  medplumVersion: string;
  superAdmin: { email: string; password: string; projectId: string };
  work: string;
}

export const KIT_DIR = process.env.OUTPOST_MEDPLUM_KIT ?? path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'medplum-server');

async function healthy(envFile: string): Promise<boolean> {
  try {
    const env = JSON.parse(readFileSync(envFile, 'utf8')) as { healthcheck: string };
    return (await fetch(env.healthcheck, { signal: AbortSignal.timeout(5_000) })).ok;
  } catch {
    return false;
  }
}

export interface RunningKit {
  /** The env.json of the running server. */
  envFile: string;
  /** Stops the kit when this call started it (a server someone else runs is left alone). */
  release(): void;
}

/**
 * A running Medplum server: the one OUTPOST_MEDPLUM_ENV names (it must answer), else the kit beside
 * the checkout, started when it is not running (its first start installs what it needs: minutes).
 */
export async function ensureKit(log: (message: string) => void = () => undefined): Promise<RunningKit> {
  const named = process.env.OUTPOST_MEDPLUM_ENV;
  if (named) {
    if (!(await healthy(named))) throw new Error(`OUTPOST_MEDPLUM_ENV=${named} names no running server (its healthcheck does not answer)`);
    return { envFile: named, release: () => undefined };
  }
  if (!existsSync(path.join(KIT_DIR, 'start.sh'))) {
    throw new Error(`No Medplum kit at ${KIT_DIR}: set OUTPOST_MEDPLUM_KIT, or OUTPOST_MEDPLUM_ENV to a running server's env.json`);
  }
  const work = process.env.MEDPLUM_WORK ?? path.join(process.env.TMPDIR ?? tmpdir(), 'outpost-medplum');
  const wasRunning = await healthy(path.join(work, 'env.json'));
  log(wasRunning ? `using the running Medplum kit in ${work}` : `starting the Medplum kit (${KIT_DIR}); its first start takes minutes`);
  const started = Date.now();
  const out = execFileSync(path.join(KIT_DIR, 'start.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const envFile = out.trim().split('\n').pop() as string;
  if (!wasRunning) log(`Medplum kit up in ${Math.round((Date.now() - started) / 1000)} s`);
  return {
    envFile,
    release() {
      if (wasRunning) return;
      log('stopping the Medplum kit (it was not running before)');
      execFileSync(path.join(KIT_DIR, 'stop.sh'), { stdio: 'inherit', env: { ...process.env, MEDPLUM_WORK: work } });
    },
  };
}

export function kitEnv(): KitEnv {
  const file = process.env.OUTPOST_MEDPLUM_ENV;
  if (!file) {
    throw new Error('OUTPOST_MEDPLUM_ENV is not set: run these tests with `npm run test:medplum`');
  }
  return JSON.parse(readFileSync(file, 'utf8')) as KitEnv;
}

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export async function http<T = any>(env: KitEnv, method: string, url: string, options: { json?: unknown; form?: Record<string, string>; token?: string; headers?: Record<string, string> } = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = { accept: 'application/fhir+json, application/json', ...options.headers };
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/fhir+json';
    body = JSON.stringify(options.json);
  } else if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  }
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const res = await fetch(new URL(url, env.baseUrl), { method, headers, body, signal: AbortSignal.timeout(120_000) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

function expectOk<T>(reply: Reply<T>, what: string): T {
  if (reply.status >= 300) throw new Error(`${what}: HTTP ${reply.status} ${JSON.stringify(reply.body).slice(0, 500)}`);
  return reply.body;
}

/** Medplum's password login: /auth/login (-> /auth/newproject | /auth/profile) -> /oauth2/token. Returns the access token. */
export async function passwordLogin(env: KitEnv, email: string, password: string, options: { projectId?: string; newProjectName?: string } = {}): Promise<{ token: string; project: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  let d = expectOk(
    await http(env, 'POST', 'auth/login', {
      json: { email, password, projectId: options.newProjectName ? 'new' : options.projectId, scope: 'openid', codeChallenge: challenge, codeChallengeMethod: 'S256' },
    }),
    `login of ${email}`,
  );
  if (options.newProjectName) {
    d = expectOk(await http(env, 'POST', 'auth/newproject', { json: { login: d.login, projectName: options.newProjectName } }), 'new project');
  } else if (!d.code) {
    const m = (d.memberships as { id: string; project?: { reference?: string } }[]).find((x) => x.project?.reference === `Project/${options.projectId}`);
    if (!m) throw new Error(`login of ${email}: no membership in Project/${options.projectId}`);
    d = expectOk(await http(env, 'POST', 'auth/profile', { json: { login: d.login, profile: m.id } }), 'profile');
  }
  const t = expectOk(await http(env, 'POST', 'oauth2/token', { form: { grant_type: 'authorization_code', code: d.code, code_verifier: verifier } }), 'token');
  return { token: t.access_token as string, project: (t.project?.reference as string).split('/')[1] };
}

export interface Member {
  email: string;
  password: string;
  scope: 'project' | 'server';
  firstName: string;
  lastName: string;
  membershipId: string;
  userId: string;
  profile: string;
}

export interface Tenant {
  env: KitEnv;
  projectId: string;
  clientId: string;
  clientSecret: string;
  clientMembershipId: string;
  members: Member[];
  /** The super admin's token as an admin of this project (metered: keep it to administration). */
  adminToken: string;
  /** A client-credentials token of the sync client (metered like the workstation's). */
  clientToken(): Promise<string>;
  /** FHIR or admin-API request as an admin of the project. */
  admin<T = any>(method: string, url: string, json?: unknown, headers?: Record<string, string>): Promise<Reply<T>>;
  /** Stores resources on the tenant (as the unmetered super admin, in transaction Bundles of 500). */
  seed(resources: Resource[]): Promise<Resource[]>;
  /** FHIR request as the unmetered super admin (searches need `_project` to stay in the tenant). */
  superAdmin<T = any>(method: string, url: string, json?: unknown): Promise<Reply<T>>;
  /** Every resource of a type in the tenant (as the unmetered super admin). */
  list<T extends Resource>(type: string, query?: string): Promise<T[]>;
  /** Sets Project.systemSetting (quota knobs: userFhirQuota, totalFhirQuota, enableFhirQuota), as the super admin. */
  setSystemSettings(settings: { name: string; valueInteger?: number; valueBoolean?: boolean }[]): Promise<void>;
}

/** A new project with an admin sync client and two members (one server-scoped, one project-scoped). */
export async function freshTenant(env: KitEnv, label: string): Promise<Tenant> {
  const suffix = randomUUID().slice(0, 8);
  const name = `Outpost ${label} ${suffix}`;
  const created = await passwordLogin(env, env.superAdmin.email, env.superAdmin.password, { newProjectName: name });
  const projectId = created.project;
  const adminToken = created.token;
  const superToken = (await passwordLogin(env, env.superAdmin.email, env.superAdmin.password, { projectId: env.superAdmin.projectId })).token;
  const superAdmin = <T = any>(method: string, url: string, json?: unknown) => http<T>(env, method, `fhir/R4/${url}`, { json, token: superToken });
  const admin = <T = any>(method: string, url: string, json?: unknown, headers?: Record<string, string>) =>
    http<T>(env, method, url.startsWith('admin/') || url.startsWith('auth/') ? url : `fhir/R4/${url}`, { json, token: adminToken, headers });
  const client = expectOk(await admin('POST', `admin/projects/${projectId}/client`, { name: `${name} sync`, description: 'Outpost sync client (test:medplum)' }), 'client');
  const clientMembership = expectOk(await admin<Bundle>('GET', `ProjectMembership?profile=ClientApplication/${client.id}`), 'client membership').entry?.[0]?.resource as Resource & { id: string };
  expectOk(await admin('POST', `admin/projects/${projectId}/members/${clientMembership.id}`, { ...clientMembership, admin: true }), 'client admin');
  const members: Member[] = [];
  for (const scope of ['server', 'project'] as const) {
    const person = { firstName: scope === 'server' ? 'Sam' : 'Petra', lastName: `${scope === 'server' ? 'Server' : 'Project'}${suffix}` };
    const email = `${scope}-${suffix}@outpost-test.example.com`;
    const password = `outpost-${scope}-${suffix}-pw`;
    const m = expectOk(
      await admin('POST', `admin/projects/${projectId}/invite`, { resourceType: 'Practitioner', ...person, email, password, sendEmail: false, ...(scope === 'project' ? { scope: 'project' } : {}) }),
      `invite ${email}`,
    );
    members.push({ email, password, scope, ...person, membershipId: m.id, userId: (m.user.reference as string).split('/')[1], profile: m.profile.reference });
  }
  const tenant: Tenant = {
    env,
    projectId,
    clientId: client.id,
    clientSecret: client.secret,
    clientMembershipId: clientMembership.id,
    members,
    adminToken,
    async clientToken() {
      const t = expectOk(await http(env, 'POST', 'oauth2/token', { form: { grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret } }), 'client token');
      return t.access_token as string;
    },
    admin,
    superAdmin,
    async seed(resources) {
      const out: Resource[] = [];
      for (let i = 0; i < resources.length; i += 500) {
        const chunk = resources.slice(i, i + 500);
        const entry = chunk.map((resource) => ({
          fullUrl: resource.id?.startsWith('urn:uuid:') ? resource.id : undefined,
          resource: { ...resource, id: undefined, meta: { ...resource.meta, project: projectId } },
          request: { method: 'POST', url: resource.resourceType },
        }));
        const bundle = expectOk(await superAdmin<Bundle>('POST', '', { resourceType: 'Bundle', type: 'transaction', entry }), 'seed');
        out.push(...(bundle.entry ?? []).map((e) => e.resource as Resource));
      }
      return out;
    },
    async list(type, query = '') {
      const out: Resource[] = [];
      let url: string | undefined = `${type}?_project=${projectId}&_count=1000&_sort=_lastUpdated${query ? `&${query}` : ''}`;
      while (url) {
        const page: Bundle = expectOk(await superAdmin<Bundle>('GET', url), `list ${type}`);
        out.push(...(page.entry ?? []).map((e) => e.resource as Resource));
        const next = page.link?.find((l) => l.relation === 'next')?.url;
        url = next ? next.slice(next.indexOf('/fhir/R4/') + '/fhir/R4/'.length) : undefined;
      }
      return out as never;
    },
    async setSystemSettings(settings) {
      // Only a super admin may: a project admin's PUT answers 200 but drops systemSetting.
      const project = expectOk(await superAdmin('GET', `Project/${projectId}`), 'project');
      expectOk(await superAdmin('PUT', `Project/${projectId}`, { ...project, systemSetting: settings }), 'project settings');
    },
  };
  return tenant;
}

/** Stops the kit's server (and its database): what a workstation sees when the network is gone. */
export function stopKit(env: KitEnv): void {
  execFileSync(path.join(KIT_DIR, 'stop.sh'), { env: { ...process.env, MEDPLUM_WORK: env.work }, stdio: 'ignore' });
}

/** Starts it again (~5 s with its data kept). */
export function startKit(env: KitEnv): void {
  execFileSync(path.join(KIT_DIR, 'start.sh'), { env: { ...process.env, MEDPLUM_WORK: env.work }, stdio: ['ignore', 'ignore', 'inherit'] });
}
