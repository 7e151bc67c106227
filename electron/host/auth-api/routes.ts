// The auth routes (shared/contract/auth.ts), as Medplum's server answers them so MedplumClient works
// against the host. They stand apart from the auth service (../auth/) as the FHIR API stands apart from
// the store: the service sits below access (which asks it who a session is), its routes above the
// routes kit and access, like every other domain's routes. Errors are OperationOutcomes, except at /oauth2/token where RFC 6749 §5.2 (and
// MedplumClient, which reads `error_description`) want `{error, error_description}`.
import { allOk } from '@medplum/core';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { authContract, type Me, type OAuthError, type TokenBody, type TokenResponse } from '../../../shared/contract/auth.ts';
import { FhirError, errors } from '../../../shared/errors.ts';
import type { Access, Repository } from '../access/index.ts';
import { readJsonOrForm } from '../routes/body.ts';
import { route } from '../routes/contract.ts';
import { respond, respondJson } from '../routes/respond.ts';
import { authenticated, bearerToken, open, type Answer, type Route, type RouteRequest } from '../routes/router.ts';
import { authOutcomeCode, OAUTH_ERROR_SYSTEM, oauthError } from '../auth/auth-errors.ts';
import type { AuthService, Session } from '../auth/types.ts';

export interface AuthRouteDeps {
  auth: AuthService;
  /** The Repository of a session the route itself starts or reopens (a role switch, an unlock). */
  access: Pick<Access, 'forSession'>;
}

/**
 * Who the session is (GET /auth/me, and the answer of a role switch and an unlock), with its profile as
 * the session may read it: hidden fields removed and marked, identity only where its role cannot read it.
 */
export function meOf(auth: AuthService, session: Session, repo: Repository): Me {
  const me = auth.me(session);
  const [type, id] = (session.profile.reference ?? '').split('/');
  let profile: Me['profile'] = { resourceType: type, id };
  // Only a role that may read its profile's type asks for it: a refused read would be audited as a
  // denied request of the person at every sign-in (the researcher's policy has no Practitioner).
  const readable = !me.accessPolicy || me.accessPolicy.resource?.some((e) => (e.resourceType === type || e.resourceType === '*') && (e.interaction ?? []).includes('read'));
  if (readable) {
    try {
      profile = repo.read(type, id) as Me['profile'];
    } catch {
      // Not visible to its own role (criteria): identity only.
    }
  }
  return { ...me, profile, ...(session.viewAs ? { viewAs: { admin: session.viewAs.admin } } : {}) } as Me;
}

/** The bearer token of a request that needs one even when its session is locked; 401 without. */
function requireToken(req: RouteRequest): string {
  const token = bearerToken(req.headers);
  if (!token) {
    throw errors.unauthorized('Authentication required');
  }
  return token;
}

export function authRoutes({ auth, access }: AuthRouteDeps): Route[] {
  const c = authContract;
  const me = (session: Session): Answer<Me> => respondJson(meOf(auth, session, access.forSession(session)));
  const logout = open<unknown, OperationOutcome>((req) => {
    auth.logout(requireToken(req));
    return respondJson(allOk);
  });

  return [
    route(c.login, open(async (req) => respondJson(await auth.login(req.input().body)))),
    route(c.chooseProfile, open((req) => respondJson(auth.chooseProfile(req.input().body)))),
    route(c.verifyMfa, open((req) => respondJson(auth.verifyMfa(req.input().body)))),
    route(
      c.mfaStatus,
      authenticated((_req, { session }) => {
        if (!session.user) {
          throw errors.forbidden('Only people enrol MFA');
        }
        if (auth.me(session).security.mfaEnrolled) {
          return respondJson({ enrolled: true as const });
        }
        return respondJson({ enrolled: false as const, enrollUri: auth.enrollMfa(session.user.id).enrollUri });
      })
    ),
    route(
      c.mfaEnroll,
      authenticated((req, { session }) => {
        if (!session.user) {
          throw errors.forbidden('Only people enrol MFA');
        }
        auth.confirmMfa(session.user.id, req.input().body.token);
        return respondJson(allOk);
      })
    ),
    route(c.token, open((req) => tokenEndpoint(auth, req))),
    route(c.me, authenticated((_req, { session, repo }) => respondJson(meOf(auth, session, repo)))),
    route(c.logout, logout),
    route(c.oauthLogout, logout),
    route(c.switchRole, authenticated((req, { session }) => me(auth.switchRole(session, req.input().body.membership)))),
    route(
      c.lock,
      open((req) => {
        auth.lock(requireToken(req));
        return respondJson(allOk);
      })
    ),
    route(c.unlock, open(async (req) => me(await auth.unlock(requireToken(req), req.input().body.password)))),
    route(
      c.changePassword,
      authenticated(async (req, { session }) => {
        const body = req.input().body;
        await auth.changePassword(session, body.oldPassword, body.newPassword);
        return respondJson(allOk);
      })
    ),
  ];
}

