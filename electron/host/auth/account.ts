// What a signed-in person does with their own session and account: unlock after idle, switch role,
// /auth/me, TOTP enrolment, password changes; and the admin-side hooks (client secrets, disabling).
import type { WithId } from '@medplum/core';
import type { ClientApplication, Project, ProjectMembership, Resource, User, UserConfiguration } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import { invalidCredentials } from './auth-errors.ts';
import type { AuthContext } from './context.ts';
import { activeLockout, clearFailures, delayReason, lockedOutError, recordFailure } from './lockout.ts';
import { assertAcceptablePassword, hashPassword, verifyPassword } from './passwords.ts';
import { buildSession, checkOpen, endSessionsWhere, readRow, rowByToken } from './sessions.ts';
import { hashToken, randomToken } from './tokens.ts';
import { generateTotpSecret, otpauthUri, verifyTotp } from './totp.ts';
import type { MeResponse, Session } from './types.ts';
import { publicClient, publicProject } from './views.ts';

/** POST /auth/unlock: the password of the session's User reopens an idle-locked session. */
export async function unlockSession(ctx: AuthContext, accessToken: string, password: string): Promise<Session> {
  const row = rowByToken(ctx, accessToken);
  if (!row || row.ended !== null || row.auth_method !== 'password' || !row.user_id) {
    throw errors.unauthorized('Invalid or ended session');
  }
  const user = ctx.dir.read<User>('User', row.user_id);
  const email = (user?.email ?? '').toLowerCase();
  const lockout = activeLockout(ctx.db, email, ctx.now());
  if (lockout) {
    throw lockedOutError(lockout, ctx.now());
  }
  const delay = recordFailure(ctx.db, email, ctx.now()); // ahead of the awaited check, as at login
  if (!(await verifyPassword(password, user?.passwordHash))) {
    ctx.audit({ type: 'unlock-failure', outcome: 'failure', email, userId: row.user_id, sessionId: row.id });
    if (delay) {
      ctx.audit({ type: 'lockout', outcome: 'failure', email, userId: row.user_id, reason: delayReason('failed unlocks', delay) });
    }
    throw invalidCredentials();
  }
  clearFailures(ctx.db, email);
  const session = checkOpen(ctx, row, ctx.now(), 'unlock');
  if (!session) {
    throw errors.unauthorized('Session has ended');
  }
  ctx.db.prepare('UPDATE auth_session SET locked = 0, last_activity = ? WHERE id = ?').run(ctx.now(), row.id);
  ctx.audit({ type: 'unlock', outcome: 'success', email, userId: row.user_id, sessionId: row.id, membershipId: row.membership_id });
  return session;
}

/** Outpost's role switch: the same session moves to another active membership of the same User. */
export function switchSessionRole(ctx: AuthContext, session: Session, membershipId: string): Session {
  if (session.authMethod !== 'password') {
    throw errors.forbidden('Only people can switch roles');
  }
  const target = ctx.dir.read<ProjectMembership>('ProjectMembership', membershipId);
  if (!target || target.active === false || target.user?.reference !== session.subject) {
    throw errors.forbidden('That membership is not an active role of this user');
  }
  const row = readRow(ctx, session.id);
  if (!row || row.ended !== null) {
    throw errors.unauthorized('Session has ended');
  }
  ctx.db.prepare('UPDATE auth_session SET membership_id = ?, last_activity = ? WHERE id = ?').run(target.id, ctx.now(), session.id);
  const switched = buildSession(ctx, { ...row, membership_id: target.id });
  if (!switched) {
    throw errors.forbidden('That membership is not an active role of this user');
  }
  ctx.audit({
    type: 'role-switch', outcome: 'success', userId: row.user_id ?? undefined, sessionId: session.id,
    membershipId: target.id, previousMembershipId: session.membership.id, profile: target.profile.reference,
    projectId: switched.projectId,
  });
  return switched;
}

/** GET /auth/me: Medplum's SessionDetails, with no secret of any kind. */
export function describeSession(ctx: AuthContext, session: Session): MeResponse {
  const profileResource = ctx.dir.readReference<Resource>(session.profile.reference);
  const [profileType, profileId] = (session.profile.reference ?? '').split('/');
  const profile =
    profileResource?.resourceType === 'ClientApplication'
      ? publicClient(profileResource as WithId<ClientApplication>)
      : (profileResource ?? { resourceType: profileType, id: profileId });
  const config = ctx.dir.readReference<UserConfiguration>(session.membership.userConfiguration?.reference);
  const accessPolicy = ctx.resolveAccessPolicy?.(session);
  const user = ctx.dir.read<User>('User', session.user?.id ?? '');
  return {
    user: (session.user ?? session.client ?? { resourceType: 'User' }) as unknown as Record<string, unknown>,
    profile: profile as unknown as Record<string, unknown>,
    project: publicProject(ctx.dir.read<Project>('Project', session.projectId), session.projectId),
    membership: session.membership,
    config: config ? { ...config, resourceType: 'UserConfiguration' } : { resourceType: 'UserConfiguration', menu: [] },
    ...(accessPolicy ? { accessPolicy } : {}),
    security: {
      mfaEnrolled: Boolean(user?.mfaEnrolled),
      sessionId: session.id,
      loginTime: session.loginTime,
      authMethod: session.authMethod,
    },
  };
}

