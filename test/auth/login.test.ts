// The login flow against a real store: one and several memberships, profile choice, PKCE, single-use
// codes, MFA, client credentials, and the generic error for unknown email and wrong password.
import { afterEach, describe, expect, it } from 'vitest';
import { isFhirError } from '../../shared/errors.ts';
import { authOutcomeCode, OAUTH_ERROR_SYSTEM } from '../../electron/host/auth/auth-errors.ts';
import { totpAt } from '../../electron/host/auth/totp.ts';
import { CHALLENGE, createTestAuth, loginAs, PASSWORD, VERIFIER, type TestAuth } from './helpers.ts';

let t: TestAuth;
afterEach(() => t?.close());

async function rejection(p: Promise<unknown> | (() => unknown)): Promise<{ status: number; text: string; oauth?: string }> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    if (isFhirError(err)) {
      return { status: err.status, text: err.outcome.issue[0].details?.text ?? '', oauth: authOutcomeCode(err.outcome, OAUTH_ERROR_SYSTEM) };
    }
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('login', () => {
  it('one active membership: a code at once, exchanged (PKCE) for tokens of that membership', async () => {
    t = createTestAuth();
    const { nurse, project } = t.clinic;
    const started = await t.auth.login({ email: 'JENNIFER@example.org ', password: PASSWORD, codeChallenge: CHALLENGE, codeChallengeMethod: 'S256' });
    expect(started.code).toBeTruthy();
    expect(started.memberships).toBeUndefined();
    const tokens = t.auth.exchangeCode({ code: started.code ?? '', code_verifier: VERIFIER });
    expect(tokens).toMatchObject({
      token_type: 'Bearer',
      project: { reference: `Project/${project.id}` },
      profile: { reference: `Practitioner/${nurse.profile.id}` },
    });
    expect(tokens.expires_in).toBe(3600);
    expect(tokens.refresh_token).toBeTruthy();
    const session = t.auth.authenticate(tokens.access_token);
    expect(session.membership.id).toBe(nurse.membership.id);
    expect(session.user?.id).toBe(nurse.user.id);
    expect(session.projectId).toBe(project.id);
    expect(session.loginTime).toBe('2026-03-01T09:00:00.000Z');
    expect(t.audit.map((e) => e.type)).toEqual(['login']);
  });

  it('several memberships: the list (with profile and project names), then the chosen one', async () => {
    t = createTestAuth();
    const { doctor } = t.clinic;
    const started = await t.auth.login({ email: 'sarah.chen@example.org', password: PASSWORD, codeChallenge: CHALLENGE, codeChallengeMethod: 'S256' });
    expect(started.code).toBeUndefined();
    expect(started.memberships?.map((m) => m.id).sort()).toEqual([doctor.practitionerMembership.id, doctor.patientMembership.id].sort());
    expect(started.memberships?.[0].project.display).toBe('General Hospital');
    expect(started.memberships?.map((m) => m.profile.display)).toEqual(['Sarah Chen', 'Sarah Chen']);
    const chosen = t.auth.chooseProfile({ login: started.login, profile: doctor.patientMembership.id });
    const tokens = t.auth.exchangeCode({ code: chosen.code ?? '', code_verifier: VERIFIER });
    expect(tokens.profile.reference).toBe(`Patient/${doctor.patient.id}`);
    expect(t.auth.authenticate(tokens.access_token).membership.id).toBe(doctor.patientMembership.id);
  });

  it('a membership of someone else, or an unknown one, cannot be chosen', async () => {
    t = createTestAuth();
    const started = await t.auth.login({ email: 'sarah.chen@example.org', password: PASSWORD, codeChallenge: CHALLENGE, codeChallengeMethod: 'S256' });
    expect((await rejection(() => t.auth.chooseProfile({ login: started.login, profile: t.clinic.nurse.membership.id }))).status).toBe(400);
    expect((await rejection(() => t.auth.chooseProfile({ login: 'nope', profile: t.clinic.doctor.patientMembership.id }))).status).toBe(400);
  });

  it('unknown email and wrong password get the same 400 "Email or password is invalid"', async () => {
    t = createTestAuth();
    const unknown = await rejection(t.auth.login({ email: 'nobody@example.org', password: PASSWORD, codeChallenge: CHALLENGE, codeChallengeMethod: 'S256' }));
    const wrong = await rejection(t.auth.login({ email: 'jennifer@example.org', password: 'wrong-password', codeChallenge: CHALLENGE, codeChallengeMethod: 'S256' }));
    expect(unknown).toEqual({ status: 400, text: 'Email or password is invalid', oauth: undefined });
    expect(wrong).toEqual(unknown);
    expect(t.audit.filter((e) => e.type === 'login-failure')).toHaveLength(2);
  });

  it('PKCE is required at login and checked at the token endpoint; a wrong verifier burns the code', async () => {
    t = createTestAuth();
    expect((await rejection(t.auth.login({ email: 'jennifer@example.org', password: PASSWORD, codeChallenge: '', codeChallengeMethod: 'S256' }))).status).toBe(400);
    const started = await t.auth.login({ email: 'jennifer@example.org', password: PASSWORD, codeChallenge: CHALLENGE, codeChallengeMethod: 'S256' });
    const wrong = await rejection(() => t.auth.exchangeCode({ code: started.code ?? '', code_verifier: 'x'.repeat(43) }));
    expect(wrong).toMatchObject({ status: 400, oauth: 'invalid_grant', text: 'Invalid code verifier' });
    const retry = await rejection(() => t.auth.exchangeCode({ code: started.code ?? '', code_verifier: VERIFIER }));
    expect(retry).toMatchObject({ status: 400, oauth: 'invalid_grant' });
  });

  it('a code works once; its replay is refused and revokes the session it created', async () => {
    t = createTestAuth();
    const started = await t.auth.login({ email: 'jennifer@example.org', password: PASSWORD, codeChallenge: CHALLENGE, codeChallengeMethod: 'S256' });
    const tokens = t.auth.exchangeCode({ code: started.code ?? '', code_verifier: VERIFIER });
    expect(t.auth.authenticate(tokens.access_token)).toBeTruthy();
    expect((await rejection(() => t.auth.exchangeCode({ code: started.code ?? '', code_verifier: VERIFIER }))).oauth).toBe('invalid_grant');
    expect((await rejection(() => t.auth.authenticate(tokens.access_token))).status).toBe(401);
  });

  it('a code expires after 2 minutes', async () => {
    t = createTestAuth();
    const started = await t.auth.login({ email: 'jennifer@example.org', password: PASSWORD, codeChallenge: CHALLENGE, codeChallengeMethod: 'S256' });
    t.advance(2 * 60_000 + 1);
    expect(await rejection(() => t.auth.exchangeCode({ code: started.code ?? '', code_verifier: VERIFIER }))).toMatchObject({ text: 'Code expired' });
  });

  it('a deactivated membership cannot log in; a user with none gets a 403', async () => {
    t = createTestAuth();
    const { nurse, project } = t.clinic;
    t.store.update({ ...nurse.membership, active: false }, undefined, { project: project.id });
    const err = await rejection(t.auth.login({ email: 'jennifer@example.org', password: PASSWORD, codeChallenge: CHALLENGE, codeChallengeMethod: 'S256' }));
    expect(err.status).toBe(403);
    // The doctor keeps one active membership: login gives a code straight away.
    t.store.update({ ...t.clinic.doctor.patientMembership, active: false }, undefined, { project: project.id });
    const started = await t.auth.login({ email: 'sarah.chen@example.org', password: PASSWORD, codeChallenge: CHALLENGE, codeChallengeMethod: 'S256' });
    expect(started.code).toBeTruthy();
  });

  it('a disabled account cannot log in', async () => {
    t = createTestAuth();
    t.auth.setUserDisabled(t.clinic.nurse.user.id, true);
    expect((await rejection(loginAs(t, 'jennifer@example.org'))).status).toBe(403);
    t.auth.setUserDisabled(t.clinic.nurse.user.id, false);
    expect((await loginAs(t, 'jennifer@example.org')).access_token).toBeTruthy();
  });

  it('projectId restricts the memberships offered', async () => {
    t = createTestAuth();
    const other = await rejection(t.auth.login({ email: 'sarah.chen@example.org', password: PASSWORD, codeChallenge: CHALLENGE, codeChallengeMethod: 'S256', projectId: t.clinic.otherProject.id }));
    expect(other.status).toBe(403);
  });
});

