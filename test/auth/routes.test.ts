// The auth endpoints through the router's table, with real bodies and headers, and MedplumClient from
// @medplum/core logging in against them (startLogin -> chooseProfile -> processCode -> auth/me).
import { ClientStorage, MedplumClient, MemoryStorage } from '@medplum/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { HostResponse } from '../../shared/contract/host.ts';
import { createAccess } from '../../electron/host/access/index.ts';
import { createAuditLog } from '../../electron/host/audit/log.ts';
import { authRoutes } from '../../electron/host/auth-api/routes.ts';
import { createDoor } from '../../electron/host/door.ts';
import type { Method } from '../../electron/host/routes/router.ts';
import { CHALLENGE, createTestAuth, PASSWORD, VERIFIER, type TestAuth } from './helpers.ts';

let t: TestAuth;
afterEach(() => t?.close());

/** The auth routes behind the host's door (createDoor), over the test clinic's store; replies checked against the contract. */
function door(testAuth: TestAuth) {
  const audit = createAuditLog({ sink: { db: testAuth.store.db, createEvent: () => '' }, clock: () => new Date(), enabled: false });
  const access = createAccess({ store: testAuth.store, audit });
  const unexpected: unknown[] = [];
  const hostDoor = createDoor({ routes: authRoutes({ auth: testAuth.auth, access }), auth: testAuth.auth, access, audit, clock: () => new Date(), checkReplies: true, onUnexpectedError: (err) => unexpected.push(err) });
  const answers: HostResponse[] = [];
  async function call(method: Method, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HostResponse> {
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    if (text !== undefined && !lower['content-type']) {
      lower['content-type'] = 'application/json';
    }
    const response = await hostDoor.handle({ method, path, headers: lower, body: text });
    expect(unexpected).toEqual([]);
    answers.push(response);
    return response;
  }
  return { call, answers };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('auth routes', () => {
  it('login -> profile -> token (form body) -> me -> switch-role -> logout', async () => {
    t = createTestAuth();
    const { call, answers } = door(t);
    const { doctor } = t.clinic;
    const login = await call('POST', '/auth/login', { email: 'sarah.chen@example.org', password: PASSWORD, codeChallenge: CHALLENGE, codeChallengeMethod: 'S256', scope: 'openid' });
    expect(login.status).toBe(200);
    const { login: loginId, memberships } = login.body as { login: string; memberships: { id: string }[] };
    expect(memberships).toHaveLength(2);
    const profile = await call('POST', '/auth/profile', { login: loginId, profile: doctor.practitionerMembership.id });
    const code = (profile.body as { code: string }).code;
    const form = new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: VERIFIER, client_id: '', redirect_uri: 'http://x/' });
    const token = await call('POST', '/oauth2/token', form.toString(), { 'content-type': 'application/x-www-form-urlencoded' });
    expect(token.status).toBe(200);
    expect(token.headers['cache-control']).toBe('no-store');
    const accessToken = (token.body as { access_token: string }).access_token;

    const me = await call('GET', '/auth/me', undefined, bearer(accessToken));
    expect(me.body).toMatchObject({
      user: { resourceType: 'User', id: doctor.user.id },
      profile: { resourceType: 'Practitioner', id: doctor.practitioner.id },
      project: { resourceType: 'Project', name: 'General Hospital' },
      membership: { id: doctor.practitionerMembership.id },
    });
    const switched = await call('POST', '/auth/switch-role', { membership: doctor.patientMembership.id }, bearer(accessToken));
    expect(switched.body).toMatchObject({ profile: { resourceType: 'Patient', id: doctor.patient.id } });
    expect((await call('GET', '/auth/me', undefined, bearer(accessToken))).body).toMatchObject({ membership: { id: doctor.patientMembership.id } });

    expect((await call('POST', '/auth/logout', {}, bearer(accessToken))).status).toBe(200);
    expect((await call('GET', '/auth/me', undefined, bearer(accessToken))).status).toBe(401);

    const storedUser = t.store.read<import('@medplum/fhirtypes').User>('User', doctor.user.id, { project: t.clinic.project.id });
    const all = JSON.stringify(answers);
    expect(all).not.toContain(storedUser.passwordHash);
    expect(all).not.toContain('passwordHash');
  });

  it('JSON token bodies work too; errors at /oauth2/token are OAuth {error, error_description}', async () => {
    t = createTestAuth();
    const { call } = door(t);
    const login = await call('POST', '/auth/login', { email: 'jennifer@example.org', password: PASSWORD, codeChallenge: CHALLENGE, codeChallengeMethod: 'S256' });
    const code = (login.body as { code: string }).code;
    const wrong = await call('POST', '/oauth2/token', { grant_type: 'authorization_code', code, code_verifier: 'y'.repeat(43) });
    expect(wrong).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: 'Invalid code verifier' } });
    expect((await call('POST', '/oauth2/token', { grant_type: 'password', username: 'a' })).body).toMatchObject({ error: 'unsupported_grant_type' });
    expect((await call('POST', '/oauth2/token', { grant_type: 'authorization_code' })).body).toMatchObject({ error: 'invalid_request' });
    expect((await call('POST', '/oauth2/token', 'not json')).status).toBe(400);

    const second = await call('POST', '/auth/login', { email: 'jennifer@example.org', password: PASSWORD, codeChallenge: CHALLENGE, codeChallengeMethod: 'S256' });
    const ok = await call('POST', '/oauth2/token', { grant_type: 'authorization_code', code: (second.body as { code: string }).code, code_verifier: VERIFIER });
    expect(ok.status).toBe(200);
    const refreshed = await call('POST', '/oauth2/token', { grant_type: 'refresh_token', refresh_token: (ok.body as { refresh_token: string }).refresh_token });
    expect(refreshed.status).toBe(200);
  });

  it('client_credentials with form fields or HTTP Basic; a wrong secret is 401 invalid_client', async () => {
    t = createTestAuth();
    const { call } = door(t);
    const { app, secret } = t.clinic.client;
    const form = await call('POST', '/oauth2/token', `grant_type=client_credentials&client_id=${app.id}&client_secret=${encodeURIComponent(secret)}`, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(200);
    const basic = await call('POST', '/oauth2/token', 'grant_type=client_credentials', {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${app.id}:${secret}`).toString('base64')}`,
    });
    expect(basic.status).toBe(200);
    const me = await call('GET', '/auth/me', undefined, bearer((basic.body as { access_token: string }).access_token));
    expect(me.body).toMatchObject({ profile: { resourceType: 'ClientApplication', id: app.id } });
    expect(JSON.stringify(me.body)).not.toContain(secret);
    const wrong = await call('POST', '/oauth2/token', { grant_type: 'client_credentials', client_id: app.id, client_secret: 'nope' });
    expect(wrong).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });

  it('bad bodies are 400 OperationOutcomes naming the field; no token is 401', async () => {
    t = createTestAuth();
    const { call } = door(t);
    const missing = await call('POST', '/auth/login', { email: 'jennifer@example.org', password: PASSWORD, codeChallengeMethod: 'S256' });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ expression: ['codeChallenge'] }] });
    expect((await call('POST', '/auth/login', '{bad')).status).toBe(400);
    expect((await call('POST', '/auth/login', { email: 'a@b.c', password: 'x', codeChallenge: 'c', codeChallengeMethod: 'S256' }, { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await call('GET', '/auth/me')).status).toBe(401);
    expect((await call('GET', '/auth/me', undefined, bearer('forged.token.value'))).status).toBe(401);
    expect((await call('POST', '/auth/logout', {})).status).toBe(401);
  });

  it('idle lock through the door: 401 with the session-locked code; /auth/unlock reopens', async () => {
    t = createTestAuth();
    const { call } = door(t);
    const login = await call('POST', '/auth/login', { email: 'jennifer@example.org', password: PASSWORD, codeChallenge: CHALLENGE, codeChallengeMethod: 'S256' });
    const token = await call('POST', '/oauth2/token', { grant_type: 'authorization_code', code: (login.body as { code: string }).code, code_verifier: VERIFIER });
    const access = (token.body as { access_token: string }).access_token;
    t.advance(16 * 60_000);
    const locked = await call('GET', '/auth/me', undefined, bearer(access));
    expect(locked.status).toBe(401);
    expect(JSON.stringify(locked.body)).toContain('session-locked');
    expect((await call('POST', '/auth/unlock', { password: 'wrong-password' }, bearer(access))).status).toBe(400);
    expect((await call('POST', '/auth/unlock', { password: PASSWORD }, bearer(access))).status).toBe(200);
    expect((await call('GET', '/auth/me', undefined, bearer(access))).status).toBe(200);
  });

  it('change password checks the old one', async () => {
    t = createTestAuth();
    const { call } = door(t);
    const login = await call('POST', '/auth/login', { email: 'jennifer@example.org', password: PASSWORD, codeChallenge: CHALLENGE, codeChallengeMethod: 'S256' });
    const token = await call('POST', '/oauth2/token', { grant_type: 'authorization_code', code: (login.body as { code: string }).code, code_verifier: VERIFIER });
    const access = (token.body as { access_token: string }).access_token;
    expect((await call('POST', '/auth/changepassword', { oldPassword: 'not-it-at-all', newPassword: 'new-password-1' }, bearer(access))).status).toBe(400);
    expect((await call('POST', '/auth/changepassword', { oldPassword: PASSWORD, newPassword: 'short' }, bearer(access))).status).toBe(400);
    expect((await call('POST', '/auth/changepassword', { oldPassword: PASSWORD, newPassword: 'new-password-1' }, bearer(access))).status).toBe(200);
    const again = await call('POST', '/auth/login', { email: 'jennifer@example.org', password: 'new-password-1', codeChallenge: CHALLENGE, codeChallengeMethod: 'S256' });
    expect(again.status).toBe(200);
  });
});

