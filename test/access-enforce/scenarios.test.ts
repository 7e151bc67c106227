// The spec's scenarios 1-9 through the host's door, with sessions from real logins.
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServer } from '../../electron/host/http.ts';
import { createClinic, patient, type TestClinic } from './helpers.ts';

let c: TestClinic;
let server: HttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  c?.close();
});

async function as(policy: Parameters<TestClinic['policy']>[0]) {
  const id = c.policy(policy);
  const who = await c.person('User', { accessPolicy: { reference: `AccessPolicy/${id}` } });
  return { token: await c.login(who.email), ...who };
}

describe('spec scenarios', () => {
  it('1. [Patient readonly]: read works; update and delete 403', async () => {
    c = createClinic();
    const p = c.seed(patient('One'));
    const { token } = await as([{ resourceType: 'Patient', readonly: true }]);
    expect((await c.call(token, 'GET', `Patient/${p.id}`)).status).toBe(200);
    expect((await c.call(token, 'PUT', `Patient/${p.id}`, { ...p, gender: 'female' })).status).toBe(403);
    expect((await c.call(token, 'DELETE', `Patient/${p.id}`)).status).toBe(403);
    expect((await c.call(token, 'POST', 'Patient', patient('New'))).status).toBe(403);
  });

  it('2. SR active writable, completed readonly', async () => {
    c = createClinic();
    const pat = c.seed(patient('Two'));
    const { token } = await as([
      { resourceType: 'ServiceRequest', criteria: 'ServiceRequest?status=active' },
      { resourceType: 'ServiceRequest', criteria: 'ServiceRequest?status=completed', readonly: true },
    ]);
    const sr = (status: string) => ({ resourceType: 'ServiceRequest', status, intent: 'order', subject: { reference: `Patient/${pat.id}` } });
    const created = await c.call(token, 'POST', 'ServiceRequest', sr('active'));
    expect(created.status, created.text).toBe(201);
    expect((await c.call(token, 'PUT', `ServiceRequest/${created.body.id}`, { ...created.body, status: 'completed' })).status).toBe(403);
    const done = c.seed(sr('completed'));
    expect((await c.call(token, 'GET', `ServiceRequest/${done.id}`)).status).toBe(200);
    const unchanged = await c.call(token, 'PUT', `ServiceRequest/${done.id}`, done);
    expect(unchanged.status).toBe(403);
  });

  it('3. Condition [create, read]: search, history, vread, update, delete 403', async () => {
    c = createClinic();
    const pat = c.seed(patient('Three'));
    const { token } = await as([{ resourceType: 'Condition', interaction: ['create', 'read'] }]);
    const created = await c.call(token, 'POST', 'Condition', { resourceType: 'Condition', subject: { reference: `Patient/${pat.id}` } });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id;
    expect((await c.call(token, 'GET', `Condition/${id}`)).status).toBe(200);
    expect((await c.call(token, 'GET', 'Condition')).status).toBe(403);
    expect((await c.call(token, 'GET', `Condition/${id}/_history`)).status).toBe(403);
    expect((await c.call(token, 'GET', `Condition/${id}/_history/1`)).status).toBe(403);
    expect((await c.call(token, 'PUT', `Condition/${id}`, { ...created.body, clinicalStatus: { text: 'x' } })).status).toBe(403);
    expect((await c.call(token, 'DELETE', `Condition/${id}`)).status).toBe(403);
  });

  it("4. two users, each with Patient?_compartment=Organization/<own>: own patients readable, the other's 404 (over loopback HTTP)", async () => {
    c = createClinic();
    const orgA = c.seed({ resourceType: 'Organization', name: 'A' });
    const orgB = c.seed({ resourceType: 'Organization', name: 'B' });
    // Medplum's organisation compartments are account compartments: meta.accounts (or the older meta.account).
    const pa = c.seed(patient('A', { meta: { accounts: [{ reference: `Organization/${orgA.id}` }] } }));
    const legacy = c.seed(patient('A2', { meta: { account: { reference: `Organization/${orgA.id}` } } }));
    const pb = c.seed(patient('B', { meta: { accounts: [{ reference: `Organization/${orgB.id}` }] } }));
    // managingOrganization alone does not place a patient in the organisation's compartment
    const managedOnly = c.seed(patient('M', { managingOrganization: { reference: `Organization/${orgA.id}` } }));
    const a = await as([{ resourceType: 'Patient', criteria: `Patient?_compartment=Organization/${orgA.id}` }]);
    const b = await as([{ resourceType: 'Patient', criteria: `Patient?_compartment=Organization/${orgB.id}` }]);
    server = await startHttpServer(c.host, { port: 0, hostname: '127.0.0.1', requireToken: false, token: 'not-used' });
    const http = async (token: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server!.url}/fhir/R4/${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/fhir+json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: (await res.json()) as any };
    };

    expect((await http(a.token, 'GET', `Patient/${pa.id}`)).status).toBe(200);
    expect((await http(a.token, 'GET', `Patient/${legacy.id}`)).status).toBe(200);
    expect((await http(a.token, 'GET', `Patient/${pb.id}`)).status).toBe(404);
    expect((await http(a.token, 'GET', `Patient/${managedOnly.id}`)).status).toBe(404);
    expect((await http(b.token, 'GET', `Patient/${pb.id}`)).status).toBe(200);
    expect((await http(b.token, 'GET', `Patient/${pa.id}`)).status).toBe(404);
    const search = await http(a.token, 'GET', 'Patient?_total=accurate');
    expect(search.body.total).toBe(2);
    expect(search.body.entry.map((e: any) => e.resource.id).sort()).toEqual([pa.id, legacy.id].sort());
    expect((await http(a.token, 'GET', `Patient?_compartment=Organization/${orgB.id}`)).body.entry ?? []).toEqual([]);

    // writes: a new patient of A is A's alone; filing one under B, or re-filing an existing one, is refused or ignored
    const created = await http(a.token, 'POST', 'Patient', patient('New', { meta: { accounts: [{ reference: `Organization/${orgA.id}` }], compartment: [{ reference: `Organization/${orgB.id}` }] } }));
    expect(created.status).toBe(201);
    expect((await http(b.token, 'GET', `Patient/${created.body.id}`)).status).toBe(404);
    expect((await http(a.token, 'POST', 'Patient', patient('Theirs', { meta: { accounts: [{ reference: `Organization/${orgB.id}` }] } }))).status).toBe(403);
    const refiled = await http(a.token, 'PUT', `Patient/${pa.id}`, { ...pa, gender: 'female', meta: { accounts: [{ reference: `Organization/${orgA.id}` }, { reference: `Organization/${orgB.id}` }] } });
    expect(refiled.status).toBe(200);
    expect(refiled.body.meta.accounts).toEqual([{ reference: `Organization/${orgA.id}` }]);
    expect((await http(b.token, 'GET', `Patient/${pa.id}`)).status).toBe(404);
    // a project admin files records under accounts (Medplum: admins write meta.accounts)
    const admin = await c.person('Admin', { admin: true });
    const at = await c.login(admin.email);
    const shareB = await http(at, 'PUT', `Patient/${pb.id}`, { ...pb, meta: { accounts: [{ reference: `Organization/${orgA.id}` }, { reference: `Organization/${orgB.id}` }] } });
    expect(shareB.status).toBe(200);
    expect((await http(a.token, 'GET', `Patient/${pb.id}`)).status).toBe(200);
    expect((await http(b.token, 'GET', `Patient/${pb.id}`)).status).toBe(200);

    // the same rule as one shared policy with a membership parameter
    const shared = c.policy([{ resourceType: 'Patient', criteria: 'Patient?_compartment=%organization' }]);
    const viaParameter = await c.person('Shared', {
      access: [{ policy: { reference: `AccessPolicy/${shared}` }, parameter: [{ name: 'organization', valueReference: { reference: `Organization/${orgB.id}` } }] }],
    });
    const t = await c.login(viaParameter.email);
    expect((await http(t, 'GET', `Patient/${pb.id}`)).status).toBe(200);
    expect((await http(t, 'GET', `Patient/${pa.id}`)).status).toBe(404);
  });

  it('5. hiddenFields [name.family]: given kept, family gone in read, search and history, marked masked', async () => {
    c = createClinic();
    const p = c.seed(patient('Secretfamily', { name: [{ given: ['G1'], family: 'Secretfamily' }, { given: ['G2'], family: 'Secondfamily' }] }));
    const { token } = await as([{ resourceType: 'Patient', hiddenFields: ['name.family'] }]);
    for (const reply of [
      await c.call(token, 'GET', `Patient/${p.id}`),
      await c.call(token, 'GET', 'Patient'),
      await c.call(token, 'GET', `Patient/${p.id}/_history`),
      await c.call(token, 'GET', `Patient/${p.id}/_history/1`),
    ]) {
      expect(reply.status).toBe(200);
      expect(reply.text).not.toContain('Secretfamily');
      expect(reply.text).not.toContain('Secondfamily');
      expect(reply.text).toContain('G1');
      expect(reply.text).toContain('"code":"masked"');
      expect(reply.text).toContain('"valueString":"name.family"');
    }
    // searching on the hidden field is refused (no existence oracle)
    expect((await c.call(token, 'GET', 'Patient?family=Secretfamily')).status).toBe(403);
    expect((await c.call(token, 'GET', 'Patient?_sort=family')).status).toBe(403);
  });

  it('6. readonlyFields [identifier]: dropped on create, kept on update', async () => {
    c = createClinic();
    const { token } = await as([{ resourceType: 'Patient', readonlyFields: ['identifier'] }]);
    const created = await c.call(token, 'POST', 'Patient', patient('Six', { identifier: [{ value: 'client-set' }] }));
    expect(created.status).toBe(201);
    expect(created.body.identifier).toBeUndefined();
    const stored = c.seed(patient('Six', { identifier: [{ value: 'original' }] }));
    const removed = await c.call(token, 'PUT', `Patient/${stored.id}`, { ...stored, identifier: undefined, gender: 'male' });
    expect(removed.status, removed.text).toBe(200);
    expect(removed.body.identifier).toEqual([{ value: 'original' }]);
    const added = await c.call(token, 'PUT', `Patient/${stored.id}`, { ...removed.body, identifier: [{ value: 'other' }] });
    expect(added.body.identifier).toEqual([{ value: 'original' }]);
  });

  it('7. writeConstraint with %before / %after', async () => {
    c = createClinic();
    const pat = c.seed(patient('Seven'));
    const { token } = await as([
      {
        resourceType: 'Observation',
        writeConstraint: [
          { language: 'text/fhirpath', expression: "%before.exists() implies %before.status != 'final'", description: 'Final observations are locked' },
          { language: 'text/fhirpath', expression: "status = 'final' implies subject.exists()", description: 'A final observation needs a subject' },
        ],
      },
    ]);
    const obs = (status: string, subject = false) => ({ resourceType: 'Observation', status, code: { text: 'x' }, ...(subject ? { subject: { reference: `Patient/${pat.id}` } } : {}) });
    const prelim = await c.call(token, 'POST', 'Observation', obs('preliminary'));
    expect(prelim.status, prelim.text).toBe(201);
    const noSubject = await c.call(token, 'POST', 'Observation', obs('final'));
    expect(noSubject.status).toBe(403);
    expect(noSubject.text).toContain('A final observation needs a subject');
    const final = await c.call(token, 'PUT', `Observation/${prelim.body.id}`, { ...obs('final', true), id: prelim.body.id });
    expect(final.status, final.text).toBe(200);
    const cancelled = await c.call(token, 'PUT', `Observation/${prelim.body.id}`, { ...obs('cancelled', true), id: prelim.body.id });
    expect(cancelled.status).toBe(403);
    expect(cancelled.text).toContain('Final observations are locked');
  });

  it('8. access[] twice with Patient?_id=%patient.id: p1, p2 readable, p3 404', async () => {
    c = createClinic();
    const [p1, p2, p3] = ['P1', 'P2', 'P3'].map((f) => c.seed(patient(f)));
    const policy = c.policy([{ resourceType: 'Patient', criteria: 'Patient?_id=%patient.id' }]);
    const access = (p: { id: string }) => ({ policy: { reference: `AccessPolicy/${policy}` }, parameter: [{ name: 'patient', valueReference: { reference: `Patient/${p.id}` } }] });
    const who = await c.person('Guardian', { access: [access(p1), access(p2)] });
    const token = await c.login(who.email);
    expect((await c.call(token, 'GET', `Patient/${p1.id}`)).status).toBe(200);
    expect((await c.call(token, 'GET', `Patient/${p2.id}`)).status).toBe(200);
    expect((await c.call(token, 'GET', `Patient/${p3.id}`)).status).toBe(404);
    expect((await c.call(token, 'GET', 'Patient')).body.total).toBe(2);
  });

  it('9. non-admins cannot read or write User/Project/ProjectMembership; an admin sees only their project', async () => {
    c = createClinic();
    const other = c.newProject('Other Clinic');
    const otherAdmin = await c.person('OtherAdmin', { admin: true }, other);
    const nurse = await c.person('Nurse', {});
    const admin = await c.person('Admin', { admin: true });
    const nt = await c.login(nurse.email);
    for (const path of ['User', 'ProjectMembership', 'AccessPolicy', `User/${nurse.user}`, `ProjectMembership/${nurse.membership}`, `Project/${c.project}`]) {
      expect((await c.call(nt, 'GET', path)).status, path).toBe(403);
    }
    expect((await c.call(nt, 'POST', 'AccessPolicy', { resourceType: 'AccessPolicy', resource: [{ resourceType: '*' }] })).status).toBe(403);
    const at = await c.login(admin.email);
    const users = await c.call(at, 'GET', 'User');
    expect(users.status).toBe(200);
    expect(users.text).not.toContain(otherAdmin.email);
    expect(users.text).not.toMatch(/\$2[aby]\$/); // no bcrypt hash, ever
    expect(users.text).toContain(nurse.email);
    const members = await c.call(at, 'GET', 'ProjectMembership');
    expect(members.body.entry.map((e: any) => e.resource.id)).not.toContain(otherAdmin.membership);
    expect((await c.call(at, 'GET', `User/${otherAdmin.user}`)).status).toBe(404);
    expect((await c.call(at, 'GET', `Project/${c.project}`)).status).toBe(200);
    expect((await c.call(at, 'GET', `Project/${other}`)).status).toBe(404);
    // admin does not bypass the policy for clinical data: no policy = default access, but AuditEvents are append-only
    const audit = await c.call(at, 'GET', 'AuditEvent?_count=1');
    expect(audit.status).toBe(200);
    const ae = audit.body.entry[0].resource;
    expect((await c.call(at, 'PUT', `AuditEvent/${ae.id}`, ae)).status).toBe(403);
    expect((await c.call(at, 'DELETE', `AuditEvent/${ae.id}`)).status).toBe(403);
  });
});
