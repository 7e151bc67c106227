// The enforcement rules beyond the numbered scenarios, through the door.
import { afterEach, describe, expect, it } from 'vitest';
import { createClinic, patient, type TestClinic } from './helpers.ts';

let c: TestClinic;
afterEach(() => c?.close());

async function as(policy: Parameters<TestClinic['policy']>[0], extra = {}) {
  const id = c.policy(policy);
  const who = await c.person('User', { accessPolicy: { reference: `AccessPolicy/${id}` }, ...extra });
  return { token: await c.login(who.email), policyId: id, ...who };
}

describe('statuses', () => {
  it('deleted -> 410, invisible -> 404, type not allowed -> 403, unknown -> 404', async () => {
    c = createClinic();
    const { token } = await as([{ resourceType: 'Patient', criteria: 'Patient?gender=female' }]);
    const visible = await c.call(token, 'POST', 'Patient', patient('F', { gender: 'female' }));
    expect(visible.status).toBe(201);
    const hidden = c.seed(patient('M', { gender: 'male' }));
    expect((await c.call(token, 'GET', `Patient/${hidden.id}`)).status).toBe(404);
    expect((await c.call(token, 'PUT', `Patient/${hidden.id}`, { ...hidden, gender: 'female' })).status).toBe(404);
    expect((await c.call(token, 'DELETE', `Patient/${hidden.id}`)).status).toBe(404);
    expect((await c.call(token, 'GET', 'Observation')).status).toBe(403);
    expect((await c.call(token, 'POST', 'Patient', patient('M2', { gender: 'male' }))).status).toBe(403);
    expect((await c.call(token, 'DELETE', `Patient/${visible.body.id}`)).status).toBe(200);
    expect((await c.call(token, 'GET', `Patient/${visible.body.id}`)).status).toBe(410);
    expect((await c.call(token, 'GET', 'Patient/nope')).status).toBe(404);
  });

  it('update: before and after must be in reach; a no-op update makes no new version', async () => {
    c = createClinic();
    const { token } = await as([{ resourceType: 'Patient', criteria: 'Patient?gender=female' }]);
    const p = (await c.call(token, 'POST', 'Patient', patient('F', { gender: 'female' }))).body;
    expect((await c.call(token, 'PUT', `Patient/${p.id}`, { ...p, gender: 'male' })).status).toBe(403);
    const same = await c.call(token, 'PUT', `Patient/${p.id}`, p);
    expect(same.status).toBe(200);
    expect(same.body.meta.versionId).toBe('1');
    const patched = await c.call(token, 'PATCH', `Patient/${p.id}`, [{ op: 'replace', path: '/gender', value: 'male' }], { 'content-type': 'application/json-patch+json' });
    expect(patched.status).toBe(403);
  });

  it('search: totals and paging exact under a criteria policy; _include needs search permission of its type', async () => {
    c = createClinic();
    for (let i = 0; i < 7; i++) {
      c.seed(patient(`P${i}`, { gender: i % 2 ? 'male' : 'female' }));
    }
    const org = c.seed({ resourceType: 'Organization', name: 'Org' });
    const withOrg = c.seed(patient('Org', { gender: 'female', managingOrganization: { reference: `Organization/${org.id}` } }));
    const { token } = await as([{ resourceType: 'Patient', criteria: 'Patient?gender=female' }]);
    const page = await c.call(token, 'GET', 'Patient?_count=2&_sort=family&_total=accurate');
    expect(page.body.total).toBe(5);
    expect(page.body.entry).toHaveLength(2);
    const next = page.body.link.find((l: any) => l.relation === 'next').url as string;
    const u = new URL(next);
    const p2 = await c.call(token, 'GET', `${u.pathname}${u.search}`);
    expect(p2.body.entry).toHaveLength(2);
    const inc = await c.call(token, 'GET', `Patient?_id=${withOrg.id}&_include=Patient:organization`);
    expect(inc.status).toBe(200);
    expect(inc.body.entry.map((e: any) => e.resource.resourceType)).toEqual(['Patient']);
    const both = await as([{ resourceType: 'Patient' }, { resourceType: 'Organization', readonly: true }]);
    const inc2 = await c.call(both.token, 'GET', `Patient?_id=${withOrg.id}&_include=Patient:organization`);
    expect(inc2.body.entry.map((e: any) => e.resource.resourceType)).toEqual(['Patient', 'Organization']);
  });

  it('a chain or _has on a hidden field is refused', async () => {
    c = createClinic();
    const { token } = await as([{ resourceType: 'Patient', hiddenFields: ['birthDate'] }, { resourceType: 'Observation' }]);
    expect((await c.call(token, 'GET', 'Observation?subject:Patient.birthdate=1900')).status).toBe(403);
    expect((await c.call(token, 'GET', 'Patient?birthdate=1900')).status).toBe(403);
    expect((await c.call(token, 'GET', 'Observation?subject:Patient.family=x')).status).toBe(200);
  });

  it('batch entries are checked one by one; a transaction with one denied entry changes nothing', async () => {
    c = createClinic();
    const { token } = await as([{ resourceType: 'Patient' }]);
    const batch = await c.call(token, 'POST', '', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { request: { method: 'POST', url: 'Patient' }, resource: patient('Ok') },
        { request: { method: 'POST', url: 'Observation' }, resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' } } },
      ],
    });
    expect(batch.body.entry.map((e: any) => e.response.status)).toEqual(['201 Created', '403']);
    const before = (await c.call(token, 'GET', 'Patient')).body.total;
    const tx = await c.call(token, 'POST', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:1', request: { method: 'POST', url: 'Patient' }, resource: patient('Tx') },
        { request: { method: 'POST', url: 'Observation' }, resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'urn:uuid:1' } } },
      ],
    });
    expect(tx.status).toBe(403);
    expect((await c.call(token, 'GET', 'Patient')).body.total).toBe(before);
  });

  it("conditional references in a session's Bundles resolve through its own search: an invisible match is no match", async () => {
    c = createClinic();
    const seen = c.seed(patient('Seen', { gender: 'female', identifier: [{ system: 'urn:mrn', value: '1' }] }));
    c.seed(patient('Unseen', { gender: 'male', identifier: [{ system: 'urn:mrn', value: '2' }] }));
    const { token } = await as([{ resourceType: 'Patient', criteria: 'Patient?gender=female' }, { resourceType: 'Observation' }]);
    const obs = (mrn: string) => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient?identifier=urn:mrn|${mrn}` } });
    const tx = await c.call(token, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'POST', url: 'Observation' }, resource: obs('1') }] });
    expect(tx.status, tx.text).toBe(200);
    expect(tx.body.entry[0].resource.subject.reference).toBe(`Patient/${seen.id}`);
    const hidden = await c.call(token, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'POST', url: 'Observation' }, resource: obs('2') }] });
    expect(hidden.status).toBe(400);
    expect(hidden.text).toContain('matches no resource');
    const batch = await c.call(token, 'POST', '', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [{ request: { method: 'POST', url: 'Observation' }, resource: obs('1') }, { request: { method: 'POST', url: 'Observation' }, resource: obs('2') }],
    });
    expect(batch.body.entry.map((e: any) => e.response.status)).toEqual(['201 Created', '400']);
    expect(batch.body.entry[0].resource.subject.reference).toBe(`Patient/${seen.id}`);
  });
});

describe('admin types and policy changes', () => {
  it('AccessPolicy saves are validated (400 naming the entry) and normalised; edits apply to the next request', async () => {
    c = createClinic();
    const admin = await c.person('Admin', { admin: true });
    const at = await c.login(admin.email);
    const bad = await c.call(at, 'POST', 'AccessPolicy', { resourceType: 'AccessPolicy', resource: [{ resourceType: 'Patient', criteria: 'Patient?no-such-param=1' }] });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('AccessPolicy.resource[0]');
    const policy = await c.call(at, 'POST', 'AccessPolicy', { resourceType: 'AccessPolicy', resource: [{ resourceType: 'Patient', readonly: true }] });
    expect(policy.status, policy.text).toBe(201);
    const p = c.seed(patient('Edit'));
    const nurse = await c.person('Nurse', { accessPolicy: { reference: `AccessPolicy/${policy.body.id}` } });
    const nt = await c.login(nurse.email);
    expect((await c.call(nt, 'GET', `Patient/${p.id}`)).status).toBe(200);
    const edited = await c.call(at, 'PUT', `AccessPolicy/${policy.body.id}`, { ...policy.body, resource: [{ resourceType: 'Observation' }] });
    expect(edited.status, edited.text).toBe(200);
    expect((await c.call(nt, 'GET', `Patient/${p.id}`)).status).toBe(403);
    const me = await c.call(nt, 'GET', '/auth/me');
    expect(me.body.accessPolicy.resource[0].resourceType).toBe('Observation');
  });

  it('deactivating a membership ends its sessions', async () => {
    c = createClinic();
    const admin = await c.person('Admin', { admin: true });
    const at = await c.login(admin.email);
    const nurse = await c.person('Nurse', {});
    const nt = await c.login(nurse.email);
    expect((await c.call(nt, 'GET', 'Patient')).status).toBe(200);
    const m = (await c.call(at, 'GET', `ProjectMembership/${nurse.membership}`)).body;
    expect((await c.call(at, 'PUT', `ProjectMembership/${m.id}`, { ...m, active: false })).status).toBe(200);
    expect((await c.call(nt, 'GET', 'Patient')).status).toBe(401);
  });

  it('editing a membership (its access[] parameter) applies at once; deleting it ends its sessions', async () => {
    c = createClinic();
    const [p1, p2] = [c.seed(patient('One')), c.seed(patient('Two'))];
    const policy = c.policy([{ resourceType: 'Patient', criteria: 'Patient?_id=%patient.id' }]);
    const admin = await c.person('Admin', { admin: true });
    const at = await c.login(admin.email);
    const who = await c.person('Carer', { access: [{ policy: { reference: `AccessPolicy/${policy}` }, parameter: [{ name: 'patient', valueReference: { reference: `Patient/${p1.id}` } }] }] });
    const t = await c.login(who.email);
    expect((await c.call(t, 'GET', `Patient/${p1.id}`)).status).toBe(200);
    expect((await c.call(t, 'GET', `Patient/${p2.id}`)).status).toBe(404);
    const m = (await c.call(at, 'GET', `ProjectMembership/${who.membership}`)).body;
    m.access[0].parameter[0].valueReference.reference = `Patient/${p2.id}`;
    expect((await c.call(at, 'PUT', `ProjectMembership/${m.id}`, m)).status).toBe(200);
    expect((await c.call(t, 'GET', `Patient/${p1.id}`)).status).toBe(404);
    expect((await c.call(t, 'GET', `Patient/${p2.id}`)).status).toBe(200);
    expect((await c.call(at, 'DELETE', `ProjectMembership/${m.id}`)).status).toBe(200);
    expect((await c.call(t, 'GET', `Patient/${p2.id}`)).status).toBe(401);
  });

  it('ClientApplication secret is stripped and hashed; User.passwordHash never returned', async () => {
    c = createClinic();
    const admin = await c.person('Admin', { admin: true });
    const at = await c.login(admin.email);
    const app = await c.call(at, 'POST', 'ClientApplication', { resourceType: 'ClientApplication', name: 'Lab', secret: 'super-secret-value-0123456789abcdefghijklmn' });
    expect(app.status, app.text).toBe(201);
    expect(app.text).not.toContain('super-secret-value-0123456789abcdefghijklmn');
    expect(c.host.rawStore.db.prepare("SELECT content FROM resource WHERE type = 'ClientApplication'").pluck().get()).not.toContain('super-secret');
    c.seed({ resourceType: 'ProjectMembership', project: { reference: `Project/${c.project}` }, user: { reference: `ClientApplication/${app.body.id}` }, profile: { reference: `ClientApplication/${app.body.id}` } });
    const token = await c.host.handle({
      method: 'POST',
      path: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: app.body.id, client_secret: 'super-secret-value-0123456789abcdefghijklmn' }).toString(),
    });
    expect(token.status).toBe(200);
    for (const path of [`User/${admin.user}`, 'User', `User/${admin.user}/_history`, '/auth/me']) {
      const r = await c.call(at, 'GET', path);
      expect(r.text, path).not.toMatch(/\$2[aby]\$/);
    }
    const upd = await c.call(at, 'PUT', `User/${admin.user}`, { ...(await c.call(at, 'GET', `User/${admin.user}`)).body, passwordHash: 'x', firstName: 'Changed' });
    expect(upd.status, upd.text).toBe(200);
    expect(c.host.rawStore.read<any>('User', admin.user, { project: c.project }).passwordHash).toMatch(/^\$2/);
  });

  it('a project admin updates their Project but not its protected settings; never another project', async () => {
    c = createClinic();
    const admin = await c.person('Admin', { admin: true });
    const at = await c.login(admin.email);
    const project = (await c.call(at, 'GET', `Project/${c.project}`)).body;
    const renamed = await c.call(at, 'PUT', `Project/${c.project}`, { ...project, name: 'Renamed', superAdmin: true });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body.name).toBe('Renamed');
    expect(renamed.body.superAdmin).toBeUndefined();
    const other = c.newProject('Other');
    expect((await c.call(at, 'PUT', `Project/${other}`, { resourceType: 'Project', id: other, name: 'Taken' })).status).not.toBe(200);
    expect(c.host.rawStore.read<any>('Project', other, { project: other }).name).toBe('Other');
  });

  it('a project admin searching Project finds their own project (it belongs to itself), never another', async () => {
    c = createClinic();
    const other = c.newProject('Other Clinic');
    const admin = await c.person('Admin', { admin: true });
    const otherAdmin = await c.person('OtherAdmin', { admin: true }, other);
    const nurse = await c.person('Nurse', {});
    const at = await c.login(admin.email);
    const ids = async (token: string, path: string) => ((await c.call(token, 'GET', path)).body.entry ?? []).map((e: any) => `${e.resource.resourceType}/${e.resource.id}`);
    expect(await ids(at, 'Project')).toEqual([`Project/${c.project}`]);
    expect(await ids(at, 'Project?name=General')).toEqual([`Project/${c.project}`]);
    expect(await ids(at, `Project?_id=${other}`)).toEqual([]);
    expect(await ids(at, 'Project?name=Other')).toEqual([]);
    expect(await ids(at, `ProjectMembership?_id=${admin.membership}&_include=ProjectMembership:project`)).toEqual([`ProjectMembership/${admin.membership}`, `Project/${c.project}`]);
    expect(await ids(await c.login(otherAdmin.email), 'Project')).toEqual([`Project/${other}`]);
    expect((await c.call(await c.login(nurse.email), 'GET', 'Project')).status).toBe(403);
    // a Project row written into another project (older folders: the default project) is still found, alone
    const legacy = c.host.rawStore.create<any>({ resourceType: 'Project', name: 'Legacy placement' }).resource.id as string;
    const legacyAdmin = await c.person('LegacyAdmin', { admin: true }, legacy);
    const lt = await c.login(legacyAdmin.email);
    expect(await ids(lt, 'Project')).toEqual([`Project/${legacy}`]);
    expect((await c.call(lt, 'GET', `Project/${legacy}`)).status).toBe(200);
    expect(await ids(at, 'Project')).toEqual([`Project/${c.project}`]);
  });

  it('nested hidden and readonly data survive an update by a role that cannot see or change it', async () => {
    c = createClinic();
    const p = c.seed(patient('Nestedfamily', { name: [{ given: ['Old'], family: 'Nestedfamily' }], contact: [{ name: { family: 'Keep' }, telecom: [{ value: 'ro-1' }] }] }));
    const { token } = await as([{ resourceType: 'Patient', hiddenFields: ['name.family'], readonlyFields: ['contact.telecom'] }]);
    const seen = (await c.call(token, 'GET', `Patient/${p.id}`)).body;
    expect(seen.name[0].family).toBeUndefined();
    const saved = await c.call(token, 'PUT', `Patient/${p.id}`, { ...seen, name: [{ given: ['New'] }], contact: [{ name: { family: 'Keep' }, telecom: [{ value: 'changed' }] }] });
    expect(saved.status, saved.text).toBe(200);
    const stored = c.host.rawStore.read<any>('Patient', p.id, { project: c.project });
    expect(stored.name[0]).toEqual({ given: ['New'], family: 'Nestedfamily' });
    expect(stored.contact[0].telecom).toEqual([{ value: 'ro-1' }]);
    expect(stored.meta.tag ?? []).not.toContainEqual({ system: 'https://outpost.local/fhir/CodeSystem/access', code: 'masked' });
  });

  it('/auth/me shows the profile as the role reads it (hidden fields removed and marked)', async () => {
    c = createClinic();
    const me = c.seed(patient('Profilehidden', { birthDate: '1933-03-03' }));
    const policy = c.policy([{ resourceType: 'Patient', criteria: 'Patient?_id=%patient.id', hiddenFields: ['birthDate'] }]);
    const who = await c.person('Portal', { accessPolicy: { reference: `AccessPolicy/${policy}` }, profile: { reference: `Patient/${me.id}` } });
    const t = await c.login(who.email);
    const reply = await c.call(t, 'GET', '/auth/me');
    expect(reply.status).toBe(200);
    expect(reply.body.profile.id).toBe(me.id);
    expect(reply.text).not.toContain('1933-03-03');
    expect(reply.body.profile.meta.tag).toContainEqual({ system: 'https://outpost.local/fhir/CodeSystem/access', code: 'masked' });
    expect(reply.body.accessPolicy.resource[0].criteria).toBe(`Patient?_id=${me.id}`);
  });

  it('lockAllSessions locks every open session until unlocked with the password', async () => {
    c = createClinic();
    const nurse = await c.person('Nurse', {});
    const nt = await c.login(nurse.email);
    expect(c.host.lockAllSessions()).toBe(1);
    expect((await c.call(nt, 'GET', 'Patient')).status).toBe(401);
  });
});