describe('MFA', () => {
  it('enrol (otpauth URI), confirm with a code; login then asks for mfa, verify gives a code; a replayed or wrong code is refused', async () => {
    t = createTestAuth();
    const { nurse } = t.clinic;
    const { secret, enrollUri } = t.auth.enrollMfa(nurse.user.id);
    expect(enrollUri).toContain(`secret=${secret}`);
    expect(() => t.auth.confirmMfa(nurse.user.id, '000000')).toThrow(/Invalid MFA code/);
    const now = Date.parse('2026-03-01T09:00:00Z');
    t.auth.confirmMfa(nurse.user.id, totpAt(secret, now));
    const stored = t.store.read<import('@medplum/fhirtypes').User>('User', nurse.user.id, { project: t.clinic.project.id });
    expect(stored.mfaEnrolled).toBe(true);

    t.advance(30_000);
    const started = await t.auth.login({ email: 'jennifer@example.org', password: PASSWORD, codeChallenge: CHALLENGE, codeChallengeMethod: 'S256' });
    expect(started).toEqual({ login: started.login, mfaRequired: true });
    // A login waiting for MFA cannot pick a profile or produce a code.
    expect((await rejection(() => t.auth.chooseProfile({ login: started.login, profile: nurse.membership.id }))).status).toBe(400);
    // The enrolment code (an already used step) is refused: no replay.
    expect((await rejection(() => t.auth.verifyMfa({ login: started.login, token: totpAt(secret, now) }))).status).toBe(400);
    expect((await rejection(() => t.auth.verifyMfa({ login: started.login, token: '123456' }))).status).toBe(400);
    const verified = t.auth.verifyMfa({ login: started.login, token: totpAt(secret, now + 30_000) });
    expect(verified.code).toBeTruthy();
    const tokens = t.auth.exchangeCode({ code: verified.code ?? '', code_verifier: VERIFIER });
    expect(t.auth.me(t.auth.authenticate(tokens.access_token)).security.mfaEnrolled).toBe(true);
    expect(t.audit.filter((e) => e.type === 'mfa-failure')).toHaveLength(2);
  });
});

describe('client credentials', () => {
  it('a ClientApplication with a membership gets a token with its secret; a wrong secret is invalid_client', async () => {
    t = createTestAuth();
    const { client } = t.clinic;
    const tokens = t.auth.clientCredentials({ client_id: client.app.id, client_secret: client.secret });
    expect(tokens.refresh_token).toBeUndefined();
    const session = t.auth.authenticate(tokens.access_token);
    expect(session).toMatchObject({ subject: `ClientApplication/${client.app.id}`, authMethod: 'client_credentials', clientId: client.app.id });
    expect(session.membership.id).toBe(client.membership.id);
    expect(await rejection(() => t.auth.clientCredentials({ client_id: client.app.id, client_secret: client.secret + 'x' }))).toMatchObject({ status: 401, oauth: 'invalid_client' });
    expect(await rejection(() => t.auth.clientCredentials({ client_id: 'unknown', client_secret: client.secret }))).toMatchObject({ status: 401, oauth: 'invalid_client' });
    // The secret is kept only as a hash.
    const stored = t.store.db.prepare('SELECT secret_hash FROM auth_client_secret').all();
    expect(JSON.stringify(stored)).not.toContain(client.secret);
  });
});
