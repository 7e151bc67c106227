// "View as" at the door, on the demo clinic: only a project admin starts a preview; the preview sees
// exactly what the role sees (the role's own session is the oracle) and cannot write anything through
// any path (plain writes, conditional writes, patches, Bundles, admin, sync, auth routes); every
// attempt changes nothing and is audited as the administrator viewing as the role; the preview ends with
// the administrator's session and with their admin rights.
import type { AuditEvent, Bundle, ProjectMembership } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost } from '../../electron/host/host.ts';
import { DEMO_PASSWORD, seedDemo, type DemoSeedResult } from '../../electron/host/seed/index.ts';
import { door, type Door } from './helpers.ts';

let d: Door;
let seeded: DemoSeedResult;
let admin: string;
let nurse: string;
let memberships: ProjectMembership[];
const projectId = (): string => seeded.projectId;
const membershipOf = (display: string): ProjectMembership => {
  const found = memberships.find((m) => m.profile?.display === display);
  if (!found) throw new Error(`no membership ${display}`);
  return found;
};
const startPreview = async (token: string, membership: string) => d.call(token, 'POST', '/outpost/view-as', { membership });
const rowCount = (): number => d.host.rawStore.db.prepare("SELECT count(*) FROM resource WHERE type NOT IN ('AuditEvent')").pluck().get() as number;
const versions = (): number => d.host.rawStore.db.prepare("SELECT count(*) FROM resource_history h JOIN resource r ON r.rid = h.rid WHERE r.type <> 'AuditEvent'").pluck().get() as number;
const auditEvents = async (query: string): Promise<AuditEvent[]> => ((await d.call(admin, 'GET', `/fhir/R4/AuditEvent?${query}&_count=200&_sort=-date`)).body.entry ?? []).map((e: any) => e.resource);

beforeAll(async () => {
  d = door(createHost({ dataDir: ':memory:' }));
  seeded = await seedDemo(d.host);
  admin = await d.login('admin@demo.outpost', DEMO_PASSWORD);
  nurse = await d.login('jennifer.williams@demo.outpost', DEMO_PASSWORD);
  memberships = (await d.call(admin, 'GET', '/fhir/R4/ProjectMembership?_count=100')).body.entry.map((e: any) => e.resource);
}, 120_000);
afterAll(() => d?.host.close());

