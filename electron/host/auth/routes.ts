// The HTTP shapes of authentication, as Medplum's server answers them so MedplumClient works against
// the host: a route table (patterns relative to the host root) for the host's table-driven router, and
// `authenticateRequest` for every other route. Errors are OperationOutcomes, except at /oauth2/token
// where RFC 6749 §5.2 (and MedplumClient, which reads `error_description`) want `{error, error_description}`.
import { allOk } from '@medplum/core';
import type { z } from 'zod';
import type { HostResponse } from '../../../shared/contract/host.ts';
import { FhirError, errors } from '../../../shared/errors.ts';
import { FORM_URL_ENCODED, mediaType } from '../../../shared/fhir/http.ts';
import type { Route, RouteRequest } from '../routes/router.ts';
import { authOutcomeCode, OAUTH_ERROR_SYSTEM, oauthError } from './auth-errors.ts';
import {
  changePasswordBodySchema,
  loginBodySchema,
  mfaEnrollBodySchema,
  mfaVerifyBodySchema,
  profileBodySchema,
  switchRoleBodySchema,
  tokenBodySchema,
  unlockBodySchema,
} from './schemas.ts';
import type { AuthService, Session } from './types.ts';

const JSON_UTF8 = 'application/json; charset=utf-8';
/** MedplumClient posts its auth bodies as application/fhir+json; plain JSON clients send application/json. */
const JSON_TYPES = new Set(['application/json', 'application/fhir+json']);

/** The bearer token of a request, or undefined. */
export function bearerToken(headers: Record<string, string | undefined>): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  return match?.[1];
}

/** The Session of a request (Authorization: Bearer ...), or a 401 FhirError. */
export function authenticateRequest(auth: AuthService, headers: Record<string, string | undefined>): Session {
  const token = bearerToken(headers);
  if (!token) {
    throw errors.unauthorized('Authentication required');
  }
  return auth.authenticate(token);
}

export function authRoutes(auth: AuthService): Route[] {
  const json = (body: unknown, status = 200): HostResponse => ({ status, headers: { 'content-type': JSON_UTF8 }, body });
  const session = (req: RouteRequest): Session => authenticateRequest(auth, req.headers);
  const logout = (req: RouteRequest): HostResponse => {
    const token = bearerToken(req.headers);
    if (!token) {
      throw errors.unauthorized('Authentication required');
    }
    auth.logout(token);
    return json(allOk);
  };

  return [
    { method: 'POST', pattern: 'auth/login', handler: async (req) => json(await auth.login(parseJsonBody(req, loginBodySchema))) },
    { method: 'POST', pattern: 'auth/profile', handler: (req) => json(auth.chooseProfile(parseJsonBody(req, profileBodySchema))) },
    { method: 'POST', pattern: 'auth/mfa/verify', handler: (req) => json(auth.verifyMfa(parseJsonBody(req, mfaVerifyBodySchema))) },
    {
      method: 'GET',
      pattern: 'auth/mfa/status',
      handler: (req) => {
        const s = session(req);
        if (!s.user) {
          throw errors.forbidden('Only people enrol MFA');
        }
        if (auth.me(s).security.mfaEnrolled) {
          return json({ enrolled: true });
        }
        const { enrollUri } = auth.enrollMfa(s.user.id);
        return json({ enrolled: false, enrollUri });
      },
    },
    {
      method: 'POST',
      pattern: 'auth/mfa/enroll',
      handler: (req) => {
        const s = session(req);
        if (!s.user) {
          throw errors.forbidden('Only people enrol MFA');
        }
        auth.confirmMfa(s.user.id, parseJsonBody(req, mfaEnrollBodySchema).token);
        return json(allOk);
      },
    },
    { method: 'POST', pattern: 'oauth2/token', handler: (req) => tokenEndpoint(auth, req) },
    { method: 'GET', pattern: 'auth/me', handler: (req) => json(auth.me(session(req))) },
    { method: 'POST', pattern: 'auth/logout', handler: logout },
    // MedplumClient.signOut() posts to its logoutUrl, by default oauth2/logout.
    { method: 'POST', pattern: 'oauth2/logout', handler: logout },
    {
      method: 'POST',
      pattern: 'auth/switch-role',
      handler: (req) => json(auth.me(auth.switchRole(session(req), parseJsonBody(req, switchRoleBodySchema).membership))),
    },
    {
      // The Lock button: the session locks at the host, so no reload or second tab gets past it.
      method: 'POST',
      pattern: 'auth/lock',
      handler: (req) => {
        const token = bearerToken(req.headers);
        if (!token) {
          throw errors.unauthorized('Authentication required');
        }
        auth.lock(token);
        return json(allOk);
      },
    },
    {
      method: 'POST',
      pattern: 'auth/unlock',
      handler: async (req) => {
        const token = bearerToken(req.headers);
        if (!token) {
          throw errors.unauthorized('Authentication required');
        }
        return json(auth.me(await auth.unlock(token, parseJsonBody(req, unlockBodySchema).password)));
      },
    },
    {
      method: 'POST',
      pattern: 'auth/changepassword',
      handler: async (req) => {
        const body = parseJsonBody(req, changePasswordBodySchema);
        await auth.changePassword(session(req), body.oldPassword, body.newPassword);
        return json(allOk);
      },
    },
  ];
}

