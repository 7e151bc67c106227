// The field-clinic story end to end against a Medplum-like remote (the router test server with Medplum's
// /auth/login, /oauth2/token and /auth/me): `outpost sync --tenant` bootstraps an empty data folder
// from the project of the sync credential's own membership (not the shared base project the remote
// also lists, nor its definitions) and keeps the remote; then the first sign-in of a server-scoped
// member (whose User the remote never lists) and of a project-scoped one (pulled without a password)
// goes through the remote, and later sign-ins work offline.
import { Writable } from 'node:stream';
import type { Patient, Practitioner, Project, ProjectMembership, Resource, SearchParameter, User } from '@medplum/fhirtypes';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../electron/host/cli/main.ts';
import { createHost, type Host } from '../../electron/host/host.ts';
import { readOrCreateDatabaseKey } from '../../electron/host/paths.ts';
import { DEFAULT_PROJECT_ID } from '../../electron/host/db/project.ts';
import { door } from '../admin/helpers.ts';
import { startPagingFhirServer, type PagingFhirServer } from '../helpers/fhir-paging.ts';
import { createMedplumAuth } from '../helpers/medplum-auth.ts';
import { tempDir } from '../host/helpers.ts';
import { clinic } from './runner-helpers.ts';

let server: PagingFhirServer | undefined;
let host: Host | undefined;
afterEach(async () => {
  host?.close();
  host = undefined;
  await server?.close();
  server = undefined;
});

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (write: (s: string) => void) => new Writable({ write: (chunk, _enc, cb) => (write(String(chunk)), cb()) }) as unknown as NodeJS.WriteStream;
  const code = await main(args, { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)) });
  return { code, stdout, stderr };
}

const TENANT = 'remote-proj';
const inTenant = <T extends Resource>(r: T): T => ({ ...r, meta: { project: TENANT } });
const PETRA = { email: 'petra@example.org', password: 'petra-remote-pw' };
const SAM = { email: 'sam@example.org', password: 'sam-remote-pw' };

function medplumLikeRemote() {
  return createMedplumAuth({
    users: [
      { ...PETRA, id: 'u-petra', membershipId: 'pm-petra', projectId: TENANT, scope: 'project' },
      { ...SAM, id: 'u-sam', membershipId: 'pm-sam', projectId: TENANT },
    ],
    clients: [{ id: 'sync-client', secret: 'sync-secret-1', membershipId: 'pm-client', projectId: TENANT }],
  });
}

function seedTenant(remote: PagingFhirServer): void {
  const project = { reference: `Project/${TENANT}` };
  remote.seed([
    // What a project admin's searches also return on Medplum: the linked base project and its definitions.
    { resourceType: 'Project', id: 'base-r4', name: 'FHIR R4', meta: { project: 'base-r4' } } as Project,
    { resourceType: 'SearchParameter', id: 'sp-1', url: 'http://example.org/sp', name: 'x', status: 'active', description: 'x', code: 'x', base: ['Patient'], type: 'token', expression: 'Patient.id', meta: { project: 'base-r4' } } as SearchParameter,
    inTenant({ resourceType: 'Project', id: TENANT, name: 'Clinic North' } as Project),
    // Petra is project-scoped (her User is listed); Sam is server-scoped (his User is not).
    inTenant({ resourceType: 'User', id: 'u-petra', firstName: 'Petra', lastName: 'Project', email: PETRA.email, project } as User),
    inTenant({ resourceType: 'Practitioner', id: 'pr-petra', name: [{ given: ['Petra'], family: 'Project' }] } as Practitioner),
    inTenant({ resourceType: 'Practitioner', id: 'pr-sam', name: [{ given: ['Sam'], family: 'Server' }] } as Practitioner),
    inTenant({ resourceType: 'ProjectMembership', id: 'pm-petra', project, user: { reference: 'User/u-petra', display: PETRA.email }, profile: { reference: 'Practitioner/pr-petra' } } as ProjectMembership),
    inTenant({ resourceType: 'ProjectMembership', id: 'pm-sam', project, user: { reference: 'User/u-sam', display: SAM.email }, profile: { reference: 'Practitioner/pr-sam' } } as ProjectMembership),
    inTenant({ resourceType: 'Patient', id: 'pat-1', name: [{ family: 'Field' }] } as Patient),
  ]);
}

