// Sessions: lockout after failed logins, idle lock and unlock, logout, role switch, deactivation,
// refresh rotation; and no secret in any answer of the service.
import type { ProjectMembership, User } from '@medplum/fhirtypes';
import { afterEach, describe, expect, it } from 'vitest';
import { isFhirError } from '../../shared/errors.ts';
import { isSessionLockedOutcome } from '../../electron/host/auth/auth-errors.ts';
import { totpAt } from '../../electron/host/auth/totp.ts';
import { CHALLENGE, createTestAuth, loginAs, PASSWORD, VERIFIER, type TestAuth } from './helpers.ts';

let t: TestAuth;
afterEach(() => t?.close());

function caught(fn: () => unknown): { status: number; text: string; locked: boolean } {
  try {
    fn();
  } catch (err) {
    if (isFhirError(err)) {
      return { status: err.status, text: err.outcome.issue[0].details?.text ?? '', locked: isSessionLockedOutcome(err.outcome) };
    }
    throw err;
  }
  throw new Error('expected an error');
}

const attempt = (password: string, email = 'jennifer@example.org') =>
  t.auth.login({ email, password, codeChallenge: CHALLENGE, codeChallengeMethod: 'S256' });

describe('lockout: growing delays, not a hard lock', () => {
  it('4 wrong passwords cost nothing; the 5th makes the next attempt wait 30 s, then each failure doubles it up to 15 minutes', async () => {
    t = createTestAuth();
    for (let i = 0; i < 5; i++) {
      await expect(attempt('wrong-password')).rejects.toThrow('Email or password is invalid');
    }
    // The right password during the delay is refused unchecked, and says how long to wait.
    await expect(attempt(PASSWORD)).rejects.toThrow(/locked .* Try again in 30 seconds/);
    t.advance(29_000);
    await expect(attempt(PASSWORD)).rejects.toThrow(/Try again in 1 second\b/);
    t.advance(1_000);
    expect((await attempt(PASSWORD)).code).toBeTruthy();

    // Failures keep counting until a success: the waits double, and stop growing at 15 minutes.
    t = createTestAuth();
    const waits: number[] = [];
    for (let i = 0; i < 11; i++) {
      await expect(attempt('wrong-password')).rejects.toThrow('Email or password is invalid');
      if (i < 4) continue; // the right password now would reset the count
      const refused = await attempt(PASSWORD).then(
        () => 'accepted',
        (err: Error) => err.message,
      );
      const wait = /Try again in (\d+) (second|minute)/.exec(refused);
      waits.push(wait ? Number(wait[1]) * (wait[2] === 'minute' ? 60 : 1) : 0);
      t.advance(waits[waits.length - 1] * 1000);
    }
    expect(waits).toEqual([30, 60, 120, 240, 480, 900, 900]);
    expect((await attempt(PASSWORD)).code).toBeTruthy();
    const types = t.audit.map((e) => e.type);
    expect(types.filter((x) => x === 'login-failure')).toHaveLength(11);
    expect(types.filter((x) => x === 'lockout')).toHaveLength(7);
    expect(types.filter((x) => x === 'login-refused-locked-out')).toHaveLength(7);
    expect(t.audit.find((e) => e.type === 'lockout')).toMatchObject({ email: 'jennifer@example.org', userId: t.clinic.nurse.user.id, reason: 'too many failed logins: next attempt in 30 seconds' });
  });

  it('an administrator lifts the delay at once; the unlock is audited', async () => {
    t = createTestAuth();
    for (let i = 0; i < 7; i++) {
      t.advance(5 * 60_000); // past each delay
      await expect(attempt('wrong-password')).rejects.toThrow('Email or password is invalid');
    }
    await expect(attempt(PASSWORD)).rejects.toThrow(/locked/);
    expect(t.auth.unlockLogin({ userId: t.clinic.nurse.user.id }, 'an administrator (Practitioner/x)')).toBe(7);
    expect((await attempt(PASSWORD)).code).toBeTruthy();
    expect(t.audit.find((e) => e.type === 'login-unlocked')).toMatchObject({
      email: 'jennifer@example.org',
      userId: t.clinic.nurse.user.id,
      reason: '7 failed attempt(s) forgotten by an administrator (Practitioner/x)',
    });
    expect(() => t.auth.unlockLogin({ userId: 'no-such-user' }, 'x')).toThrow(/no email/);
  });

  it('a success in between resets the count (failures must be consecutive)', async () => {
    t = createTestAuth();
    for (let i = 0; i < 4; i++) {
      await expect(attempt('wrong-password')).rejects.toThrow();
    }
    expect((await attempt(PASSWORD)).code).toBeTruthy();
    for (let i = 0; i < 4; i++) {
      await expect(attempt('wrong-password')).rejects.toThrow('Email or password is invalid');
    }
    expect((await attempt(PASSWORD)).code).toBeTruthy();
  });

  it('an unknown email locks out the same way (the lockout reveals nothing)', async () => {
    t = createTestAuth();
    for (let i = 0; i < 5; i++) {
      await expect(attempt('wrong-password', 'ghost@example.org')).rejects.toThrow('Email or password is invalid');
    }
    await expect(attempt('wrong-password', 'ghost@example.org')).rejects.toThrow(/locked/);
    // Other accounts are unaffected: the delay is one email's, never the workstation's.
    expect((await attempt(PASSWORD)).code).toBeTruthy();
  });

  it('concurrent attempts cannot outrun the lockout while bcrypt is busy', async () => {
    t = createTestAuth();
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => attempt('wrong-password')));
    const messages = results.map((r) => (r.status === 'rejected' ? String((r.reason as Error).message) : 'accepted'));
    expect(messages.filter((m) => m === 'Email or password is invalid')).toHaveLength(5);
    expect(messages.filter((m) => /locked/.test(m))).toHaveLength(3);
    await expect(attempt(PASSWORD)).rejects.toThrow(/locked/);
  });

  it('with MFA, 4 wrong passwords then the right one still reaches the MFA step', async () => {
    t = createTestAuth();
    const { secret } = t.auth.enrollMfa(t.clinic.nurse.user.id);
    t.auth.confirmMfa(t.clinic.nurse.user.id, totpAt(secret, Date.parse('2026-03-01T09:00:00Z')));
    t.advance(30_000);
    for (let i = 0; i < 4; i++) {
      await expect(attempt('wrong-password')).rejects.toThrow('Email or password is invalid');
    }
    const started = await attempt(PASSWORD);
    expect(started.mfaRequired).toBe(true);
    expect(t.auth.verifyMfa({ login: started.login, token: totpAt(secret, Date.parse('2026-03-01T09:00:30Z')) }).code).toBeTruthy();
  });

  it('wrong MFA codes count towards the lockout', async () => {
    t = createTestAuth();
    const { secret } = t.auth.enrollMfa(t.clinic.nurse.user.id);
    t.auth.confirmMfa(t.clinic.nurse.user.id, totpAt(secret, Date.parse('2026-03-01T09:00:00Z')));
    for (let i = 0; i < 5; i++) {
      const started = await attempt(PASSWORD);
      expect(() => t.auth.verifyMfa({ login: started.login, token: '000000' })).toThrow('Invalid MFA code');
    }
    await expect(attempt(PASSWORD)).rejects.toThrow(/locked/);
  });
});

