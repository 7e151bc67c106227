// Failed sign-ins delay the next attempt instead of locking the account for 15 minutes, and a delay can
// be lifted: by a project administrator over the admin routes (audited, their project's members only),
// and by the workstation owner with `outpost unlock <email>` on the data folder (audited) — the way back
// in when someone kept failing the only administrator's sign-in.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEvent } from '@medplum/fhirtypes';
import { afterEach, describe, expect, it } from 'vitest';
import { createHost } from '../../electron/host/host.ts';
import { readOrCreateDatabaseKey } from '../../electron/host/paths.ts';
import { createClinic, PASSWORD, type TestClinic } from '../access-enforce/helpers.ts';
import { loginThroughDoor } from '../helpers/door-login.ts';
import { tempDir } from '../host/helpers.ts';
import { repoRoot } from '../store/helpers.ts';

let c: TestClinic | undefined;
const dirs: string[] = [];
afterEach(() => {
  c?.close();
  c = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function auditEvents(db: { prepare(sql: string): { pluck(): { all(): unknown[] } } }): AuditEvent[] {
  return (db.prepare("SELECT content FROM resource WHERE type = 'AuditEvent' ORDER BY rid").pluck().all() as string[]).map((x) => JSON.parse(x));
}
const codes = (e: AuditEvent) => (e.subtype ?? []).map((s) => s.code);

describe('an administrator lifts a member\'s sign-in delay', () => {
  it('over the admin route: the member signs in at once; audited; other members and projects are refused', async () => {
    c = createClinic();
    const admin = await c.person('Admin', { admin: true });
    const nurse = await c.person('Nurse', {});
    const adminToken = await c.login(admin.email);
    for (let i = 0; i < 5; i++) {
      await expect(c.login(nurse.email, undefined, 'wrong-password-x')).rejects.toThrow(/Email or password is invalid/);
    }
    const refused = await c.login(nurse.email).catch((e) => e.reply);
    expect(refused.text).toContain('Try again in 30 seconds');
    expect(refused.text).not.toContain('15 minutes.'); // no hard lock of the account

    // Someone who is not an admin of this project cannot.
    const plain = await c.person('Plain', {});
    const plainToken = await c.login(plain.email);
    expect((await c.call(plainToken, 'POST', `/admin/projects/${c.project}/members/${nurse.membership}/unlock`)).status).toBe(403);
    const other = c.newProject('Elsewhere');
    const otherAdmin = await c.person('OtherAdmin', { admin: true }, other);
    const otherToken = await c.login(otherAdmin.email);
    expect((await c.call(otherToken, 'POST', `/admin/projects/${other}/members/${nurse.membership}/unlock`)).status).toBe(404);
    expect(await c.login(nurse.email).catch((e) => e.reply.status)).toBe(400);

    const unlocked = await c.call(adminToken, 'POST', `/admin/projects/${c.project}/members/${nurse.membership}/unlock`);
    expect(unlocked.status, unlocked.text).toBe(200);
    expect(unlocked.body).toEqual({ unlocked: true, failedAttemptsForgotten: 5 });
    expect(await c.login(nurse.email)).toBeTruthy();

    const events = auditEvents(c.host.rawStore.db);
    const action = events.find((e) => codes(e).includes('login-unlocked') && e.type?.code === 'rest' && e.meta?.project === c?.project);
    expect(action).toMatchObject({ outcome: '0', entity: [{ what: { reference: `ProjectMembership/${nurse.membership}` } }] });
    expect(action?.agent?.[0]?.who?.reference).toBe(admin.profile);
    const auth = events.find((e) => codes(e).includes('login-unlocked') && e.type?.code === '110114');
    expect(auth?.outcomeDesc).toContain('5 failed attempt(s) forgotten by an administrator');
    // The other project's admin tried, was refused (404), and that is in their project's audit.
    expect(events.some((e) => codes(e).includes('login-unlocked') && e.outcome !== '0' && e.meta?.project === other)).toBe(true);
  });
});

describe('outpost unlock <email>', () => {
  it("lets the workstation owner back into the only admin account someone kept failing to sign in to; audited", async () => {
    const dataDir = tempDir('outpost-unlock-');
    dirs.push(dataDir);
    const key = readOrCreateDatabaseKey(dataDir);
    const email = 'owner@clinic.example';
    let host = createHost({ dataDir, key });
    const setup = await host.handle({
      method: 'POST',
      path: '/outpost/setup',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ projectName: 'Clinic', firstName: 'Olive', lastName: 'Owner', email, password: PASSWORD }),
    });
    expect(setup.status, JSON.stringify(setup.body)).toBeLessThan(300);
    for (let i = 0; i < 5; i++) {
      await expect(loginThroughDoor(host, email, 'someone-guessing', () => undefined)).rejects.toThrow();
    }
    await expect(loginThroughDoor(host, email, PASSWORD, () => undefined)).rejects.toThrow(/Try again in/);
    host.close();

    const run = spawnSync(process.execPath, [join(repoRoot, 'bin', 'outpost.mjs'), 'unlock', email, '--data', dataDir], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`Sign-in of ${email} unlocked: 5 failed attempts forgotten\n`);

    host = createHost({ dataDir, key });
    try {
      expect(await loginThroughDoor(host, email, PASSWORD, () => undefined)).toBeTruthy();
      const unlock = auditEvents(host.rawStore.db).find((e) => codes(e).includes('login-unlocked'));
      expect(unlock?.outcomeDesc).toBe('5 failed attempt(s) forgotten by outpost unlock (the command line of the workstation)');
    } finally {
      host.close();
    }
  }, 300_000);
});
