// The auth routes: Medplum's login flow as Medplum's server answers it (so MedplumClient works against
// the host), sessions, role switch, lock, MFA and passwords. Unknown request fields are dropped:
// MedplumClient sends more than Outpost uses (scope, nonce, remember...).
import { z } from 'zod';
import type { AccessPolicy, ProjectMembership } from '@medplum/fhirtypes';
import { defineRoute, objectWith, operationOutcome, reference, resourceOf } from './route.ts';

const nonEmpty = (max: number) => z.string().min(1).max(max);
/** MedplumClient sends unset ids as '' (e.g. `clientId: this.clientId ?? ''`): treat them as absent. */
const optionalId = z
  .string()
  .max(128)
  .optional()
  .transform((v) => (v === '' ? undefined : v));

export const loginBodySchema = z.object({
  email: z.string().trim().min(3).max(320).includes('@', { message: 'Invalid email' }),
  password: z.string().min(1).max(1024),
  codeChallenge: nonEmpty(256),
  codeChallengeMethod: z.enum(['S256', 'plain']),
  projectId: optionalId,
  clientId: optionalId,
  scope: z.string().max(1024).optional(),
});

export const tokenBodySchema = z.discriminatedUnion('grant_type', [
  z.object({
    grant_type: z.literal('authorization_code'),
    code: nonEmpty(512),
    code_verifier: nonEmpty(256),
    client_id: optionalId,
    redirect_uri: z.string().max(2048).optional(),
  }),
  z.object({
    grant_type: z.literal('client_credentials'),
    client_id: optionalId,
    client_secret: z.string().max(512).optional(),
  }),
  z.object({
    grant_type: z.literal('refresh_token'),
    refresh_token: nonEmpty(512),
    client_id: optionalId,
  }),
]);

export type LoginBody = z.output<typeof loginBodySchema>;
export type TokenBody = z.output<typeof tokenBodySchema>;

/** One membership offered at login when the user has several (Medplum answers ProjectMembership resources). */
export const membershipChoiceSchema = z.object({
  resourceType: z.literal('ProjectMembership'),
  id: z.string(),
  project: reference,
  profile: reference,
  user: reference,
  admin: z.boolean().optional(),
});

/** Medplum's LoginAuthenticationResponse: a code, or the memberships to choose from, or an MFA step. */
export const loginResponseSchema = z.object({
  login: z.string(),
  code: z.string().optional(),
  memberships: z.array(membershipChoiceSchema).optional(),
  mfaRequired: z.boolean().optional(),
});

/** RFC 6749's token response with Medplum's `project` and `profile`. */
export const tokenResponseSchema = z.object({
  token_type: z.literal('Bearer'),
  access_token: z.string(),
  expires_in: z.number(),
  refresh_token: z.string().optional(),
  scope: z.string(),
  project: reference,
  profile: reference,
});

/** RFC 6749 §5.2: the token endpoint's errors (MedplumClient reads `error_description`). */
export const oauthErrorSchema = z.object({ error: z.string(), error_description: z.string() });
export type OAuthError = z.output<typeof oauthErrorSchema>;
export type TokenResponse = z.output<typeof tokenResponseSchema>;

/**
 * GET /auth/me (Medplum's SessionDetails): who the session is, its membership and effective policy, and
 * its profile as the session may read it (hidden fields removed and marked).
 */
export const meSchema = z.object({
  user: objectWith({ resourceType: z.string().optional(), id: z.string().optional(), email: z.string().optional(), firstName: z.string().optional(), lastName: z.string().optional() }),
  profile: objectWith({
    resourceType: z.string().optional(),
    id: z.string().optional(),
    name: z.array(objectWith({ prefix: z.array(z.string()).optional(), given: z.array(z.string()).optional(), family: z.string().optional(), text: z.string().optional() })).optional(),
  }),
  project: objectWith({ id: z.string().optional(), name: z.string().optional() }),
  membership: resourceOf<ProjectMembership>('ProjectMembership'),
  config: objectWith({ resourceType: z.literal('UserConfiguration') }),
  accessPolicy: resourceOf<AccessPolicy>('AccessPolicy').optional(),
  security: z.object({ mfaEnrolled: z.boolean(), sessionId: z.string(), loginTime: z.string(), authMethod: z.enum(['password', 'client_credentials']) }),
  /** Set in a read-only "view as" preview: the administrator viewing. */
  viewAs: z.object({ admin: reference }).optional(),
});
export type Me = z.output<typeof meSchema>;

export const authContract = {
  login: defineRoute({ method: 'POST', path: 'auth/login', auth: 'public', body: loginBodySchema, response: loginResponseSchema }),
  /** Chooses a membership of a login that has several (Medplum's field name `profile` holds its id). */
  chooseProfile: defineRoute({
    method: 'POST',
    path: 'auth/profile',
    auth: 'public',
    body: z.object({ login: nonEmpty(128), profile: nonEmpty(128) }),
    response: loginResponseSchema,
  }),
  verifyMfa: defineRoute({ method: 'POST', path: 'auth/mfa/verify', auth: 'public', body: z.object({ login: nonEmpty(128), token: nonEmpty(16) }), response: loginResponseSchema }),
  /** Whether the person enrolled MFA; if not, starts an enrolment (the otpauth:// URI to scan). */
  mfaStatus: defineRoute({
    method: 'GET',
    path: 'auth/mfa/status',
    auth: 'session',
    response: z.union([z.object({ enrolled: z.literal(true) }), z.object({ enrolled: z.literal(false), enrollUri: z.string() })]),
  }),
  mfaEnroll: defineRoute({ method: 'POST', path: 'auth/mfa/enroll', auth: 'session', body: z.object({ token: nonEmpty(16) }), response: operationOutcome }),
  token: defineRoute({ method: 'POST', path: 'oauth2/token', auth: 'public', body: tokenBodySchema, form: true, response: tokenResponseSchema, error: oauthErrorSchema }),
  me: defineRoute({ method: 'GET', path: 'auth/me', auth: 'session', response: meSchema }),
  logout: defineRoute({ method: 'POST', path: 'auth/logout', auth: 'token', response: operationOutcome }),
  /** MedplumClient.signOut() posts to its logoutUrl, by default oauth2/logout. */
  oauthLogout: defineRoute({ method: 'POST', path: 'oauth2/logout', auth: 'token', response: operationOutcome }),
  /** Another active membership of the same User: answers who the session is now. */
  switchRole: defineRoute({ method: 'POST', path: 'auth/switch-role', auth: 'session', body: z.object({ membership: nonEmpty(128) }), response: meSchema }),
  /** The Lock button: the session locks at the host, so no reload or second tab gets past it. */
  lock: defineRoute({ method: 'POST', path: 'auth/lock', auth: 'token', response: operationOutcome }),
  unlock: defineRoute({ method: 'POST', path: 'auth/unlock', auth: 'token', body: z.object({ password: z.string().min(1).max(1024) }), response: meSchema }),
  changePassword: defineRoute({
    method: 'POST',
    path: 'auth/changepassword',
    auth: 'session',
    body: z.object({ oldPassword: z.string().min(1).max(1024), newPassword: z.string().min(1).max(1024) }),
    response: operationOutcome,
  }),
};
