// A field workstation bootstrapped from a real Medplum tenant: `outpost sync --tenant` on an empty
// folder brings the tenant's own resources (not Medplum's shared base project and definitions) and
// keeps the remote; its members sign in online once (a server-scoped member whose User a project admin
// cannot read, and a project-scoped one), then offline with the server stopped.
import { Writable } from 'node:stream';
import type { Observation, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../electron/host/cli/main.ts';
import { createHost, type Host } from '../../electron/host/host.ts';
import { readOrCreateDatabaseKey } from '../../electron/host/paths.ts';
import { DEFAULT_PROJECT_ID } from '../../electron/host/db/project.ts';
import { door } from '../admin/helpers.ts';
import { tempDir } from '../host/helpers.ts';
import { freshTenant, kitEnv, startKit, stopKit, type Tenant } from './kit.ts';

let tenant: Tenant;
let host: Host | undefined;
let stopped = false;

beforeAll(async () => {
  tenant = await freshTenant(kitEnv(), 'tenant');
  const patients = Array.from({ length: 20 }, (_, i): Patient => ({ resourceType: 'Patient', id: `urn:uuid:${crypto.randomUUID()}`, name: [{ given: ['Field'], family: `Patient${i}` }] }));
  const observations = patients.flatMap((p, i) =>
    [0, 1].map((k): Observation => ({ resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: p.id }, valueQuantity: { value: 60 + i + k, unit: 'kg' } })),
  );
  await tenant.seed([...patients, ...observations]);
});
afterAll(() => {
  host?.close();
  if (stopped) startKit(tenant.env);
});

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (write: (s: string) => void) => new Writable({ write: (chunk, _enc, cb) => (write(String(chunk)), cb()) }) as unknown as NodeJS.WriteStream;
  const code = await main(args, { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)) });
  return { code, stdout, stderr };
}

const count = (h: Host, type: string) => h.rawStore.db.prepare<[string], number>('SELECT count(*) FROM resource WHERE type = ? AND deleted = 0').pluck().get(type);

describe('tenant bootstrap from Medplum, then sign-ins online once and offline', () => {
  it('bootstraps the tenant\'s own resources and keeps the remote; its members sign in online, then offline with the server stopped', async () => {
    const dataDir = tempDir('outpost-medplum-tenant-');
    const run = await cli(['sync', '--data', dataDir, '--remote', tenant.env.fhirUrl, '--client-id', tenant.clientId, '--client-secret', tenant.clientSecret, '--tenant', '--pull-only', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ errors: [], held: 0 });

    host = createHost({ dataDir, key: readOrCreateDatabaseKey(dataDir) });
    const d = door(host);
    // The tenant, mapped to the local project; nothing of the base project and its 4,000 definitions.
    expect(host.rawStore.db.prepare("SELECT id FROM resource WHERE type = 'Project'").pluck().all()).toEqual([DEFAULT_PROJECT_ID]);
    for (const type of ['SearchParameter', 'StructureDefinition', 'ValueSet', 'CodeSystem']) expect(count(host, type)).toBe(0);
    expect(count(host, 'Patient')).toBe(20);
    expect(count(host, 'Observation')).toBe(40);
    // Memberships: the project's default client (Medplum makes one with each project), the sync client,
    // the super admin (owner) and the two members.
    expect(count(host, 'ProjectMembership')).toBe(5);
    expect(summary.pulled).toBe(host.rawStore.db.prepare('SELECT count(*) FROM resource WHERE deleted = 0 AND type <> ?').pluck().get('AuditEvent'));
    expect(host.sync.config.get(DEFAULT_PROJECT_ID)).toMatchObject({ baseUrl: tenant.env.fhirUrl, auth: 'client-credentials', clientId: tenant.clientId });

    const server = tenant.members.find((m) => m.scope === 'server')!;
    const project = tenant.members.find((m) => m.scope === 'project')!;
    // A project admin cannot read a server-scoped User: only the project-scoped one came.
    expect(host.rawStore.db.prepare("SELECT id FROM resource WHERE type = 'User'").pluck().all()).toEqual([project.userId]);

    // First sign-ins, online: the server checks the passwords.
    await expect(d.login(server.email, 'not-the-password')).rejects.toThrow(/login 400/);
    for (const member of [server, project]) {
      const token = await d.login(member.email, member.password);
      const me = (await d.call(token, 'GET', '/auth/me')).body;
      expect(me.membership.id).toBe(member.membershipId);
      expect(me.user).toMatchObject({ id: member.userId, email: member.email });
      expect(`${me.profile.resourceType}/${me.profile.id}`).toBe(member.profile);
      // What they see here is the tenant's data.
      expect((await d.call(token, 'GET', '/fhir/R4/Patient?_count=100')).body.entry).toHaveLength(20);
    }
    const server_ = JSON.parse(host.rawStore.db.prepare("SELECT content FROM resource WHERE type = 'User' AND id = ?").pluck().get(server.userId) as string);
    expect(server_).toMatchObject({ email: server.email, firstName: server.firstName, lastName: server.lastName, passwordHash: expect.stringMatching(/^\$2/) });

    // The server goes away: the workstation keeps working, people still sign in.
    stopKit(tenant.env);
    stopped = true;
    for (const member of [server, project]) {
      const token = await d.login(member.email, member.password);
      expect((await d.call(token, 'GET', '/auth/me')).body.membership.id).toBe(member.membershipId);
    }
    await expect(d.login(project.email, 'wrong-password-1')).rejects.toThrow(/login 400/);
    const offline = (await host.sync.runner.run({ project: DEFAULT_PROJECT_ID })) as { errors: string[] };
    expect(offline.errors).toEqual([expect.stringMatching(/Cannot reach the remote/)]);
    startKit(tenant.env);
    stopped = false;
    // Back online: a normal sync goes through.
    expect(await host.sync.runner.run({ project: DEFAULT_PROJECT_ID })).toMatchObject({ errors: [], pushed: 0 });
  });
});