describe('tenant bootstrap, then first sign-ins through the remote, then offline', () => {
  it('outpost sync --tenant maps the credential\'s project, keeps the remote; server- and project-scoped members sign in online once, then offline', async () => {
    const auth = medplumLikeRemote();
    server = await startPagingFhirServer(auth);
    seedTenant(server);
    const dataDir = tempDir('outpost-tenant-');
    const run = await cli(['sync', '--data', dataDir, '--remote', server.baseUrl, '--client-id', 'sync-client', '--client-secret', 'sync-secret-1', '--tenant', '--pull-only', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // The tenant's 7 resources; not the base project, not its definitions.
    expect(JSON.parse(run.stdout).pulled).toBe(7);

    host = createHost({ dataDir, key: readOrCreateDatabaseKey(dataDir) });
    const d = door(host);
    const db = host.rawStore.db;
    expect(db.prepare("SELECT id FROM resource WHERE type = 'Project'").pluck().all()).toEqual([DEFAULT_PROJECT_ID]);
    expect(db.prepare("SELECT count(*) FROM resource WHERE type = 'SearchParameter'").pluck().get()).toBe(0);
    expect(db.prepare("SELECT json_extract(content, '$.name') FROM resource WHERE type = 'Project'").pluck().get()).toBe('Clinic North');
    // The remote is kept, its secret sealed.
    expect(host.sync.config.get(DEFAULT_PROJECT_ID)).toMatchObject({ baseUrl: server.baseUrl, auth: 'client-credentials', clientId: 'sync-client' });
    const sealed = db.prepare('SELECT secret FROM sync_remote').pluck().get() as Buffer;
    expect(sealed.toString('utf8')).not.toContain('sync-secret-1');

    // Sam: no User here; his first sign-in asks the remote (with the remote project), which names his
    // membership; the local User is created, linked to the pulled membership.
    expect(db.prepare("SELECT count(*) FROM resource WHERE type = 'User' AND id = 'u-sam'").pluck().get()).toBe(0);
    auth.calls.length = 0;
    await expect(d.login(SAM.email, 'not-his-password')).rejects.toThrow(/login 400/);
    const samToken = await d.login(SAM.email, SAM.password);
    const samMe = (await d.call(samToken, 'GET', '/auth/me')).body;
    expect(samMe.user).toMatchObject({ id: 'u-sam', email: SAM.email });
    expect(samMe.membership.id).toBe('pm-sam');
    expect(samMe.profile).toMatchObject({ resourceType: 'Practitioner', id: 'pr-sam' });
    const samUser = JSON.parse(db.prepare("SELECT content FROM resource WHERE type = 'User' AND id = 'u-sam'").pluck().get() as string) as User;
    expect(samUser).toMatchObject({ email: SAM.email, firstName: 'Sam', lastName: 'Server', passwordHash: expect.stringMatching(/^\$2[aby]\$10\$/) });
    // Petra: pulled without a password; project-scoped on the remote, so the remote is asked with its project id.
    const petraToken = await d.login(PETRA.email, PETRA.password);
    expect((await d.call(petraToken, 'GET', '/auth/me')).body.membership.id).toBe('pm-petra');
    expect(auth.calls.filter((c) => c.path === '/auth/login').map((c) => c.status)).toEqual([400, 200, 200]);

    // A later pull brings Petra's User again (edited remotely): her local verifier stays.
    server.seed([inTenant({ resourceType: 'User', id: 'u-petra', firstName: 'Petra', lastName: 'Renamed', email: PETRA.email, project: { reference: `Project/${TENANT}` } } as User)]);
    const pull = await host.sync.runner.run({ pullOnly: true });
    expect(pull).toMatchObject({ errors: [] });
    expect(db.prepare("SELECT json_extract(content, '$.lastName') || ' ' || (json_extract(content, '$.passwordHash') IS NOT NULL) FROM resource WHERE type = 'User' AND id = 'u-petra'").pluck().get()).toBe('Renamed 1');

    // Offline: both sign in with the verifier kept here; wrong passwords stay wrong.
    await server.close();
    server = undefined;
    const before = auth.calls.length;
    expect(await d.login(SAM.email, SAM.password)).toEqual(expect.any(String));
    expect(await d.login(PETRA.email, PETRA.password)).toEqual(expect.any(String));
    await expect(d.login(SAM.email, 'wrong-password')).rejects.toThrow(/login 400/);
    expect(auth.calls.length).toBe(before);
  });

  it('no remote is asked about an email no pulled membership names, nor about a membership the remote did not name', async () => {
    const auth = medplumLikeRemote();
    server = await startPagingFhirServer(auth);
    seedTenant(server);
    const dataDir = tempDir('outpost-tenant-');
    expect((await cli(['sync', '--data', dataDir, '--remote', server.baseUrl, '--client-id', 'sync-client', '--client-secret', 'sync-secret-1', '--tenant', '--pull-only'])).code).toBe(0);
    host = createHost({ dataDir, key: readOrCreateDatabaseKey(dataDir) });
    const d = door(host);
    auth.calls.length = 0;
    await expect(d.login('stranger@example.org', 'whatever-pw')).rejects.toThrow(/login 400/);
    expect(auth.calls).toEqual([]);
    // Sam's pulled membership now names someone else: the remote's yes for Sam does not create a User.
    const pm = JSON.parse(host.rawStore.db.prepare("SELECT content FROM resource WHERE type = 'ProjectMembership' AND id = 'pm-sam'").pluck().get() as string) as ProjectMembership;
    host.rawStore.update<ProjectMembership>({ ...pm, user: { reference: 'User/u-other', display: SAM.email } }, undefined, { project: DEFAULT_PROJECT_ID });
    await expect(d.login(SAM.email, SAM.password)).rejects.toThrow(/login 400/);
    expect(auth.calls.map((c) => c.path)).toEqual(['/auth/login', '/oauth2/token', '/auth/me']);
    expect(host.rawStore.db.prepare("SELECT count(*) FROM resource WHERE type = 'User'").pluck().get()).toBe(1);
  });

  it("a workstation set up locally, then bootstrapped from the tenant: its owner's Practitioner stays local, the tenant gets nothing invented", async () => {
    const auth = medplumLikeRemote();
    server = await startPagingFhirServer(auth);
    seedTenant(server);
    const c = await clinic();
    host = c.host;
    await c.call(c.admin, 'PUT', '/outpost/sync/remote', { baseUrl: server.baseUrl, clientId: 'sync-client', clientSecret: 'sync-secret-1' });
    const tenant = await c.call(c.admin, 'POST', '/outpost/sync/run', { tenant: true, pullOnly: true });
    expect(tenant.status).toBe(200);
    expect(tenant.body).toMatchObject({ pulled: 7, errors: [] });
    // The owner edits their own profile after the bootstrap, then the workstation syncs.
    const me = (await c.call(c.admin, 'GET', '/auth/me')).body;
    await c.call(c.admin, 'PUT', `/fhir/R4/Practitioner/${me.profile.id}`, { ...me.profile, gender: 'female' });
    const run = await c.call(c.admin, 'POST', '/outpost/sync/run', {});
    expect(run.body).toMatchObject({ pushed: 0, keptLocal: 1, held: 0, errors: [] });
    const practitioners = server.requests.filter((r) => r.method === 'POST' && r.inBatch && r.url === 'Practitioner');
    expect(practitioners).toEqual([]);
  });
});