describe('sessions', () => {
  it('idle for 15 minutes: 401 "session locked" (distinguishable), refresh refused; unlock with the password reopens it', async () => {
    t = createTestAuth();
    const tokens = await loginAs(t, 'jennifer@example.org');
    t.advance(14 * 60_000);
    expect(t.auth.authenticate(tokens.access_token).membership.id).toBe(t.clinic.nurse.membership.id);
    t.advance(15 * 60_000);
    const locked = caught(() => t.auth.authenticate(tokens.access_token));
    expect(locked).toMatchObject({ status: 401, locked: true });
    expect(caught(() => t.auth.authenticate('not-a-token')).locked).toBe(false);
    expect(() => t.auth.refresh({ refresh_token: tokens.refresh_token ?? '' })).toThrow(/locked/);
    await expect(t.auth.unlock(tokens.access_token, 'wrong-password')).rejects.toThrow('Email or password is invalid');
    expect(caught(() => t.auth.authenticate(tokens.access_token)).locked).toBe(true);
    const session = await t.auth.unlock(tokens.access_token, PASSWORD);
    expect(session.user?.id).toBe(t.clinic.nurse.user.id);
    expect(t.auth.authenticate(tokens.access_token).id).toBe(session.id);
    expect(t.audit.map((e) => e.type)).toEqual(expect.arrayContaining(['session-locked', 'unlock-failure', 'unlock']));
  });

  it('the idle time is configurable', async () => {
    t = createTestAuth({ idleLockMs: 60_000 });
    const tokens = await loginAs(t, 'jennifer@example.org');
    t.advance(60_000);
    expect(caught(() => t.auth.authenticate(tokens.access_token)).locked).toBe(true);
  });

  it('programs (client credentials) do not idle-lock', () => {
    t = createTestAuth();
    const tokens = t.auth.clientCredentials({ client_id: t.clinic.client.app.id, client_secret: t.clinic.client.secret });
    t.advance(50 * 60_000);
    expect(t.auth.authenticate(tokens.access_token).authMethod).toBe('client_credentials');
  });

  it('logout ends the session and its refresh token', async () => {
    t = createTestAuth();
    const tokens = await loginAs(t, 'jennifer@example.org');
    t.auth.logout(tokens.access_token);
    expect(caught(() => t.auth.authenticate(tokens.access_token))).toMatchObject({ status: 401, locked: false });
    expect(() => t.auth.refresh({ refresh_token: tokens.refresh_token ?? '' })).toThrow();
    expect(t.audit.at(-1)).toMatchObject({ type: 'logout', userId: t.clinic.nurse.user.id });
  });

  it('access tokens expire (1 hour); refresh rotates both tokens; a reused refresh token ends the session', async () => {
    t = createTestAuth({ idleLockMs: 2 * 60 * 60_000 });
    const first = await loginAs(t, 'jennifer@example.org');
    t.advance(60 * 60_000);
    expect(caught(() => t.auth.authenticate(first.access_token)).text).toBe('Access token expired');
    const second = t.auth.refresh({ refresh_token: first.refresh_token ?? '' });
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(t.auth.authenticate(second.access_token).user?.id).toBe(t.clinic.nurse.user.id);
    expect(() => t.auth.refresh({ refresh_token: first.refresh_token ?? '' })).toThrow('Invalid refresh token');
    expect(caught(() => t.auth.authenticate(second.access_token)).status).toBe(401);
  });

  it('sessions end after their absolute lifetime', async () => {
    t = createTestAuth({ sessionTtlMs: 30 * 60_000 });
    const tokens = await loginAs(t, 'jennifer@example.org');
    t.advance(10 * 60_000);
    const refreshed = t.auth.refresh({ refresh_token: tokens.refresh_token ?? '' });
    expect(refreshed.expires_in).toBe(20 * 60);
    t.advance(10 * 60_000);
    t.auth.authenticate(refreshed.access_token);
    t.advance(10 * 60_000);
    expect(caught(() => t.auth.authenticate(refreshed.access_token)).status).toBe(401);
  });

  it('role switch: the same token acts as the other membership from the next authenticate, no password', async () => {
    t = createTestAuth();
    const { doctor, nurse } = t.clinic;
    const tokens = await loginAs(t, 'sarah.chen@example.org', doctor.practitionerMembership.id);
    const before = t.auth.authenticate(tokens.access_token);
    expect(before.profile.reference).toBe(`Practitioner/${doctor.practitioner.id}`);
    const switched = t.auth.switchRole(before, doctor.patientMembership.id);
    expect(switched.membership.id).toBe(doctor.patientMembership.id);
    const after = t.auth.authenticate(tokens.access_token);
    expect(after.profile.reference).toBe(`Patient/${doctor.patient.id}`);
    expect(after.id).toBe(before.id);
    expect(t.auth.me(after).profile).toMatchObject({ resourceType: 'Patient', id: doctor.patient.id });
    expect(t.audit.at(-1)).toMatchObject({ type: 'role-switch', membershipId: doctor.patientMembership.id, previousMembershipId: doctor.practitionerMembership.id });
    // Not someone else's membership, not an inactive one.
    expect(caught(() => t.auth.switchRole(after, nurse.membership.id)).status).toBe(403);
    t.store.update({ ...doctor.practitionerMembership, active: false }, undefined, { project: t.clinic.project.id });
    expect(caught(() => t.auth.switchRole(after, doctor.practitionerMembership.id)).status).toBe(403);
  });

  it('a deactivated membership ends its sessions (explicitly, and at the next request in any case)', async () => {
    t = createTestAuth();
    const { nurse, doctor, project } = t.clinic;
    const nurseTokens = await loginAs(t, 'jennifer@example.org');
    const doctorTokens = await loginAs(t, 'sarah.chen@example.org', doctor.practitionerMembership.id);
    t.store.update<ProjectMembership>({ ...nurse.membership, active: false }, undefined, { project: project.id });
    expect(t.auth.endSessionsForMembership(nurse.membership.id)).toBe(1);
    expect(caught(() => t.auth.authenticate(nurseTokens.access_token)).status).toBe(401);
    // Without the explicit call, the next request sees the inactive membership and ends the session.
    t.store.update<ProjectMembership>({ ...doctor.practitionerMembership, active: false }, undefined, { project: project.id });
    expect(caught(() => t.auth.authenticate(doctorTokens.access_token)).status).toBe(401);
    t.store.update<ProjectMembership>({ ...doctor.practitionerMembership, active: true }, undefined, { project: project.id });
    expect(caught(() => t.auth.authenticate(doctorTokens.access_token)).status).toBe(401);
  });

  it('setPassword: the new password works, the old one not; short passwords refused', async () => {
    t = createTestAuth();
    const { nurse } = t.clinic;
    await expect(t.auth.setPassword(nurse.user.id, 'short')).rejects.toThrow(/at least 8/);
    await t.auth.setPassword(nurse.user.id, 'a-brand-new-password');
    await expect(attempt(PASSWORD)).rejects.toThrow('Email or password is invalid');
    expect((await attempt('a-brand-new-password')).code).toBeTruthy();
  });
});

