// What every part of the auth service shares: the database (auth's own tables), identity lookups, the
// writer of User secrets, the injected clock, the options and the audit hook.
import type { WithId } from '@medplum/core';
import type { AccessPolicy, User } from '@medplum/fhirtypes';
import type { Db } from '../db/types.ts';
import type { Directory } from './directory.ts';
import type { AuthAuditEvent, RemotePasswordCheck, Session } from './types.ts';

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

/** Writes a User's secrets as a new version of the User (the access service implements it). */
export interface UserSecretsWriter {
  setSecrets(userId: string, secrets: { passwordHash?: string; mfaSecret?: string; mfaEnrolled?: boolean }): void;
  /** Stores a User that arrives with its password hash (a first sign-in verified by the sync remote). */
  createUser(user: User & { id: string }, project: string | undefined): WithId<User>;
}

export interface AuthContext {
  db: Db;
  dir: Directory;
  /** Sets a User's password hash or MFA secret (the access service's credentials: no FHIR path may). */
  secrets: UserSecretsWriter;
  now(): number;
  options: AuthOptions;
  audit(event: Omit<AuthAuditEvent, 'recorded'>): void;
  /** The effective AccessPolicy of a session for /auth/me (the access engine provides it). */
  resolveAccessPolicy?: (session: Session) => AccessPolicy | undefined;
  /** Remote login (remote-login.ts): asks the sync remote about a User with no local password. */
  remotePasswordCheck?: RemotePasswordCheck;
}