export function startMfaEnrollment(ctx: AuthContext, userId: string): { secret: string; enrollUri: string } {
  const user = requireUser(ctx, userId);
  if (user.mfaEnrolled) {
    throw errors.badRequest('MFA is already enrolled for this account');
  }
  const pending = (ctx.db.prepare('SELECT mfa_pending_secret FROM auth_account WHERE user_id = ?').get(userId) as
    | { mfa_pending_secret: string | null }
    | undefined)?.mfa_pending_secret;
  const secret = pending ?? generateTotpSecret();
  ctx.db
    .prepare(
      `INSERT INTO auth_account (user_id, mfa_pending_secret) VALUES (?, ?)
       ON CONFLICT(user_id) DO UPDATE SET mfa_pending_secret = excluded.mfa_pending_secret`,
    )
    .run(userId, secret);
  return { secret, enrollUri: otpauthUri(secret, user.email ?? userId) };
}

/** Confirms enrolment with a first valid code: the secret moves onto the User (Medplum's mfaSecret). */
export function confirmMfaEnrollment(ctx: AuthContext, userId: string, token: string): void {
  const user = requireUser(ctx, userId);
  const pending = (ctx.db.prepare('SELECT mfa_pending_secret FROM auth_account WHERE user_id = ?').get(userId) as
    | { mfa_pending_secret: string | null }
    | undefined)?.mfa_pending_secret;
  if (!pending) {
    throw errors.badRequest('No MFA enrolment in progress');
  }
  const step = verifyTotp(pending, token.trim(), ctx.now());
  if (step === undefined) {
    throw errors.badRequest('Invalid MFA code', 'token');
  }
  ctx.db.transaction(() => {
    ctx.secrets.setSecrets(userId, { mfaSecret: pending, mfaEnrolled: true });
    ctx.db.prepare('UPDATE auth_account SET mfa_pending_secret = NULL, mfa_last_step = ? WHERE user_id = ?').run(step, userId);
  })();
  ctx.audit({ type: 'mfa-enrolled', outcome: 'success', email: user.email, userId });
}

export async function setUserPassword(ctx: AuthContext, userId: string, password: string): Promise<void> {
  assertAcceptablePassword(password);
  const user = requireUser(ctx, userId);
  const passwordHash = await hashPassword(password);
  // The writer re-reads the User after the (slow) hash, so a concurrent edit of it is not overwritten.
  ctx.secrets.setSecrets(userId, { passwordHash });
  clearFailures(ctx.db, (user.email ?? '').toLowerCase());
  ctx.audit({ type: 'password-set', outcome: 'success', email: user.email, userId });
}

export async function changeOwnPassword(ctx: AuthContext, session: Session, oldPassword: string, newPassword: string): Promise<void> {
  if (!session.user) {
    throw errors.forbidden('Only people have passwords');
  }
  assertAcceptablePassword(newPassword);
  const user = requireUser(ctx, session.user.id);
  const email = (user.email ?? '').toLowerCase();
  const lockout = activeLockout(ctx.db, email, ctx.now());
  if (lockout) {
    throw lockedOutError(lockout, ctx.now());
  }
  const delay = recordFailure(ctx.db, email, ctx.now()); // ahead of the awaited check, as at login
  if (!(await verifyPassword(oldPassword, user.passwordHash))) {
    if (delay) {
      ctx.audit({ type: 'lockout', outcome: 'failure', email, userId: user.id, reason: delayReason('failed password checks', delay) });
    }
    throw invalidCredentials();
  }
  await setUserPassword(ctx, user.id, newPassword);
}

/** Stores the SHA-256 of a ClientApplication secret (high-entropy, so a fast hash is enough). */
export function storeClientSecret(ctx: AuthContext, clientId: string, secret?: string): string {
  if (!ctx.dir.clientApplication(clientId)) {
    throw errors.notFound('ClientApplication not found');
  }
  if (secret !== undefined && secret.length < 32) {
    throw errors.badRequest('A client secret must be at least 32 characters', 'secret');
  }
  const value = secret ?? randomToken();
  ctx.db
    .prepare(
      `INSERT INTO auth_client_secret (client_id, secret_hash, created) VALUES (?, ?, ?)
       ON CONFLICT(client_id) DO UPDATE SET secret_hash = excluded.secret_hash, created = excluded.created`,
    )
    .run(clientId, hashToken(value), ctx.now());
  return value;
}

export function setDisabled(ctx: AuthContext, userId: string, disabled: boolean): void {
  requireUser(ctx, userId);
  ctx.db
    .prepare(
      `INSERT INTO auth_account (user_id, disabled) VALUES (?, ?)
       ON CONFLICT(user_id) DO UPDATE SET disabled = excluded.disabled`,
    )
    .run(userId, disabled ? 1 : 0);
  if (disabled) {
    endSessionsWhere(ctx, 'user_id', userId, 'account disabled');
  }
}

export function purgeExpiredRows(ctx: AuthContext): number {
  const now = ctx.now();
  let removed = 0;
  removed += ctx.db.prepare('DELETE FROM auth_login WHERE expires <= ?').run(now).changes;
  removed += ctx.db.prepare('DELETE FROM auth_refresh_token WHERE expires <= ?').run(now).changes;
  // Ended or expired sessions are kept one session lifetime for inspection; AuditEvents are the lasting record.
  const horizon = now - ctx.options.sessionTtlMs;
  removed += ctx.db.prepare('DELETE FROM auth_session WHERE (ended IS NOT NULL AND ended <= ?) OR expires <= ?').run(horizon, horizon).changes;
  removed += ctx.db.prepare('DELETE FROM auth_login_failure WHERE (locked_until IS NULL OR locked_until <= ?) AND last_failure <= ?').run(now, now - 24 * 60 * 60_000).changes;
  return removed;
}

function requireUser(ctx: AuthContext, userId: string): WithId<User> {
  const user = ctx.dir.read<User>('User', userId);
  if (!user) {
    throw errors.notFound('User not found');
  }
  return user;
}

