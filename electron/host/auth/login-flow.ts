// Medplum's login flow: POST /auth/login (password) -> [POST /auth/mfa/verify] -> [POST /auth/profile]
// -> POST /oauth2/token (authorization_code + PKCE). A login row carries the state between the steps;
// the code it finally issues is single-use, short-lived and stored hashed. Also the client_credentials
// grant for ClientApplications.
import { randomUUID } from 'node:crypto';
import { getDisplayString, type WithId } from '@medplum/core';
import type { Project, ProjectMembership, User } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import { invalidCredentials, oauthError } from './auth-errors.ts';
import type { AuthContext } from './context.ts';
import { activeLockout, clearFailures, delayReason, lockedOutError, recordFailure, undoFailure } from './lockout.ts';
import { verifyPassword } from './passwords.ts';
import { signInFirstTime, verifyWithRemote } from './remote-login.ts';
import { endSession, isDisabled, startSession } from './sessions.ts';
import { constantTimeEqual, hashToken, randomToken, verifyPkce, type CodeChallengeMethod } from './tokens.ts';
import { verifyTotp } from './totp.ts';
import type { CodeExchangeRequest, LoginRequest, LoginResponse, TokenResponse } from './types.ts';
import { membershipChoice } from './views.ts';

interface LoginRow {
  id: string;
  user_id: string;
  email: string;
  project_id: string | null;
  client_id: string | null;
  code_challenge: string;
  code_challenge_method: CodeChallengeMethod;
  membership_id: string | null;
  mfa_required: number;
  mfa_verified: number;
  code_used: number;
  code_expires: number | null;
  session_id: string | null;
  expires: number;
}

