// First run: an empty data folder offers setup once; the first person becomes the admin of the first
// project and can sign in at once; afterwards setup is refused and changes nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { memoryHost, type Door } from './helpers.ts';

const FIRST = { projectName: 'Riverside Clinic', firstName: 'Ada', lastName: 'Owner', email: 'Ada.Owner@Example.org', password: 'first-run-pass' };

describe('first-run setup', () => {
  let d: Door;
  afterEach(() => d.host.close());

  it('is offered on an empty folder, creates project, admin and profile, and the owner signs in', async () => {
    d = memoryHost();
    expect((await d.call(undefined, 'GET', '/outpost/setup')).body).toEqual({ needed: true });
    const done = await d.call(undefined, 'POST', '/outpost/setup', FIRST);
    expect(done.status).toBe(201);
    expect(done.body.user.passwordHash).toBeUndefined();
    expect(done.body.membership.admin).toBe(true);
    expect(done.body.membership.profile.reference).toMatch(/^Practitioner\//);
    expect(done.body.project.name).toBe('Riverside Clinic');
    expect((await d.call(undefined, 'GET', '/outpost/setup')).body).toEqual({ needed: false });

    const token = await d.login('ada.owner@example.org', FIRST.password);
    const me = await d.call(token, 'GET', '/auth/me');
    expect(me.body.membership.admin).toBe(true);
    expect(me.body.project.id).toBe(done.body.project.id);
    // The owner works in the project at once: a patient created is found by search.
    expect((await d.call(token, 'POST', '/fhir/R4/Patient', { resourceType: 'Patient', name: [{ family: 'First' }] })).status).toBe(201);
    expect((await d.call(token, 'GET', '/fhir/R4/Patient?name=First')).body.total).toBe(1);
    // Audited: the setup is an AuditEvent of the project.
    const audit = await d.call(token, 'GET', '/fhir/R4/AuditEvent?_count=100');
    expect(JSON.stringify(audit.body)).toContain('"code":"setup"');
  });

  it('is refused once anything exists, and a refused setup changes nothing', async () => {
    d = memoryHost();
    expect((await d.call(undefined, 'POST', '/outpost/setup', FIRST)).status).toBe(201);
    const count = (): number => d.host.rawStore.db.prepare('SELECT count(*) FROM resource').pluck().get() as number;
    const before = count();
    const again = await d.call(undefined, 'POST', '/outpost/setup', { ...FIRST, email: 'intruder@example.org' });
    expect(again.status).toBe(409);
    expect(count()).toBe(before);
    await expect(d.login('intruder@example.org', FIRST.password)).rejects.toThrow(/login 401|login 400/);
  });

  it('rejects bad input with a 400 naming the field and writes nothing', async () => {
    d = memoryHost();
    expect((await d.call(undefined, 'POST', '/outpost/setup', { ...FIRST, password: 'short' })).status).toBe(400);
    const noEmail = await d.call(undefined, 'POST', '/outpost/setup', { ...FIRST, email: 'not-an-email' });
    expect(noEmail.status).toBe(400);
    expect(JSON.stringify(noEmail.body)).toContain('email');
    expect((await d.call(undefined, 'POST', '/outpost/setup', '{not json')).status).toBe(400);
    expect((await d.call(undefined, 'GET', '/outpost/setup')).body).toEqual({ needed: true });
  });
});