describe('MedplumClient against the auth routes', () => {
  it('startLogin -> chooseProfile (auth/profile) -> processCode -> getProfile / auth/me -> signOut', async () => {
    t = createTestAuth({}, Date.now());
    const { call } = door(t);
    const { doctor } = t.clinic;
    const fetchViaDoor = async (url: string | URL, init?: RequestInit): Promise<Response> => {
      const u = new URL(url.toString());
      const headers: Record<string, string> = {};
      new Headers(init?.headers).forEach((v, k) => {
        headers[k] = v;
      });
      const res = await call((init?.method ?? 'GET') as Method, u.pathname + u.search, init?.body as string | undefined, headers);
      return new Response(res.body === undefined ? null : JSON.stringify(res.body), { status: res.status, headers: res.headers });
    };
    const g = globalThis as { sessionStorage?: Storage };
    g.sessionStorage ??= new MemoryStorage() as unknown as Storage;
    g.sessionStorage.setItem('codeVerifier', VERIFIER);
    const medplum = new MedplumClient({ baseUrl: 'http://outpost.test/', fetch: fetchViaDoor, storage: new ClientStorage(new MemoryStorage()) });

    const started = await medplum.startLogin({ email: 'sarah.chen@example.org', password: PASSWORD, codeChallenge: CHALLENGE, codeChallengeMethod: 'S256' });
    expect(started.memberships).toHaveLength(2);
    const chosen = await medplum.post('auth/profile', { login: started.login, profile: doctor.patientMembership.id });
    const profile = await medplum.processCode(chosen.code);
    expect(profile).toMatchObject({ resourceType: 'Patient', id: doctor.patient.id });
    expect(medplum.getProfile()?.id).toBe(doctor.patient.id);
    expect(medplum.getProject()?.name).toBe('General Hospital');
    expect(medplum.isAuthenticated()).toBe(true);
    const me = await medplum.get('auth/me', { cache: 'no-cache' });
    expect(me.membership.id).toBe(doctor.patientMembership.id);
    expect(JSON.stringify(me)).not.toContain('passwordHash');

    // Role switch through Outpost's endpoint, then the SDK refreshes its profile.
    await medplum.post('auth/switch-role', { membership: doctor.practitionerMembership.id });
    const after = await medplum.get('auth/me', { cache: 'no-cache' });
    expect(after.profile).toMatchObject({ resourceType: 'Practitioner', id: doctor.practitioner.id });

    const accessToken = medplum.getAccessToken() ?? '';
    await medplum.signOut();
    expect(() => t.auth.authenticate(accessToken)).toThrow();
  });

  it('startClientLogin (client_credentials)', async () => {
    t = createTestAuth({}, Date.now());
    const { call } = door(t);
    const fetchViaDoor = async (url: string | URL, init?: RequestInit): Promise<Response> => {
      const u = new URL(url.toString());
      const headers: Record<string, string> = {};
      new Headers(init?.headers).forEach((v, k) => {
        headers[k] = v;
      });
      const res = await call((init?.method ?? 'GET') as Method, u.pathname + u.search, init?.body as string | undefined, headers);
      return new Response(res.body === undefined ? null : JSON.stringify(res.body), { status: res.status, headers: res.headers });
    };
    const medplum = new MedplumClient({ baseUrl: 'http://outpost.test/', fetch: fetchViaDoor, storage: new ClientStorage(new MemoryStorage()) });
    const profile = await medplum.startClientLogin(t.clinic.client.app.id, t.clinic.client.secret);
    expect(profile).toMatchObject({ resourceType: 'ClientApplication', id: t.clinic.client.app.id });
    expect(JSON.stringify(profile)).not.toContain(t.clinic.client.secret);
  });
});
