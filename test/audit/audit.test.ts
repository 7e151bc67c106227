// AuditEvents through the door: one per interaction (success and denial), logins, failures, lockout,
// logout, role switch; append-only; searchable by admins; queued for sync; never holding hidden values.
import { afterEach, describe, expect, it } from 'vitest';
import { AUDIT_BATCH_MS, SYSTEM_AUDIT_PROJECT } from '../../electron/host/audit/log.ts';
import { pkceChallenge } from '../../electron/host/auth/tokens.ts';
import { createClinic, PASSWORD, patient, type TestClinic } from '../access-enforce/helpers.ts';

let c: TestClinic;
afterEach(() => c?.close());

const events = (c: TestClinic) => {
  c.host.audit.flush(); // reads are audited in batches (audit/log.ts, AUDIT_BATCH_MS)
  return (c.host.rawStore.db.prepare("SELECT content FROM resource WHERE type = 'AuditEvent' ORDER BY rid").pluck().all() as string[]).map((x) => JSON.parse(x));
};

describe('audit', () => {
  it('records reads, writes and denials with agent, entity, outcome and meta.project; queued for sync', async () => {
    c = createClinic();
    const policy = c.policy([{ resourceType: 'Patient', readonly: true, hiddenFields: ['birthDate'] }]);
    const who = await c.person('Reader', { accessPolicy: { reference: `AccessPolicy/${policy}` } });
    const token = await c.login(who.email);
    const p = c.seed(patient('Audited', { birthDate: '1911-11-11' }));
    await c.call(token, 'GET', `Patient/${p.id}`);
    await c.call(token, 'DELETE', `Patient/${p.id}`);
    const all = events(c);
    const read = all.find((e) => e.subtype?.[0]?.code === 'read');
    expect(read).toMatchObject({
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
      action: 'R',
      outcome: '0',
      entity: [{ what: { reference: `Patient/${p.id}` } }],
      meta: { project: c.project },
    });
    expect(read.agent.map((a: any) => a.who.reference)).toEqual([who.profile, `User/${who.user}`]);
    const denied = all.find((e) => e.subtype?.[0]?.code === 'delete');
    expect(denied).toMatchObject({ action: 'D', outcome: '4' });
    expect(denied.outcomeDesc).toMatch(/^403/);
    const login = all.find((e) => e.type.code === '110114');
    expect(login).toMatchObject({ action: 'E', outcome: '0' });
    expect(JSON.stringify(all)).not.toContain('1911-11-11');
    const queued = c.host.rawStore.db.prepare('SELECT count(*) FROM audit_outbox WHERE pushed_at IS NULL').pluck().get();
    expect(queued).toBe(all.length);
  });

  it('a burst of reads is written together, every event of it: at once for an AuditEvent search, within AUDIT_BATCH_MS without one', async () => {
    c = createClinic();
    const nurse = await c.person('Nurse', {});
    const admin = await c.person('Admin', { admin: true });
    const nt = await c.login(nurse.email);
    const at = await c.login(admin.email);
    const p = c.seed(patient('Burst'));
    const stored = (): number => c.host.rawStore.db.prepare("SELECT count(*) FROM resource WHERE type = 'AuditEvent' AND content LIKE ?").pluck().get(`%Patient/${p.id}%`) as number;
    await c.call(nt, 'GET', `Patient/${p.id}`);
    await new Promise((resolve) => setImmediate(resolve));
    expect(stored()).toBe(1); // after a quiet spell: written on the next turn
    for (let i = 0; i < 8; i++) await c.call(nt, 'GET', `Patient/${p.id}`);
    const found = await c.call(at, 'GET', `AuditEvent?entity=Patient/${p.id}&_count=100`);
    expect(found.body.total).toBe(9); // a search of AuditEvents writes the queue first
    for (let i = 0; i < 5; i++) await c.call(nt, 'GET', `Patient/${p.id}`);
    await new Promise((resolve) => setTimeout(resolve, AUDIT_BATCH_MS + 50));
    expect(stored()).toBe(14); // and without a search, within the batch time
  });

  it('admins search AuditEvents by agent, date and entity; nobody updates or deletes them; non-admins cannot read them', async () => {
    c = createClinic();
    const nurse = await c.person('Nurse', {});
    const admin = await c.person('Admin', { admin: true });
    const nt = await c.login(nurse.email);
    const p = c.seed(patient('Seen'));
    await c.call(nt, 'GET', `Patient/${p.id}`);
    const at = await c.login(admin.email);
    const found = await c.call(at, 'GET', `AuditEvent?agent=${nurse.profile}&entity=Patient/${p.id}&date=ge2026-01-01`);
    expect(found.status, found.text).toBe(200);
    expect(found.body.total).toBe(1);
    const ae = found.body.entry[0].resource;
    expect((await c.call(at, 'PUT', `AuditEvent/${ae.id}`, { ...ae, outcome: '0' })).status).toBe(403);
    expect((await c.call(at, 'DELETE', `AuditEvent/${ae.id}`)).status).toBe(403);
    expect((await c.call(at, 'POST', 'AuditEvent', { ...ae, id: undefined })).status).toBe(403);
    expect((await c.call(nt, 'GET', 'AuditEvent')).status).toBe(403);
    expect((await c.call(nt, 'GET', `AuditEvent/${ae.id}`)).status).toBe(403);
  });

  it('brute force: 5 wrong passwords lock, the 6th right one is refused, the lockout expires; all audited', async () => {
    c = createClinic();
    const who = await c.person('Target', {});
    for (let i = 0; i < 5; i++) {
      await expect(c.login(who.email, undefined, 'wrong-password-x')).rejects.toThrow();
    }
    const refused = await c.login(who.email, undefined, PASSWORD).catch((e) => e.reply);
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.text).toContain('throttled');
    c.advance(16 * 60_000);
    const token = await c.login(who.email);
    expect((await c.call(token, 'GET', 'Patient')).status).toBe(200);
    const codes = events(c).flatMap((e) => e.subtype.map((s: any) => s.code));
    expect(codes.filter((x: string) => x === 'login-failure').length).toBe(5);
    expect(codes).toContain('lockout');
    expect(codes).toContain('login-refused-locked-out');
    expect(codes).toContain('login');
  });

  it('role switch and logout are audited; the new role applies to the very next request', async () => {
    c = createClinic();
    const pat = c.seed(patient('Chen'));
    const portal = c.policy([{ resourceType: 'Patient', criteria: 'Patient?_id=%patient.id' }]);
    const who = await c.person('Sarah', {});
    const second = c.addMembership(who.user, { accessPolicy: { reference: `AccessPolicy/${portal}` }, profile: { reference: `Patient/${pat.id}` } });
    const other = c.seed(patient('Other'));
    const token = await c.login(who.email, undefined).catch(async () => '');
    const t = token || (await loginFirst(who.email));
    expect((await c.call(t, 'GET', `Patient/${other.id}`)).status).toBe(200);
    const switched = await c.call(t, 'POST', '/auth/switch-role', { membership: second.membership });
    expect(switched.status, switched.text).toBe(200);
    expect((await c.call(t, 'GET', `Patient/${other.id}`)).status).toBe(404);
    expect((await c.call(t, 'GET', `Patient/${pat.id}`)).status).toBe(200);
    await c.call(t, 'POST', '/auth/logout');
    expect((await c.call(t, 'GET', `Patient/${pat.id}`)).status).toBe(401);
    const codes = events(c).flatMap((e) => e.subtype.map((s: any) => s.code));
    expect(codes).toContain('role-switch');
    expect(codes).toContain('logout');

    async function loginFirst(email: string): Promise<string> {
      const members = c.host.rawStore.db.prepare("SELECT id FROM resource WHERE type = 'ProjectMembership' AND json_extract(content, '$.user.reference') = ? ORDER BY rid").pluck().all(`User/${who.user}`) as string[];
      return c.login(email, members[0]);
    }
  });
});