describe('"view as" preview sessions', () => {
  it('only a project administrator starts one; a preview cannot start another; unknown memberships are 404', async () => {
    const target = membershipOf('Nurse Jennifer Williams').id!;
    const refused = await startPreview(nurse, membershipOf('Robert Johnson').id!);
    expect(refused.status).toBe(403);
    const ok = await startPreview(admin, target);
    expect(ok.status).toBe(200);
    expect(ok.body.access_token).toEqual(expect.any(String));
    expect((await startPreview(ok.body.access_token, target)).status).toBe(403);
    expect((await startPreview(admin, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await startPreview(admin, 'not an id!')).status).toBe(400);
    const me = (await d.call(ok.body.access_token, 'GET', '/auth/me')).body;
    expect(me.membership.id).toBe(target);
    expect(me.viewAs.admin.display).toBe('Alex Rivera');
  });

  it('sees exactly what the role sees: the same patients, the same masks, the same refusals', async () => {
    const preview = (await startPreview(admin, membershipOf('Nurse Jennifer Williams').id!)).body.access_token as string;
    for (const query of ['Patient?_count=100', `Observation?patient=Patient/${seeded.ids!.mary}&_count=200`, 'CareTeam?_count=50', `Patient/${seeded.ids!.confidential}`, 'Encounter?_count=5', 'ProjectMembership', 'AccessPolicy', 'AuditEvent?_count=1']) {
      const asRole = await d.call(nurse, 'GET', `/fhir/R4/${query}`);
      const asPreview = await d.call(preview, 'GET', `/fhir/R4/${query}`);
      expect(asPreview.status, query).toBe(asRole.status);
      const strip = (b: any): unknown => (b?.resourceType === 'Bundle' ? { total: b.total, entry: (b.entry ?? []).map((e: any) => e.resource) } : b);
      expect(strip(asPreview.body), query).toEqual(strip(asRole.body));
    }
    const masked = (await d.call(preview, 'GET', `/fhir/R4/Patient/${seeded.ids!.confidential}`)).body;
    expect(masked.telecom).toBeUndefined();
    expect(masked.meta.tag).toContainEqual(expect.objectContaining({ code: 'masked' }));
  });

  it('cannot write through any path: each attempt is refused, nothing changes, and the refusal is audited as the admin viewing as the role', async () => {
    const nurseMembership = membershipOf('Nurse Jennifer Williams');
    const preview = (await startPreview(admin, nurseMembership.id!)).body.access_token as string;
    const adminPreview = (await startPreview(admin, membershipOf('Alex Rivera').id!)).body.access_token as string;
    const mary = (await d.call(nurse, 'GET', `/fhir/R4/Patient/${seeded.ids!.mary}`)).body;
    const observation = { resourceType: 'Observation', status: 'final', code: { text: 'Heart rate' }, subject: { reference: `Patient/${seeded.ids!.mary}` }, valueQuantity: { value: 70, unit: '/min' } };
    // The nurse herself may record this observation: the refusals below are the preview's, not her role's.
    const own = await d.call(nurse, 'POST', '/fhir/R4/Observation', observation);
    expect(own.status).toBe(201);
    const existing = own.body;
    const transaction: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: observation as never, request: { method: 'POST', url: 'Observation' } }] };
    const batch: Bundle = { resourceType: 'Bundle', type: 'batch', entry: [{ resource: observation as never, request: { method: 'POST', url: 'Observation' } }, { request: { method: 'GET', url: 'Patient?_count=1' } }] };
    const attempts: [string, string, string, unknown?][] = [
      [preview, 'POST', '/fhir/R4/Observation', observation],
      [preview, 'POST', '/fhir/R4/Observation', { ...observation, status: 'preliminary' }],
      [preview, 'PUT', `/fhir/R4/Observation/${existing.id}`, { ...existing, status: 'preliminary' }],
      [preview, 'PUT', `/fhir/R4/Observation?_id=${existing.id}`, { ...existing, status: 'preliminary' }],
      [preview, 'PATCH', `/fhir/R4/Observation/${existing.id}`, [{ op: 'replace', path: '/status', value: 'preliminary' }]],
      [preview, 'DELETE', `/fhir/R4/Observation/${existing.id}`],
      [preview, 'DELETE', `/fhir/R4/Observation?_id=${existing.id}`],
      [preview, 'PUT', `/fhir/R4/Patient/${mary.id}`, { ...mary, gender: 'other' }],
      [preview, 'POST', '/fhir/R4', transaction],
      [preview, 'POST', '/fhir/R4/', batch],
      [preview, 'POST', '/auth/switch-role', { membership: membershipOf('Robert Johnson').id }],
      [preview, 'POST', '/auth/changepassword', { oldPassword: DEMO_PASSWORD, newPassword: 'changed-by-preview-1' }],
      [preview, 'GET', '/auth/mfa/status'],
      [preview, 'POST', '/auth/lock', {}],
      [preview, 'POST', '/outpost/sync/run', {}],
      [preview, 'PUT', '/outpost/sync/remote', { baseUrl: 'https://example.org/fhir/R4/', token: 'x' }],
      [preview, 'POST', `/outpost/sync/conflicts/none/resolve`, { keep: 'local' }],
      // The preview of an administrator's membership administers nothing either.
      [adminPreview, 'POST', `/admin/projects/${projectId()}/invite`, { resourceType: 'Practitioner', firstName: 'Eve', lastName: 'Preview', email: 'eve.preview@demo.outpost', password: 'preview-pass-1' }],
      [adminPreview, 'POST', `/admin/projects/${projectId()}/members/${nurseMembership.id}/deactivate`, {}],
      [adminPreview, 'POST', `/admin/projects/${projectId()}/members/${nurseMembership.id}/reset-password`, { password: 'preview-pass-1' }],
      [adminPreview, 'PUT', `/fhir/R4/ProjectMembership/${nurseMembership.id}`, { ...nurseMembership, admin: true }],
      [adminPreview, 'POST', '/fhir/R4/AccessPolicy', { resourceType: 'AccessPolicy', name: 'Preview', resource: [{ resourceType: '*' }] }],
      [adminPreview, 'POST', '/outpost/view-as', { membership: nurseMembership.id }],
      [adminPreview, 'GET', '/outpost/policy-review'],
    ];
    const before = { rows: rowCount(), versions: versions() };
    for (const [token, method, path, body] of attempts) {
      const res = await d.call(token, method, path, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.resourceType, `${method} ${path}`).toBe('OperationOutcome');
    }
    expect({ rows: rowCount(), versions: versions() }).toEqual(before);
    // The nurse's own password still works (changepassword was refused), and she is still a nurse.
    await d.login('jennifer.williams@demo.outpost', DEMO_PASSWORD);
    expect((await d.call(admin, 'GET', `/fhir/R4/ProjectMembership/${nurseMembership.id}`)).body.admin).toBeUndefined();

    const refusals = await auditEvents('subtype=view-as-write-refused');
    expect(refusals.length).toBeGreaterThanOrEqual(attempts.filter(([, m]) => m !== 'GET').length - 4);
    for (const e of refusals) {
      expect(e.outcome).not.toBe('0');
      expect(e.agent?.find((a) => a.requestor)?.who?.display).toBe('Alex Rivera');
      expect(e.agent?.some((a) => a.type?.coding?.some((c) => c.code === 'view-as'))).toBe(true);
    }
  });

  it('behind the door too, the preview\'s repository is read-only and holds no admin rights (defence in depth)', async () => {
    const preview = (await startPreview(admin, membershipOf('Nurse Jennifer Williams').id!)).body.access_token as string;
    const repo = d.host.access.forSession(d.host.auth.authenticate(preview));
    const observation = { resourceType: 'Observation' as const, status: 'final' as const, code: { text: 'Heart rate' }, subject: { reference: `Patient/${seeded.ids!.mary}` } };
    expect(() => repo.create(observation)).toThrow(/may not create/);
    const adminRepo = d.host.access.forSession(d.host.auth.authenticate((await startPreview(admin, membershipOf('Alex Rivera').id!)).body.access_token));
    expect(() => adminRepo.create({ resourceType: 'Patient', name: [{ family: 'Preview' }] })).toThrow(/may not create/);
    const nurseMembership = membershipOf('Nurse Jennifer Williams');
    expect(() => adminRepo.update({ ...nurseMembership, admin: true })).toThrow();
    expect(repo.search('Patient', '_count=1').entry?.length).toBe(1);
  });

  it('its reads are audited as the admin viewing as the role; starting and ending it are audited', async () => {
    const target = membershipOf('Robert Johnson');
    const preview = (await startPreview(admin, target.id!)).body.access_token as string;
    expect((await d.call(preview, 'GET', `/fhir/R4/Patient/${seeded.ids!.mary}`)).status).toBe(200);
    expect((await d.call(preview, 'POST', '/auth/logout', {})).status).toBe(200);
    expect((await d.call(preview, 'GET', '/fhir/R4/Patient?_count=1')).status).toBe(401);
    d.host.audit.flush();
    const reads = (await auditEvents(`entity=Patient/${seeded.ids!.mary}&subtype=read`)).filter((e) => e.agent?.some((a) => a.type?.coding?.some((c) => c.code === 'view-as')));
    expect(reads.length).toBeGreaterThan(0);
    const read = reads[0];
    expect(read.agent?.find((a) => a.requestor)?.who?.display).toBe('Alex Rivera');
    expect(read.agent?.find((a) => a.type?.coding?.some((c) => c.code === 'view-as'))?.who?.reference).toBe(target.profile?.reference);
    const started = await auditEvents(`subtype=view-as&entity=ProjectMembership/${target.id}`);
    expect(started[0]?.outcome).toBe('0');
    const ended = await auditEvents(`subtype=view-as-end&entity=ProjectMembership/${target.id}`);
    expect(ended.length).toBe(1);
    // A refused start is audited too.
    await startPreview(nurse, target.id!);
    expect((await auditEvents('subtype=view-as&outcome:not=0')).length).toBeGreaterThan(0);
  });

  it('ends when the administrator signs out, and when they stop being an administrator', async () => {
    const otherAdmin = await d.login('admin@demo.outpost', DEMO_PASSWORD);
    const preview = (await startPreview(otherAdmin, membershipOf('Nurse Jennifer Williams').id!)).body.access_token as string;
    expect((await d.call(preview, 'GET', '/fhir/R4/Patient?_count=1')).status).toBe(200);
    await d.call(otherAdmin, 'POST', '/auth/logout', {});
    expect((await d.call(preview, 'GET', '/fhir/R4/Patient?_count=1')).status).toBe(401);

    // A second admin: demoted while previewing, the preview stops answering at once.
    const adminMembership = membershipOf('Alex Rivera');
    const invited = await d.call(admin, 'POST', `/admin/projects/${projectId()}/invite`, { resourceType: 'Practitioner', firstName: 'Dana', lastName: 'Second', email: 'dana.second@demo.outpost', password: 'second-admin-1', membership: { admin: true, accessPolicy: adminMembership.accessPolicy } });
    expect(invited.status).toBe(200);
    const dana = await d.login('dana.second@demo.outpost', 'second-admin-1');
    const danaPreview = (await startPreview(dana, membershipOf('Nurse Jennifer Williams').id!)).body.access_token as string;
    expect((await d.call(danaPreview, 'GET', '/fhir/R4/Patient?_count=1')).status).toBe(200);
    const danaMembership = (await d.call(admin, 'GET', `/fhir/R4/ProjectMembership/${invited.body.id}`)).body;
    expect((await d.call(admin, 'PUT', `/fhir/R4/ProjectMembership/${danaMembership.id}`, { ...danaMembership, admin: false })).status).toBe(200);
    expect((await d.call(danaPreview, 'GET', '/fhir/R4/Patient?_count=1')).status).toBe(401);
  });
});
