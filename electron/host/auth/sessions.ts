// Sessions: creation (with access and refresh tokens), lookup of a bearer token, idle lock, refresh
// rotation, ending. A session row points at a membership; every lookup re-reads that membership (and
// its User or ClientApplication), so a role switch, a deactivation or an edit counts from the very next
// request.
import { randomUUID } from 'node:crypto';
import type { WithId } from '@medplum/core';
import type { ClientApplication, ProjectMembership, User } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import { oauthError, sessionLocked } from './auth-errors.ts';
import type { AuthContext } from './context.ts';
import { createAccessToken, hashToken, randomToken } from './tokens.ts';
import type { AuthMethod, Session, TokenResponse } from './types.ts';
import { publicClient, publicUser } from './views.ts';
import { viewAsOf } from './previews.ts';

/** last_activity is written at most this often: idle lock works in minutes, not per request. */
const ACTIVITY_WRITE_INTERVAL_MS = 5_000;

export interface SessionRow {
  id: string;
  subject: string;
  user_id: string | null;
  membership_id: string;
  auth_method: AuthMethod;
  client_id: string | null;
  access_expires: number;
  created: number;
  last_activity: number;
  expires: number;
  locked: number;
  ended: number | null;
}

export interface NewSession {
  subject: string;
  userId?: string;
  membership: WithId<ProjectMembership>;
  authMethod: AuthMethod;
  clientId?: string;
}