describe('failed logins that belong to no project', () => {
  const attempt = (c: TestClinic, email: string, password: string) =>
    c.call(undefined, 'POST', '/auth/login', { email, password, codeChallenge: pkceChallenge('v'.repeat(43), 'S256'), codeChallengeMethod: 'S256' });
  const projectsOf = (c: TestClinic, code: string) =>
    events(c)
      .filter((e) => e.subtype.some((s: any) => s.code === code))
      .map((e) => e.meta.project);

  it('an unknown email is a system-level audit: no tenant holds it, no project admin reads it, a password typed as email is not kept', async () => {
    c = createClinic();
    const admin = await c.person('Admin', { admin: true });
    expect((await attempt(c, 'Nobody@Example.org', 'whatever-123')).status).toBe(400);
    // a password typed into the email field (the service itself, past the route's email check)
    await expect(c.host.auth.login({ email: 'my secret passphrase', password: 'x', codeChallenge: 'c', codeChallengeMethod: 'plain' })).rejects.toThrow();
    for (let i = 0; i < 4; i++) await attempt(c, 'nobody@example.org', 'again-and-again');
    expect(projectsOf(c, 'login-failure')).toEqual(Array(6).fill(SYSTEM_AUDIT_PROJECT));
    expect(projectsOf(c, 'lockout')).toEqual([SYSTEM_AUDIT_PROJECT]);
    const unknown = events(c).filter((e) => e.meta.project === SYSTEM_AUDIT_PROJECT);
    expect(unknown[0].agent[0].who).toEqual({ display: 'nobody@example.org' });
    expect(unknown[1].agent[0].who).toEqual({ display: 'unknown (not an email address)' });
    expect(JSON.stringify(events(c))).not.toContain('secret passphrase');
    const seen = await c.call(await c.login(admin.email), 'GET', 'AuditEvent?_count=1000');
    expect(seen.status).toBe(200);
    expect(seen.text).not.toMatch(/nobody@example\.org|not an email address/);
    expect(seen.body.entry.every((e: any) => e.resource.meta.project === c.project)).toBe(true);
    // the host's own system context (the workstation owner) reads them
    const system = c.host.access.system(SYSTEM_AUDIT_PROJECT).search('AuditEvent', '_count=100');
    expect(system.entry).toHaveLength(7);
  });

  it("a member's wrong password is audited in the member's own project, never in another", async () => {
    c = createClinic();
    const other = c.newProject('Other clinic');
    const member = await c.person('Elsewhere', {}, other);
    const adminHere = await c.person('AdminHere', { admin: true });
    const adminThere = await c.person('AdminThere', { admin: true }, other);
    expect((await attempt(c, member.email, 'wrong-password-1')).status).toBe(400);
    expect(projectsOf(c, 'login-failure')).toEqual([other]);
    const here = await c.call(await c.login(adminHere.email), 'GET', `AuditEvent?agent=User/${member.user}`);
    expect(here.body.entry ?? []).toHaveLength(0);
    const there = await c.call(await c.login(adminThere.email), 'GET', `AuditEvent?agent=User/${member.user}`);
    expect(there.body.entry).toHaveLength(1);
    expect(there.body.entry[0].resource.outcome).toBe('4');
  });
});