const TOKEN_HEADERS = { pragma: 'no-cache' };
const GRANTS = ['authorization_code', 'client_credentials', 'refresh_token'];

async function tokenEndpoint(auth: AuthService, req: RouteRequest<{ body: TokenBody }>): Promise<Answer<TokenResponse | OAuthError>> {
  // RFC 6749 §5.1: token responses must not be cached (respondJson adds no-store).
  const answer = <B extends TokenResponse | OAuthError>(body: B, status = 200): Answer<B> => respond(body, { status, type: 'json', headers: TOKEN_HEADERS });
  try {
    const basic = basicCredentials(req.headers.authorization);
    const body = readTokenBody(req);
    switch (body.grant_type) {
      case 'authorization_code':
        return answer(auth.exchangeCode(body));
      case 'refresh_token':
        return answer(auth.refresh(body));
      case 'client_credentials': {
        const clientId = body.client_id ?? basic?.id;
        const clientSecret = body.client_secret ?? basic?.secret;
        if (!clientId || !clientSecret) {
          throw oauthError('invalid_request', 'client_id and client_secret are required');
        }
        return answer(auth.clientCredentials({ client_id: clientId, client_secret: clientSecret }));
      }
    }
  } catch (err) {
    if (!(err instanceof FhirError) || err.status >= 500) {
      throw err;
    }
    const text = err.outcome.issue?.[0]?.details?.text ?? 'Invalid request';
    const error = authOutcomeCode(err.outcome, OAUTH_ERROR_SYSTEM) ?? (err.status === 401 ? 'invalid_grant' : 'invalid_request');
    return answer({ error, error_description: text }, err.status === 401 && error === 'invalid_client' ? 401 : 400);
  }
}

/** The token request (form-urlencoded, OAuth's format and MedplumClient's, or JSON) as its contract reads it. */
function readTokenBody(req: RouteRequest<{ body: TokenBody }>): TokenBody {
  try {
    return req.input().body;
  } catch (err) {
    if (err instanceof FhirError && err.status === 415) {
      throw oauthError('invalid_request', err.outcome.issue?.[0]?.details?.text ?? 'Unsupported content type');
    }
    // A grant_type the schema does not know is OAuth's own error.
    const grant = tokenGrantOf(req);
    if (typeof grant === 'string' && !GRANTS.includes(grant)) {
      throw oauthError('unsupported_grant_type', `Unsupported grant_type: ${grant}`);
    }
    if (err instanceof FhirError && err.status === 400) {
      throw oauthError('invalid_request', err.outcome.issue?.[0]?.details?.text ?? 'Invalid request');
    }
    throw err;
  }
}

/** The raw grant_type of a token request that failed validation (to tell an unknown grant from a bad field). */
function tokenGrantOf(req: RouteRequest): unknown {
  try {
    return (readJsonOrForm(req, true) as { grant_type?: unknown } | null)?.grant_type;
  } catch {
    return undefined;
  }
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
