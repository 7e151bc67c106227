// The auth service the host's router calls: Medplum's login flow, sessions with idle lock, role switch,
// MFA, passwords, client credentials. Made by a factory over the store's database; no module state.
import type { AccessPolicy, User } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import { inTransaction } from '../db/transactions.ts';
import type { Db } from '../db/types.ts';
import {
  changeOwnPassword,
  confirmMfaEnrollment,
  describeSession,
  purgeExpiredRows,
  setDisabled,
  setUserPassword,
  startMfaEnrollment,
  storeClientSecret,
  switchSessionRole,
  unlockSession,
} from './account.ts';
import { DEFAULT_AUTH_OPTIONS, type AuthContext, type AuthOptions, type UserSecretsWriter } from './context.ts';
import { createDirectory } from './directory.ts';
import {
  chooseLoginProfile,
  clientCredentialsGrant,
  exchangeAuthorizationCode,
  startLogin,
  verifyLoginMfa,
} from './login-flow.ts';
import { clearFailures, failureState } from './lockout.ts';
import { authenticateToken, endSession, endSessionsWhere, lockSession, refreshSession, rowByToken } from './sessions.ts';
import { viewAsOf } from './previews.ts';
import { startViewAs } from './view-as.ts';
import type { AuthAuditEvent, AuthService, RemotePasswordCheck, Session } from './types.ts';

export interface AuthServiceOptions extends Partial<AuthOptions> {
  /** The database: the auth tables (migration 10 must have run) and the identity lookups of db/. */
  db: Db;
  /** The one writer of User secrets (the access service's credentials). */
  credentials: UserSecretsWriter;
  clock?: () => Date;
  /** Called for every login, failure, lockout, logout, role switch, lock and unlock. */
  audit?: (event: AuthAuditEvent) => void;
  /** The effective AccessPolicy of a session, reported by /auth/me (the access engine provides it). */
  resolveAccessPolicy?: (session: Session) => AccessPolicy | undefined;
  /** Remote login: checks the password of a User without a local one against the sync remote. */
  remotePasswordCheck?: RemotePasswordCheck;
}

export function createAuthService(opts: AuthServiceOptions): AuthService {
  const clock = opts.clock ?? (() => new Date());
  const now = (): number => clock().getTime();
  const options: AuthOptions = {
    idleLockMs: opts.idleLockMs ?? DEFAULT_AUTH_OPTIONS.idleLockMs,
    sessionTtlMs: opts.sessionTtlMs ?? DEFAULT_AUTH_OPTIONS.sessionTtlMs,
    accessTokenTtlMs: opts.accessTokenTtlMs ?? DEFAULT_AUTH_OPTIONS.accessTokenTtlMs,
    loginTtlMs: opts.loginTtlMs ?? DEFAULT_AUTH_OPTIONS.loginTtlMs,
    codeTtlMs: opts.codeTtlMs ?? DEFAULT_AUTH_OPTIONS.codeTtlMs,
  };
  const ctx: AuthContext = {
    db: opts.db,
    dir: createDirectory(opts.db),
    secrets: opts.credentials,
    now,
    options,
    audit: (event) => opts.audit?.({ ...event, recorded: new Date(now()).toISOString() }),
    resolveAccessPolicy: opts.resolveAccessPolicy,
    remotePasswordCheck: opts.remotePasswordCheck,
  };
  // Steps that write several rows run in one transaction so a failure midway leaves nothing half-done.
  const tx = <A extends unknown[], R>(fn: (...args: A) => R) => (...args: A): R => inTransaction(ctx.db, () => fn(...args));

  return {
    directory: ctx.dir,
    login: (req) => startLogin(ctx, req),
    chooseProfile: tx((req) => chooseLoginProfile(ctx, req.login, req.profile)),
    verifyMfa: (req) => verifyLoginMfa(ctx, req.login, req.token),
    exchangeCode: (req) => exchangeAuthorizationCode(ctx, req),
    clientCredentials: (req) => clientCredentialsGrant(ctx, req.client_id, req.client_secret),
    refresh: (req) => refreshSession(ctx, req.refresh_token),
    authenticate: (token) => authenticateToken(ctx, token),
    unlock: (token, password) => unlockSession(ctx, token, password),
    startViewAs: tx((adminSession, membershipId) => startViewAs(ctx, adminSession, membershipId)),
    lock(token) {
      const row = rowByToken(ctx, token);
      if (row && row.ended === null && lockSession(ctx, row.id)) {
        ctx.audit({ type: 'session-locked', outcome: 'success', sessionId: row.id, userId: row.user_id ?? undefined, membershipId: row.membership_id, reason: 'locked by the user' });
      }
    },
    logout(token) {
      const row = rowByToken(ctx, token);
      if (!row || row.ended !== null) {
        return;
      }
      const viewAs = viewAsOf(ctx, row.id);
      endSession(ctx, row.id, 'logout');
      if (viewAs) {
        // The end of a preview is the administrator's act.
        ctx.audit({ type: 'view-as-end', outcome: 'success', sessionId: viewAs.adminSessionId, userId: viewAs.adminUserId, membershipId: viewAs.adminMembershipId, entity: `ProjectMembership/${row.membership_id}` });
        return;
      }
      ctx.audit({ type: 'logout', outcome: 'success', sessionId: row.id, userId: row.user_id ?? undefined, membershipId: row.membership_id });
    },
    switchRole: tx((session, membershipId) => switchSessionRole(ctx, session, membershipId)),
    me: (session) => describeSession(ctx, session),
    endSessionsForMembership: tx((membershipId, reason = 'membership deactivated') => endSessionsWhere(ctx, 'membership_id', membershipId, reason)),
    endSessionsForUser: tx((userId, reason = 'account changed') => endSessionsWhere(ctx, 'user_id', userId, reason)),
    enrollMfa: (userId) => startMfaEnrollment(ctx, userId),
    confirmMfa: (userId, token) => confirmMfaEnrollment(ctx, userId, token),
    setPassword: (userId, password) => setUserPassword(ctx, userId, password),
    changePassword: (session, oldPassword, newPassword) => changeOwnPassword(ctx, session, oldPassword, newPassword),
    setClientSecret: (clientId, secret) => storeClientSecret(ctx, clientId, secret),
    setUserDisabled: tx((userId, disabled) => setDisabled(ctx, userId, disabled)),
    unlockLogin(account, by) {
      const user = 'userId' in account ? ctx.dir.read<User>('User', account.userId) : undefined;
      if ('userId' in account && !user?.email) {
        throw errors.notFound(`User/${account.userId} has no email to sign in with`);
      }
      const email = ('email' in account ? account.email : (user?.email ?? '')).trim().toLowerCase();
      const failures = failureState(ctx.db, email)?.failures ?? 0;
      clearFailures(ctx.db, email);
      ctx.audit({ type: 'login-unlocked', outcome: 'success', email, userId: user?.id, reason: `${failures} failed attempt(s) forgotten by ${by}` });
      return failures;
    },
    purgeExpired: () => purgeExpiredRows(ctx),
    // Screen lock / suspend: every open people's session locks at once; each unlocks with its password.
    lockAllSessions: () =>
      ctx.db.prepare("UPDATE auth_session SET locked = 1 WHERE ended IS NULL AND locked = 0 AND auth_method = 'password'").run().changes,
  };
}