/** Creates a session and answers with its tokens (a refresh token for people only; programs log in again). */
export function startSession(ctx: AuthContext, input: NewSession): { sessionId: string; tokens: TokenResponse } {
  const now = ctx.now();
  const id = randomUUID();
  const expires = now + ctx.options.sessionTtlMs;
  const access = newAccessToken(ctx, id, input.subject, input.membership, input.clientId, now, expires);
  ctx.db
    .prepare(
      `INSERT INTO auth_session (id, subject, user_id, membership_id, auth_method, client_id, access_hash,
         access_expires, created, last_activity, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(id, input.subject, input.userId ?? null, input.membership.id, input.authMethod, input.clientId ?? null,
      access.hash, access.expiresAt, now, now, expires);
  const refresh = input.authMethod === 'password' ? newRefreshToken(ctx, id, expires) : undefined;
  return { sessionId: id, tokens: tokenResponse(input.membership, access.token, access.expiresAt - now, refresh) };
}

/** Refresh grant: the session must be open and unlocked; both tokens are replaced (rotation). */
export function refreshSession(ctx: AuthContext, refreshToken: string): TokenResponse {
  const now = ctx.now();
  const row = ctx.db.prepare('SELECT session_id, expires, used FROM auth_refresh_token WHERE token_hash = ?').get(hashToken(refreshToken)) as
    | { session_id: string; expires: number; used: number }
    | undefined;
  if (!row || row.expires <= now) {
    throw oauthError('invalid_grant', 'Invalid refresh token');
  }
  if (row.used) {
    // A rotated token came back: someone holds a copy. End the session rather than guess which holder is legitimate.
    endSession(ctx, row.session_id, 'refresh-token-reuse');
    ctx.audit({ type: 'session-ended', outcome: 'failure', sessionId: row.session_id, reason: 'refresh token reused' });
    throw oauthError('invalid_grant', 'Invalid refresh token');
  }
  const sessionRow = readRow(ctx, row.session_id);
  const session = sessionRow && checkOpen(ctx, sessionRow, now, 'refresh');
  if (!sessionRow || !session) {
    throw oauthError('invalid_grant', 'Session has ended');
  }
  ctx.db.prepare('UPDATE auth_refresh_token SET used = 1 WHERE token_hash = ?').run(hashToken(refreshToken));
  const access = newAccessToken(ctx, sessionRow.id, sessionRow.subject, session.membership, sessionRow.client_id ?? undefined, now, sessionRow.expires);
  ctx.db.prepare('UPDATE auth_session SET access_hash = ?, access_expires = ?, last_activity = ? WHERE id = ?').run(
    access.hash, access.expiresAt, now, sessionRow.id);
  const refresh = newRefreshToken(ctx, sessionRow.id, sessionRow.expires);
  return tokenResponse(session.membership, access.token, access.expiresAt - now, refresh);
}

/** The session of a bearer token, or a 401 (unknown, expired, ended, locked, membership no longer active). */
export function authenticateToken(ctx: AuthContext, accessToken: string): Session {
  const now = ctx.now();
  const row = rowByToken(ctx, accessToken);
  if (!row || row.ended !== null) {
    throw errors.unauthorized('Invalid or ended session');
  }
  if (row.access_expires <= now) {
    throw errors.unauthorized('Access token expired');
  }
  const session = checkOpen(ctx, row, now, 'request');
  if (!session) {
    throw errors.unauthorized('Session has ended');
  }
  if (now - row.last_activity >= ACTIVITY_WRITE_INTERVAL_MS) {
    ctx.db.prepare('UPDATE auth_session SET last_activity = ? WHERE id = ?').run(now, row.id);
  }
  return session;
}

export function rowByToken(ctx: AuthContext, accessToken: string): SessionRow | undefined {
  return ctx.db.prepare('SELECT * FROM auth_session WHERE access_hash = ?').get(hashToken(accessToken)) as SessionRow | undefined;
}

export function readRow(ctx: AuthContext, id: string): SessionRow | undefined {
  return ctx.db.prepare('SELECT * FROM auth_session WHERE id = ?').get(id) as SessionRow | undefined;
}

/**
 * Validates an open session row at `now` and builds its Session; undefined when it can no longer be
 * used (ended here, with the reason). Throws sessionLocked when it is, or just became, idle-locked.
 */
export function checkOpen(ctx: AuthContext, row: SessionRow, now: number, use: 'request' | 'refresh' | 'unlock'): Session | undefined {
  if (row.ended !== null) {
    return undefined;
  }
  if (row.expires <= now) {
    endSession(ctx, row.id, 'expired');
    return undefined;
  }
  const session = buildSession(ctx, row);
  if (!session) {
    endSession(ctx, row.id, 'membership or account no longer active');
    ctx.audit({ type: 'session-ended', outcome: 'success', sessionId: row.id, membershipId: row.membership_id, reason: 'membership or account no longer active' });
    return undefined;
  }
  if (use !== 'unlock' && row.auth_method === 'password') {
    if (!row.locked && now - row.last_activity >= ctx.options.idleLockMs) {
      ctx.db.prepare('UPDATE auth_session SET locked = 1 WHERE id = ?').run(row.id);
      row.locked = 1;
      ctx.audit({ type: 'session-locked', outcome: 'success', sessionId: row.id, userId: row.user_id ?? undefined, membershipId: row.membership_id, reason: 'idle' });
    }
    if (row.locked) {
      throw sessionLocked();
    }
  }
  return session;
}

/** The Session of a row from the current identity resources, or undefined when any is gone or inactive. */
export function buildSession(ctx: AuthContext, row: SessionRow): Session | undefined {
  const membership = ctx.dir.read<ProjectMembership>('ProjectMembership', row.membership_id);
  if (!membership || membership.active === false || membership.user?.reference !== row.subject) {
    return undefined;
  }
  const projectId = membership.project?.reference?.split('/')[1];
  if (!projectId) {
    return undefined;
  }
  // A "view as" preview lives only as long as its administrator's session (and admin rights) do.
  const viewAs = viewAsOf(ctx, row.id);
  if (viewAs === undefined) {
    return undefined;
  }
  const base = {
    ...(viewAs ? { viewAs } : {}),
    id: row.id,
    subject: row.subject,
    membership,
    profile: membership.profile,
    project: membership.project,
    projectId,
    loginTime: new Date(row.created).toISOString(),
    authMethod: row.auth_method,
    ...(row.client_id ? { clientId: row.client_id } : {}),
  };
  if (row.auth_method === 'client_credentials') {
    const client = ctx.dir.readReference<ClientApplication>(row.subject);
    return client && client.status !== 'off' ? { ...base, client: publicClient(client) } : undefined;
  }
  const user = ctx.dir.readReference<User>(row.subject);
  if (!user || isDisabled(ctx, user.id)) {
    return undefined;
  }
  return { ...base, user: publicUser(user) };
}

export function isDisabled(ctx: AuthContext, userId: string): boolean {
  const row = ctx.db.prepare('SELECT disabled FROM auth_account WHERE user_id = ?').get(userId) as { disabled: number } | undefined;
  return row?.disabled === 1;
}

export function endSession(ctx: AuthContext, id: string, reason: string): void {
  ctx.db.prepare('UPDATE auth_session SET ended = ?, end_reason = ? WHERE id = ? AND ended IS NULL').run(ctx.now(), reason, id);
  ctx.db.prepare('DELETE FROM auth_refresh_token WHERE session_id = ?').run(id);
}

/** Locks one open session (the person's Lock button): it answers nothing until unlocked, reloads included. */
export function lockSession(ctx: AuthContext, id: string): boolean {
  return ctx.db.prepare('UPDATE auth_session SET locked = 1 WHERE id = ? AND ended IS NULL AND locked = 0').run(id).changes > 0;
}

export function endSessionsWhere(ctx: AuthContext, column: 'membership_id' | 'user_id', value: string, reason: string): number {
  const ids = ctx.db.prepare(`SELECT id FROM auth_session WHERE ${column} = ? AND ended IS NULL`).all(value) as { id: string }[];
  for (const { id } of ids) {
    endSession(ctx, id, reason);
  }
  return ids.length;
}

function newAccessToken(
  ctx: AuthContext,
  sessionId: string,
  subject: string,
  membership: WithId<ProjectMembership>,
  clientId: string | undefined,
  now: number,
  sessionExpires: number,
): { token: string; hash: string; expiresAt: number } {
  const expiresAt = Math.min(now + ctx.options.accessTokenTtlMs, sessionExpires);
  const { token, hash } = createAccessToken({
    login_id: sessionId,
    sub: subject,
    profile: membership.profile.reference ?? '',
    project: membership.project.reference ?? '',
    ...(clientId ? { client_id: clientId } : {}),
    iat: Math.floor(now / 1000),
    exp: Math.floor(expiresAt / 1000),
  });
  return { token, hash, expiresAt };
}

function newRefreshToken(ctx: AuthContext, sessionId: string, expires: number): string {
  const token = randomToken();
  ctx.db.prepare('INSERT INTO auth_refresh_token (token_hash, session_id, expires) VALUES (?, ?, ?)').run(hashToken(token), sessionId, expires);
  return token;
}

function tokenResponse(membership: WithId<ProjectMembership>, accessToken: string, lifetimeMs: number, refreshToken?: string): TokenResponse {
  return {
    token_type: 'Bearer',
    access_token: accessToken,
    expires_in: Math.floor(lifetimeMs / 1000),
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
    scope: refreshToken ? 'openid offline' : 'openid',
    project: { reference: membership.project.reference },
    profile: { reference: membership.profile.reference, ...(membership.profile.display ? { display: membership.profile.display } : {}) },
  };
}
