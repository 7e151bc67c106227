// Medplum's invite (what MedplumClient.invite sends), member password reset and membership
// deactivation: project admins only, per project, through the host's door.
import { ClientStorage, MedplumClient, MemoryStorage } from '@medplum/core';
import type { AccessPolicy, Project, ProjectMembership } from '@medplum/fhirtypes';
import bcrypt from 'bcryptjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMembership, createProfile, createUser } from '../../electron/host/admin/index.ts';
import { memoryHost, type Door } from './helpers.ts';

const OWNER = { projectName: 'Riverside Clinic', firstName: 'Ada', lastName: 'Owner', email: 'ada@example.org', password: 'owner-password' };

let d: Door;
let admin: string;
let projectId: string;

/** MedplumClient whose fetch goes through the host's door. */
function client(token: string): MedplumClient {
  const fetchViaHost = async (url: string | URL, init?: RequestInit): Promise<Response> => {
    const u = new URL(url.toString());
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => (headers[k] = v));
    const res = await d.host.handle({ method: (init?.method ?? 'GET') as 'GET', path: u.pathname + u.search, headers, body: init?.body as string | undefined });
    return new Response(res.body === undefined ? null : JSON.stringify(res.body), { status: res.status, headers: res.headers });
  };
  const medplum = new MedplumClient({ baseUrl: 'http://outpost.test/', fetch: fetchViaHost, storage: new ClientStorage(new MemoryStorage()) });
  medplum.setAccessToken(token);
  return medplum;
}

async function policy(resource: AccessPolicy['resource']): Promise<string> {
  const saved = await d.call(admin, 'POST', '/fhir/R4/AccessPolicy', { resourceType: 'AccessPolicy', name: 'front desk', resource });
  expect(saved.status).toBe(201);
  return `AccessPolicy/${saved.body.id}`;
}

beforeEach(async () => {
  d = memoryHost();
  const setup = await d.call(undefined, 'POST', '/outpost/setup', OWNER);
  projectId = setup.body.project.id;
  admin = await d.login(OWNER.email, OWNER.password);
});
afterEach(() => d.host.close());

