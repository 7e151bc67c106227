// Contracts of the auth module: the session a request runs as, the answers of each step of Medplum's
// login flow, and the service the host's router calls.
import type { Directory } from './directory.ts';
import type {
  AccessPolicy,
  ClientApplication,
  Project,
  ProjectMembership,
  Reference,
  User,
} from '@medplum/fhirtypes';
import type { WithId } from '@medplum/core';
import type { CodeChallengeMethod } from './tokens.ts';

export type AuthMethod = 'password' | 'client_credentials';

/** Who a request runs as: one User (or ClientApplication) acting through one ProjectMembership. */
export interface Session {
  id: string;
  /** 'User/<id>' for people, 'ClientApplication/<id>' for programs. */
  subject: string;
  /** The User without passwordHash / mfaSecret (people only). */
  user?: WithId<User>;
  /** The ClientApplication without its secrets (programs only). */
  client?: WithId<ClientApplication>;
  membership: WithId<ProjectMembership>;
  /** membership.profile: what the session acts as (Practitioner/…, Patient/…, ClientApplication/…). */
  profile: Reference;
  project: Reference<Project>;
  projectId: string;
  /** ISO instant the session was created (the login time). */
  loginTime: string;
  authMethod: AuthMethod;
  clientId?: string;
  /** Set on a read-only "view as" preview: the administrator who is viewing (see view-as.ts). */
  viewAs?: ViewAs;
}

/** The administrator behind a "view as" preview session. */
export interface ViewAs {
  adminSessionId: string;
  adminUserId: string;
  adminMembershipId: string;
  /** The administrator's profile (Practitioner/…), with its display. */
  admin: Reference;
}

/** One membership offered at login when the user has several (Medplum returns ProjectMembership resources). */
export interface MembershipChoice {
  resourceType: 'ProjectMembership';
  id: string;
  project: Reference<Project>;
  profile: Reference;
  user: Reference;
  admin?: boolean;
}

/** Medplum's LoginAuthenticationResponse. */
export interface LoginResponse {
  login: string;
  code?: string;
  memberships?: MembershipChoice[];
  mfaRequired?: boolean;
}

/** RFC 6749 token response with Medplum's extra `project` and `profile`. */
export interface TokenResponse {
  token_type: 'Bearer';
  access_token: string;
  expires_in: number;
  refresh_token?: string;
  scope: string;
  project: Reference<Project>;
  profile: Reference;
}

/** GET /auth/me (Medplum's SessionDetails). */
export interface MeResponse {
  user: Record<string, unknown>;
  profile: Record<string, unknown>;
  project: Record<string, unknown>;
  membership: WithId<ProjectMembership>;
  config: { resourceType: 'UserConfiguration'; id?: string; menu?: unknown[] };
  accessPolicy?: AccessPolicy;
  security: { mfaEnrolled: boolean; sessionId: string; loginTime: string; authMethod: AuthMethod };
}

export type AuthAuditType =
  | 'login'
  | 'login-failure'
  | 'lockout'
  | 'login-refused-locked-out'
  | 'mfa-failure'
  | 'code-replay'
  | 'client-login'
  | 'client-login-failure'
  | 'logout'
  | 'role-switch'
  | 'session-locked'
  | 'unlock'
  | 'unlock-failure'
  | 'login-unlocked'
  | 'session-ended'
  | 'password-set'
  | 'mfa-enrolled'
  | 'view-as'
  | 'view-as-end';

/** What the auth service reports to the audit module (which turns it into an AuditEvent). */
export interface AuthAuditEvent {
  type: AuthAuditType;
  outcome: 'success' | 'failure';
  /** ISO instant from the injected clock. */
  recorded: string;
  email?: string;
  userId?: string;
  membershipId?: string;
  /** For role switches: the membership the session left. */
  previousMembershipId?: string;
  profile?: string;
  projectId?: string;
  sessionId?: string;
  clientId?: string;
  reason?: string;
  /** A "view as" event: the profile the administrator (userId / membershipId) is viewing as. */
  viewing?: string;
  /** The record the event is about, when it is not the session's own membership. */
  entity?: string;
}