export async function startLogin(ctx: AuthContext, req: LoginRequest): Promise<LoginResponse> {
  const email = req.email.trim().toLowerCase();
  const now = ctx.now();
  if (!req.codeChallenge || (req.codeChallengeMethod !== 'S256' && req.codeChallengeMethod !== 'plain')) {
    // Outpost requires PKCE on every login (MedplumClient always sends it): a code alone never yields a token.
    throw errors.badRequest('codeChallenge and codeChallengeMethod (S256 or plain) are required', 'codeChallenge');
  }
  const lockout = activeLockout(ctx.db, email, now);
  if (lockout) {
    ctx.audit({ type: 'login-refused-locked-out', outcome: 'failure', email, reason: 'sign-in delayed after failed logins' });
    throw lockedOutError(lockout, now);
  }
  // Counted as a failure before the (slow, awaited) bcrypt check, so concurrent attempts cannot all
  // slip past the lockout check while the first ones are still being verified.
  const delayByThis = recordFailure(ctx.db, email, now);
  const known = ctx.dir.userByEmail(email, req.projectId);
  // A member whose User was never pulled (server-scoped on the remote) signs in online the first time;
  // a User pulled without a password is vouched for by the remote (remote-login.ts).
  const firstTime = known ? undefined : await signInFirstTime(ctx, email, req.password, req.projectId ?? undefined);
  const user = known ?? firstTime;
  const passwordOk = firstTime !== undefined || (await verifyPassword(req.password, user?.passwordHash)) || (user !== undefined && (await verifyWithRemote(ctx, user, req.password)));
  if (!user || !passwordOk) {
    auditFailure(ctx, email, user?.id, user ? 'wrong password' : 'unknown email', delayByThis);
    throw invalidCredentials();
  }
  const mfaRequired = Boolean(user.mfaEnrolled && user.mfaSecret);
  if (mfaRequired) {
    // With MFA the count is cleared only once the code is right, or the password alone would reset
    // the MFA failures and let the 6-digit code be guessed at forever.
    undoFailure(ctx.db, email);
  } else {
    clearFailures(ctx.db, email);
  }
  if (isDisabled(ctx, user.id)) {
    ctx.audit({ type: 'login-failure', outcome: 'failure', email, userId: user.id, reason: 'account disabled' });
    throw errors.forbidden('This account is disabled');
  }
  const memberships = activeMemberships(ctx, user, req.projectId ?? undefined);
  if (memberships.length === 0) {
    ctx.audit({ type: 'login-failure', outcome: 'failure', email, userId: user.id, reason: 'no active membership' });
    throw errors.forbidden('This account has no active membership' + (req.projectId ? ' in that project' : ''));
  }
  const id = randomUUID();
  ctx.db
    .prepare(
      `INSERT INTO auth_login (id, user_id, email, project_id, client_id, code_challenge, code_challenge_method,
         membership_id, mfa_required, created, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(id, user.id, email, req.projectId ?? null, req.clientId ?? null, req.codeChallenge, req.codeChallengeMethod,
      memberships.length === 1 ? memberships[0].id : null, mfaRequired ? 1 : 0, now, now + ctx.options.loginTtlMs);
  if (mfaRequired) {
    return { login: id, mfaRequired: true };
  }
  return nextStep(ctx, readLogin(ctx, id, now), user, memberships);
}

/** POST /auth/mfa/verify: the TOTP code of a login that needs it. Failures count towards the lockout. */
export function verifyLoginMfa(ctx: AuthContext, loginId: string, token: string): LoginResponse {
  const now = ctx.now();
  const login = readLogin(ctx, loginId, now);
  if (!login.mfa_required || login.mfa_verified) {
    throw errors.badRequest('This login does not need an MFA code');
  }
  const lockout = activeLockout(ctx.db, login.email, now);
  if (lockout) {
    throw lockedOutError(lockout, now);
  }
  const user = ctx.dir.read<User>('User', login.user_id);
  const step = user?.mfaSecret ? verifyTotp(user.mfaSecret, token.trim(), now) : undefined;
  const lastStep = (ctx.db.prepare('SELECT mfa_last_step FROM auth_account WHERE user_id = ?').get(login.user_id) as
    | { mfa_last_step: number | null }
    | undefined)?.mfa_last_step;
  if (!user || step === undefined || (lastStep != null && step <= lastStep)) {
    ctx.audit({ type: 'mfa-failure', outcome: 'failure', email: login.email, userId: login.user_id });
    failLogin(ctx, login.email, login.user_id, 'wrong MFA code');
    throw errors.badRequest('Invalid MFA code', 'token');
  }
  ctx.db
    .prepare(
      `INSERT INTO auth_account (user_id, mfa_last_step) VALUES (?, ?)
       ON CONFLICT(user_id) DO UPDATE SET mfa_last_step = excluded.mfa_last_step`,
    )
    .run(login.user_id, step);
  ctx.db.prepare('UPDATE auth_login SET mfa_verified = 1 WHERE id = ?').run(login.id);
  clearFailures(ctx.db, login.email);
  return nextStep(ctx, { ...login, mfa_verified: 1 }, user, activeMemberships(ctx, user, login.project_id ?? undefined));
}

/** POST /auth/profile: picks one of the memberships offered by the login. */
export function chooseLoginProfile(ctx: AuthContext, loginId: string, membershipId: string): LoginResponse {
  const now = ctx.now();
  const login = readLogin(ctx, loginId, now);
  if (login.mfa_required && !login.mfa_verified) {
    throw errors.badRequest('MFA code required first');
  }
  const user = ctx.dir.read<User>('User', login.user_id);
  const membership = user && activeMemberships(ctx, user, login.project_id ?? undefined).find((m) => m.id === membershipId);
  if (!membership) {
    throw errors.badRequest('Profile not found for this login', 'profile');
  }
  ctx.db.prepare('UPDATE auth_login SET membership_id = ? WHERE id = ?').run(membership.id, login.id);
  return { login: login.id, code: issueCode(ctx, login.id, now) };
}

/** POST /oauth2/token, grant_type=authorization_code. */
export function exchangeAuthorizationCode(ctx: AuthContext, req: CodeExchangeRequest): TokenResponse {
  const now = ctx.now();
  const row = ctx.db.prepare('SELECT * FROM auth_login WHERE code_hash = ?').get(hashToken(req.code)) as LoginRow | undefined;
  if (!row) {
    throw oauthError('invalid_grant', 'Invalid code');
  }
  if (row.code_used) {
    // RFC 6749 §4.1.2: a code used twice revokes what it granted.
    if (row.session_id) {
      endSession(ctx, row.session_id, 'authorization code replayed');
    }
    ctx.audit({ type: 'code-replay', outcome: 'failure', userId: row.user_id, sessionId: row.session_id ?? undefined });
    throw oauthError('invalid_grant', 'Invalid code');
  }
  // Single use whatever happens next: a wrong verifier burns the code too, so it cannot be guessed at.
  ctx.db.prepare('UPDATE auth_login SET code_used = 1 WHERE id = ?').run(row.id);
  if (row.code_expires === null || row.code_expires <= now || row.expires <= now) {
    throw oauthError('invalid_grant', 'Code expired');
  }
  if (row.client_id && req.client_id && row.client_id !== req.client_id) {
    throw oauthError('invalid_grant', 'Code was issued to another client');
  }
  if (!req.code_verifier || !verifyPkce(req.code_verifier, row.code_challenge, row.code_challenge_method)) {
    throw oauthError('invalid_grant', 'Invalid code verifier');
  }
  const user = ctx.dir.read<User>('User', row.user_id);
  const membership = user && activeMemberships(ctx, user, row.project_id ?? undefined).find((m) => m.id === row.membership_id);
  if (!user || !membership || isDisabled(ctx, user.id)) {
    throw oauthError('invalid_grant', 'Membership no longer active');
  }
  const { sessionId, tokens } = startSession(ctx, {
    subject: `User/${user.id}`,
    userId: user.id,
    membership,
    authMethod: 'password',
    clientId: row.client_id ?? undefined,
  });
  ctx.db.prepare('UPDATE auth_login SET session_id = ? WHERE id = ?').run(sessionId, row.id);
  ctx.audit({
    type: 'login', outcome: 'success', email: row.email, userId: user.id, membershipId: membership.id,
    profile: membership.profile.reference, projectId: projectIdOf(membership), sessionId,
  });
  return tokens;
}

/** POST /oauth2/token, grant_type=client_credentials: a ClientApplication with an active membership. */
export function clientCredentialsGrant(ctx: AuthContext, clientId: string, clientSecret: string): TokenResponse {
  const client = ctx.dir.clientApplication(clientId);
  const stored = ctx.db.prepare('SELECT secret_hash FROM auth_client_secret WHERE client_id = ?').get(clientId) as
    | { secret_hash: string }
    | undefined;
  // Compare hashes of equal length in constant time even when the client is unknown.
  const secretOk = constantTimeEqual(hashToken(clientSecret), stored?.secret_hash ?? hashToken(randomToken()));
  if (!client || !stored || !secretOk || client.status === 'off') {
    ctx.audit({ type: 'client-login-failure', outcome: 'failure', clientId, reason: 'invalid client credentials' });
    throw oauthError('invalid_client', 'Invalid client credentials');
  }
  const membership = ctx.dir.membershipsOf(`ClientApplication/${client.id}`).find((m) => m.active !== false);
  if (!membership) {
    ctx.audit({ type: 'client-login-failure', outcome: 'failure', clientId, reason: 'no active membership' });
    throw oauthError('invalid_client', 'This client has no active membership');
  }
  const { sessionId, tokens } = startSession(ctx, {
    subject: `ClientApplication/${client.id}`,
    membership,
    authMethod: 'client_credentials',
    clientId: client.id,
  });
  ctx.audit({ type: 'client-login', outcome: 'success', clientId, membershipId: membership.id, projectId: projectIdOf(membership), sessionId });
  return tokens;
}

export function activeMemberships(ctx: AuthContext, user: WithId<User>, projectId?: string): WithId<ProjectMembership>[] {
  return ctx.dir
    .membershipsOf(`User/${user.id}`)
    .filter((m) => m.active !== false && (!projectId || projectIdOf(m) === projectId));
}

export function projectIdOf(membership: ProjectMembership): string | undefined {
  return membership.project?.reference?.split('/')[1];
}

function failLogin(ctx: AuthContext, email: string, userId: string | undefined, reason: string): void {
  auditFailure(ctx, email, userId, reason, recordFailure(ctx.db, email, ctx.now()));
}

function auditFailure(ctx: AuthContext, email: string, userId: string | undefined, reason: string, delayMs: number): void {
  ctx.audit({ type: 'login-failure', outcome: 'failure', email, userId, reason });
  if (delayMs) {
    ctx.audit({ type: 'lockout', outcome: 'failure', email, userId, reason: delayReason('failed logins', delayMs) });
  }
}

function readLogin(ctx: AuthContext, loginId: string, now: number): LoginRow {
  const row = ctx.db.prepare('SELECT * FROM auth_login WHERE id = ?').get(loginId) as LoginRow | undefined;
  if (!row || row.code_used || row.expires <= now) {
    throw errors.badRequest('Login not found or expired: sign in again', 'login');
  }
  return row;
}

/** After the password (and MFA): a code when the membership is settled, else the memberships to choose from. */
function nextStep(ctx: AuthContext, login: LoginRow, user: WithId<User>, memberships: WithId<ProjectMembership>[]): LoginResponse {
  if (memberships.length === 1) {
    ctx.db.prepare('UPDATE auth_login SET membership_id = ? WHERE id = ?').run(memberships[0].id, login.id);
    return { login: login.id, code: issueCode(ctx, login.id, ctx.now()) };
  }
  if (memberships.length === 0) {
    throw errors.forbidden('This account has no active membership');
  }
  return {
    login: login.id,
    memberships: memberships.map((m) => {
      const project = ctx.dir.readReference<Project>(m.project?.reference);
      const profile = m.profile.display ? undefined : ctx.dir.readReference(m.profile.reference);
      return membershipChoice(m, project?.name ?? m.project?.display, profile ? getDisplayString(profile) : m.profile.display);
    }),
  };
}

function issueCode(ctx: AuthContext, loginId: string, now: number): string {
  const code = randomToken();
  ctx.db.prepare('UPDATE auth_login SET code_hash = ?, code_expires = ? WHERE id = ?').run(hashToken(code), now + ctx.options.codeTtlMs, loginId);
  return code;
}