describe('POST /admin/projects/:projectId/invite', () => {
  it('MedplumClient.invite creates the User, the profile and the membership; the new person signs in with the policy', async () => {
    const frontDesk = await policy([{ resourceType: 'Patient', criteria: 'Patient?_tag=walk-in', interaction: ['read', 'search'] }]);
    await d.call(admin, 'POST', '/fhir/R4/Patient', { resourceType: 'Patient', meta: { tag: [{ code: 'walk-in' }] }, name: [{ family: 'Walkin' }] });
    await d.call(admin, 'POST', '/fhir/R4/Patient', { resourceType: 'Patient', name: [{ family: 'Private' }] });

    const membership = (await client(admin).invite(projectId, {
      resourceType: 'Practitioner',
      firstName: 'Pat',
      lastName: 'Desk',
      email: 'Pat.Desk@example.org',
      password: 'front-desk-1',
      sendEmail: false,
      membership: { accessPolicy: { reference: frontDesk }, admin: false },
    })) as ProjectMembership;
    expect(membership.resourceType).toBe('ProjectMembership');
    expect(membership.project?.reference).toBe(`Project/${projectId}`);
    expect(membership.profile?.reference).toMatch(/^Practitioner\//);
    expect(membership.accessPolicy?.reference).toBe(frontDesk);

    const profile = await d.call(admin, 'GET', `/fhir/R4/${membership.profile!.reference}`);
    expect(profile.body.name[0]).toMatchObject({ given: ['Pat'], family: 'Desk' });
    const user = await d.call(admin, 'GET', `/fhir/R4/${membership.user!.reference}`);
    expect(user.body.email).toBe('pat.desk@example.org');
    expect(JSON.stringify(user.body)).not.toContain('$2');

    const pat = await d.login('pat.desk@example.org', 'front-desk-1');
    const seen = await d.call(pat, 'GET', '/fhir/R4/Patient');
    expect(seen.body.entry.map((e: any) => e.resource.name[0].family)).toEqual(['Walkin']);
    expect((await d.call(pat, 'POST', '/admin/projects/' + projectId + '/invite', { resourceType: 'Patient', firstName: 'X', lastName: 'Y', email: 'x@example.org' })).status).toBe(403);
  });

  it('reuses an existing User for a second role, refuses the same role twice, and keeps their password', async () => {
    const invite = (body: Record<string, unknown>) => d.call(admin, 'POST', `/admin/projects/${projectId}/invite`, { firstName: 'Sam', lastName: 'Twice', email: 'sam@example.org', ...body });
    expect((await invite({ resourceType: 'Practitioner', password: 'sam-password-1' })).status).toBe(200);
    expect((await invite({ resourceType: 'Practitioner' })).status).toBe(409);
    expect((await invite({ resourceType: 'Patient', password: 'another-password' })).status).toBe(200);
    const users = d.host.rawStore.db.prepare("SELECT count(*) FROM resource WHERE type = 'User' AND json_extract(content, '$.email') = 'sam@example.org'").pluck().get();
    expect(users).toBe(1);
    // Two roles: the login offers both; the first password still works.
    const patient = await d.login('sam@example.org', 'sam-password-1', 'Patient/');
    expect((await d.call(patient, 'GET', '/auth/me')).body.membership.profile.reference).toMatch(/^Patient\//);
  });

  it('refuses non-admins, admins of another project, unknown policies and a RelatedPerson without its patient; nothing is written', async () => {
    // A second project with its own admin.
    const hash = bcrypt.hashSync('other-admin-1', 4);
    const other = d.host.rawStore.create<Project>({ resourceType: 'Project', name: 'Elsewhere' }).resource.id!;
    const otherUser = createUser(d.host.rawStore, other, { firstName: 'Oz', lastName: 'Other', email: 'oz@example.org' });
    d.host.rawStore.update({ ...otherUser, passwordHash: hash } as never, undefined, { project: other });
    const otherProfile = createProfile(d.host.rawStore, other, 'Practitioner', { firstName: 'Oz', lastName: 'Other', email: 'oz@example.org' });
    createMembership(d.host.rawStore, other, otherUser, otherProfile, 'Oz Other', { admin: true });
    const oz = await d.login('oz@example.org', 'other-admin-1');

    const count = (): number => d.host.rawStore.db.prepare("SELECT count(*) FROM resource WHERE type IN ('User', 'ProjectMembership', 'Practitioner', 'RelatedPerson')").pluck().get() as number;
    const before = count();
    const body = { resourceType: 'Practitioner', firstName: 'No', lastName: 'Body', email: 'nobody@example.org', password: 'nobody-pass-1' };
    expect((await d.call(oz, 'POST', `/admin/projects/${projectId}/invite`, body)).status).toBe(403);
    expect((await d.call(undefined, 'POST', `/admin/projects/${projectId}/invite`, body)).status).toBe(401);
    const unknown = await d.call(admin, 'POST', `/admin/projects/${projectId}/invite`, { ...body, membership: { accessPolicy: { reference: 'AccessPolicy/nope' } } });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toContain('AccessPolicy/nope');
    const related = await d.call(admin, 'POST', `/admin/projects/${projectId}/invite`, { ...body, resourceType: 'RelatedPerson' });
    expect(related.status).toBe(400);
    expect((await d.call(admin, 'POST', `/admin/projects/${projectId}/invite`, { ...body, password: 'short' })).status).toBe(400);
    expect(count()).toBe(before);

    // Oz administers only his own project: invites there, and reviews only its memberships.
    expect((await d.call(oz, 'POST', `/admin/projects/${other}/invite`, body)).status).toBe(200);
    const reviews = (await d.call(oz, 'GET', '/outpost/policy-review')).body as { membership: string }[];
    expect(reviews).toHaveLength(2);
    const adminMembership = (await d.call(admin, 'GET', '/auth/me')).body.membership.id;
    expect((await d.call(oz, 'GET', `/outpost/policy-review?membership=${adminMembership}`)).status).toBe(404);
  });

  it('invites a RelatedPerson for the patient named by the membership parameter', async () => {
    const mary = (await d.call(admin, 'POST', '/fhir/R4/Patient', { resourceType: 'Patient', name: [{ family: 'Johnson' }] })).body.id;
    const caregiver = await policy([{ resourceType: '*', compartment: { reference: 'Patient/%patient.id' }, interaction: ['read', 'search'] }]);
    const res = await d.call(admin, 'POST', `/admin/projects/${projectId}/invite`, {
      resourceType: 'RelatedPerson',
      firstName: 'Robert',
      lastName: 'Johnson',
      email: 'robert@example.org',
      password: 'guardian-pass-1',
      membership: { access: [{ policy: { reference: caregiver }, parameter: [{ name: 'patient', valueReference: { reference: `Patient/${mary}` } }] }] },
    });
    expect(res.status).toBe(200);
    const robert = await d.login('robert@example.org', 'guardian-pass-1');
    const seen = await d.call(robert, 'GET', '/fhir/R4/Patient');
    expect(seen.body.entry.map((e: any) => e.resource.id)).toEqual([mary]);
  });
});

describe('member password reset and deactivation', () => {
  async function member(): Promise<{ membership: string; token: string }> {
    const res = await d.call(admin, 'POST', `/admin/projects/${projectId}/invite`, { resourceType: 'Practitioner', firstName: 'Kim', lastName: 'Lee', email: 'kim@example.org', password: 'kim-password-1' });
    return { membership: res.body.id, token: await d.login('kim@example.org', 'kim-password-1') };
  }

  it('an admin sets a new password: the old one stops working and the member is signed out everywhere', async () => {
    const kim = await member();
    expect((await d.call(kim.token, 'GET', '/auth/me')).status).toBe(200);
    const path = `/admin/projects/${projectId}/members/${kim.membership}/reset-password`;
    expect((await d.call(kim.token, 'POST', path, { password: 'kim-takes-over' })).status).toBe(403);
    expect((await d.call(admin, 'POST', path, { password: 'short' })).status).toBe(400);
    expect((await d.call(admin, 'POST', path, { password: 'kim-new-password' })).status).toBe(200);
    expect((await d.call(kim.token, 'GET', '/auth/me')).status).toBe(401);
    await expect(d.login('kim@example.org', 'kim-password-1')).rejects.toThrow(/login 40/);
    expect(await d.login('kim@example.org', 'kim-new-password')).toBeTruthy();
    expect((await d.call(admin, 'POST', `/admin/projects/${projectId}/members/00000000-0000-4000-8000-000000000000/reset-password`, { password: 'whatever-123' })).status).toBe(404);
  });

  it('deactivating a membership (admin endpoint or FHIR update) ends its sessions; reactivating lets the member in again', async () => {
    const kim = await member();
    const deactivate = await d.call(admin, 'POST', `/admin/projects/${projectId}/members/${kim.membership}/deactivate`);
    expect(deactivate.status).toBe(200);
    expect(deactivate.body.active).toBe(false);
    expect((await d.call(kim.token, 'GET', '/fhir/R4/Patient')).status).toBe(401);
    await expect(d.login('kim@example.org', 'kim-password-1')).rejects.toThrow(/login 40/);

    expect((await d.call(admin, 'POST', `/admin/projects/${projectId}/members/${kim.membership}/activate`)).body.active).toBe(true);
    const again = await d.login('kim@example.org', 'kim-password-1');
    const stored = (await d.call(admin, 'GET', `/fhir/R4/ProjectMembership/${kim.membership}`)).body;
    expect((await d.call(admin, 'PUT', `/fhir/R4/ProjectMembership/${kim.membership}`, { ...stored, active: false })).status).toBe(200);
    expect((await d.call(again, 'GET', '/auth/me')).status).toBe(401);

    // An admin cannot lock themselves out with the membership they are signed in with.
    const mine = (await d.call(admin, 'GET', '/auth/me')).body.membership.id;
    expect((await d.call(admin, 'POST', `/admin/projects/${projectId}/members/${mine}/deactivate`)).status).toBe(400);
  });
});