async function tokenEndpoint(auth: AuthService, req: RouteRequest): Promise<HostResponse> {
  // RFC 6749 §5.1: token responses must not be cached.
  const headers = { 'content-type': JSON_UTF8, 'cache-control': 'no-store', pragma: 'no-cache' };
  try {
    const body = readTokenBody(req);
    const basic = basicCredentials(req.headers.authorization);
    switch (body.grant_type) {
      case 'authorization_code':
        return { status: 200, headers, body: auth.exchangeCode(body) };
      case 'refresh_token':
        return { status: 200, headers, body: auth.refresh(body) };
      case 'client_credentials': {
        const clientId = body.client_id ?? basic?.id;
        const clientSecret = body.client_secret ?? basic?.secret;
        if (!clientId || !clientSecret) {
          throw oauthError('invalid_request', 'client_id and client_secret are required');
        }
        return { status: 200, headers, body: auth.clientCredentials({ client_id: clientId, client_secret: clientSecret }) };
      }
    }
  } catch (err) {
    if (!(err instanceof FhirError) || err.status >= 500) {
      throw err;
    }
    const text = err.outcome.issue?.[0]?.details?.text ?? 'Invalid request';
    const error = authOutcomeCode(err.outcome, OAUTH_ERROR_SYSTEM) ?? (err.status === 401 ? 'invalid_grant' : 'invalid_request');
    return { status: err.status === 401 && error === 'invalid_client' ? 401 : 400, headers, body: { error, error_description: text } };
  }
}

/** The token request: form-urlencoded (OAuth's format, what MedplumClient sends) or JSON. */
function readTokenBody(req: RouteRequest): z.infer<typeof tokenBodySchema> {
  const type = mediaType(req.headers['content-type']);
  let raw: unknown;
  if (type === FORM_URL_ENCODED) {
    raw = Object.fromEntries(new URLSearchParams(req.body ?? ''));
  } else if (type === undefined || JSON_TYPES.has(type)) {
    raw = parseJsonText(req.body);
  } else {
    throw oauthError('invalid_request', `Unsupported content type: ${type}`);
  }
  const grant = (raw as { grant_type?: unknown } | null)?.grant_type;
  if (typeof grant === 'string' && !['authorization_code', 'client_credentials', 'refresh_token'].includes(grant)) {
    throw oauthError('unsupported_grant_type', `Unsupported grant_type: ${grant}`);
  }
  const parsed = tokenBodySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw oauthError('invalid_request', `Invalid ${issue?.path.join('.') || 'request'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) {
    return undefined;
  }
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) {
    return undefined;
  }
  try {
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before being joined.
    return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
  } catch {
    throw oauthError('invalid_client', 'Malformed Basic credentials');
  }
}

/** A JSON body validated by a schema; a 400 naming the field otherwise. */
function parseJsonBody<S extends z.ZodType>(req: RouteRequest, schema: S): z.infer<S> {
  const type = mediaType(req.headers['content-type']);
  if (type !== undefined && !JSON_TYPES.has(type)) {
    throw errors.unsupportedMediaType(`Unsupported content type: ${type} (expected application/json)`);
  }
  const parsed = schema.safeParse(parseJsonText(req.body));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') || undefined;
    throw errors.badRequest(`Invalid ${path ?? 'body'}: ${issue?.message ?? 'invalid'}`, path);
  }
  return parsed.data;
}

function parseJsonText(body: string | undefined): unknown {
  if (body === undefined || body.trim() === '') {
    return {};
  }
  try {
    return JSON.parse(body);
  } catch {
    throw errors.badRequest('Request body is not valid JSON');
  }
}