export interface LoginRequest {
  email: string;
  password: string;
  codeChallenge: string;
  codeChallengeMethod: CodeChallengeMethod;
  projectId?: string;
  clientId?: string;
  scope?: string;
}

export interface CodeExchangeRequest {
  code: string;
  code_verifier: string;
  client_id?: string;
}

export interface AuthService {
  /** Identity lookups (Users by email, memberships, clients) for the domains beside auth (admin, audit). */
  readonly directory: Directory;
  login(req: LoginRequest): Promise<LoginResponse>;
  chooseProfile(req: { login: string; profile: string }): LoginResponse;
  verifyMfa(req: { login: string; token: string }): LoginResponse;
  exchangeCode(req: CodeExchangeRequest): TokenResponse;
  clientCredentials(req: { client_id: string; client_secret: string }): TokenResponse;
  refresh(req: { refresh_token: string }): TokenResponse;
  /** The session of a bearer access token; 401 when unknown, expired, ended or locked. */
  authenticate(accessToken: string): Session;
  unlock(accessToken: string, password: string): Promise<Session>;
  /** Starts a read-only "view as" preview of a membership for an administrator's session: its tokens. */
  startViewAs(adminSession: Session, membershipId: string): TokenResponse & { membership: string };
  /** Locks the token's session now (as the idle lock would); unknown or ended tokens change nothing. */
  lock(accessToken: string): void;
  logout(accessToken: string): void;
  switchRole(session: Session, membershipId: string): Session;
  me(session: Session): MeResponse;
  /** Ends every open session of a membership (call it when a membership is deactivated or deleted). */
  endSessionsForMembership(membershipId: string, reason?: string): number;
  endSessionsForUser(userId: string, reason?: string): number;
  /** Starts TOTP enrolment (or returns the one in progress): the secret and the otpauth:// URI to scan. */
  enrollMfa(userId: string): { secret: string; enrollUri: string };
  confirmMfa(userId: string, token: string): void;
  setPassword(userId: string, password: string): Promise<void>;
  /** The session's User changes their own password: the current one is checked first (and counts towards lockout). */
  changePassword(session: Session, oldPassword: string, newPassword: string): Promise<void>;
  /** Stores the hash of a ClientApplication secret; returns a newly generated secret when none is given. */
  setClientSecret(clientId: string, secret?: string): string;
  setUserDisabled(userId: string, disabled: boolean): void;
  /**
   * Lifts the sign-in delay of an account (by User id or email) and forgets its failed attempts (an
   * administrator's unlock, or `outpost unlock`); audited as 'login-unlocked' with `by` in the reason.
   * Returns the failures forgotten; 404 for a User id that does not exist.
   */
  unlockLogin(account: { userId: string } | { email: string }, by: string): number;
  /** Deletes expired logins, refresh tokens and long-ended sessions; returns the rows removed. */
  purgeExpired(): number;
  /** Locks every open password session (screen lock, suspend); returns how many were locked. */
  lockAllSessions(): number;
}

// Remote login (remote-login.ts): the sync service answers whether the remote knows a password.

/** Who the remote says signed in. */
export interface RemoteAccount {
  email: string;
  /** The remote User, membership and project (absent when the remote has no /auth/me). */
  userId?: string;
  membershipId?: string;
  projectId?: string;
  firstName?: string;
  lastName?: string;
}

/** The local account a remote sign-in maps to. */
export interface LocalAccount {
  /** The local User id (the one the pulled membership names). */
  userId: string;
  email: string;
  firstName?: string;
  lastName?: string;
  /** The local membership the remote signed in with (undefined when the remote did not say). */
  membershipId?: string;
  /** The local project of that membership. */
  project?: string;
}

/**
 * Asks the remote(s) of the local `projects` (all projects with a remote when empty) whether this email
 * and password are right; the local account they map to on a clear yes. `userId`: the local User being
 * checked (verifyWithRemote), else a first sign-in.
 */
export type RemotePasswordCheck = (input: { email: string; password: string; projects: string[]; userId?: string }) => Promise<LocalAccount | undefined>;