describe('housekeeping', () => {
  it('purgeExpired removes finished logins, expired refresh tokens and old sessions, not live ones', async () => {
    t = createTestAuth({ sessionTtlMs: 60 * 60_000, idleLockMs: 60 * 60_000 });
    const old = await loginAs(t, 'jennifer@example.org');
    t.auth.logout(old.access_token);
    t.advance(2 * 60 * 60_000);
    const live = await loginAs(t, 'jennifer@example.org');
    expect(t.auth.purgeExpired()).toBeGreaterThan(0);
    expect(t.store.db.prepare('SELECT count(*) AS n FROM auth_session').get()).toEqual({ n: 1 });
    expect(t.auth.authenticate(live.access_token).user?.id).toBe(t.clinic.nurse.user.id);
    expect(t.auth.refresh({ refresh_token: live.refresh_token ?? '' }).access_token).toBeTruthy();
  });
});

describe('secrets never leave the service', () => {
  it('no passwordHash, mfaSecret, client secret, code or refresh token hash in any answer', async () => {
    t = createTestAuth();
    const { nurse, doctor, client, project } = t.clinic;
    const { secret: mfaSecret } = t.auth.enrollMfa(doctor.user.id);
    t.auth.confirmMfa(doctor.user.id, totpAt(mfaSecret, Date.parse('2026-03-01T09:00:00Z')));
    t.advance(30_000);
    const answers: unknown[] = [];
    const keep = <T>(x: T): T => {
      answers.push(x);
      return x;
    };
    const nurseTokens = keep(await loginAs(t, 'jennifer@example.org'));
    const nurseSession = keep(t.auth.authenticate(nurseTokens.access_token));
    keep(t.auth.me(nurseSession));
    keep(t.auth.refresh({ refresh_token: nurseTokens.refresh_token ?? '' }));
    const started = keep(await attempt(PASSWORD, 'sarah.chen@example.org'));
    const verified = keep(t.auth.verifyMfa({ login: started.login, token: totpAt(mfaSecret, Date.parse('2026-03-01T09:00:30Z')) }));
    const chosen = keep(t.auth.chooseProfile({ login: verified.login, profile: doctor.patientMembership.id }));
    const doctorTokens = keep(t.auth.exchangeCode({ code: chosen.code ?? '', code_verifier: VERIFIER }));
    const doctorSession = keep(t.auth.authenticate(doctorTokens.access_token));
    keep(t.auth.me(doctorSession));
    keep(t.auth.switchRole(doctorSession, doctor.practitionerMembership.id));
    const clientTokens = keep(t.auth.clientCredentials({ client_id: client.app.id, client_secret: client.secret }));
    keep(t.auth.me(keep(t.auth.authenticate(clientTokens.access_token))));

    const doctorUser = t.store.read<User>('User', doctor.user.id, { project: project.id });
    const json = JSON.stringify(answers);
    expect(doctorUser.mfaSecret).toBe(mfaSecret);
    for (const secret of [nurse.user.passwordHash ?? '', doctorUser.passwordHash ?? '', mfaSecret, client.secret]) {
      expect(secret.length).toBeGreaterThan(10);
      expect(json).not.toContain(secret);
    }
    expect(json).not.toContain('passwordHash');
    expect(json).not.toContain('mfaSecret');
    // The database holds tokens only as hashes.
    const dump = JSON.stringify(t.store.db.prepare('SELECT * FROM auth_session').all()) + JSON.stringify(t.store.db.prepare('SELECT * FROM auth_refresh_token').all());
    for (const token of [nurseTokens.access_token, nurseTokens.refresh_token ?? 'x', doctorTokens.access_token, clientTokens.access_token]) {
      expect(dump).not.toContain(token);
      expect(dump).not.toContain(token.split('.').at(-1));
    }
  });
});
