// What every part of the auth service shares: the database, identity lookups, the store (for writes to
// User resources), the injected clock, the options and the audit hook.
import type { AccessPolicy } from '@medplum/fhirtypes';
import type { Db, Store } from '../store/types.ts';
import type { Directory } from './directory.ts';
import type { RemotePasswordCheck } from './remote-login.ts';
import type { AuthAuditEvent, Session } from './types.ts';

export interface AuthOptions {
  /** A session with no request for this long locks (default 15 minutes). */
  idleLockMs: number;
  /** Absolute lifetime of a session and its refresh tokens (default 12 hours). */
  sessionTtlMs: number;
  /** Lifetime of one access token; MedplumClient refreshes before it runs out (default 1 hour). */
  accessTokenTtlMs: number;
  /** Time to finish a login (password, MFA, profile choice) once started (default 10 minutes). */
  loginTtlMs: number;
  /** Lifetime of an authorization code (default 2 minutes). */
  codeTtlMs: number;
}

export const DEFAULT_AUTH_OPTIONS: AuthOptions = {
  idleLockMs: 15 * 60_000,
  sessionTtlMs: 12 * 60 * 60_000,
  accessTokenTtlMs: 60 * 60_000,
  loginTtlMs: 10 * 60_000,
  codeTtlMs: 2 * 60_000,
};

export interface AuthContext {
  db: Db;
  dir: Directory;
  store: Pick<Store, 'update'>;
  now(): number;
  options: AuthOptions;
  audit(event: Omit<AuthAuditEvent, 'recorded'>): void;
  /** The effective AccessPolicy of a session for /auth/me (the access engine provides it). */
  resolveAccessPolicy?: (session: Session) => AccessPolicy | undefined;
  /** Remote login (remote-login.ts): asks the sync remote about a User with no local password. */
  remotePasswordCheck?: RemotePasswordCheck;
}
