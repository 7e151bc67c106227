// Medplum's authentication endpoints for sync tests, plugged into test/helpers/fhir-server.ts through its
// `extraRoutes` and `acceptToken` options:
//   POST /auth/login     {email, password, projectId?, codeChallenge, codeChallengeMethod} -> {login, code}
//                        (400 OperationOutcome on a wrong password; a project-scoped user needs its projectId)
//   POST /oauth2/token   grant_type=authorization_code (code + code_verifier, PKCE S256 or plain)
//                        grant_type=client_credentials (client_id + client_secret, form or Basic)
//   GET  /auth/me        who the bearer token is: user, membership, project (as far as the test said)
// Answers as Medplum's server does ({error, error_description} at the token endpoint). Tokens it issues
// are accepted by the FHIR API until they expire (`expireAll()` makes every one of them stale at once).
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TestFhirServerOptions } from './fhir-server.ts';

/** Who a token is, for /auth/me (each part optional: a test says what it needs). */
export interface RemoteIdentity {
  /** Remote User id. */
  id?: string;
  membershipId?: string;
  projectId?: string;
  /** 'project': /auth/login needs the projectId, as Medplum's project-scoped users do. */
  scope?: 'project' | 'server';
  profile?: { resourceType: string; id: string; name?: { given?: string[]; family?: string }[] };
}

export interface MedplumAuthOptions {
  users?: ({ email: string; password: string } & RemoteIdentity)[];
  clients?: ({ id: string; secret: string } & Pick<RemoteIdentity, 'membershipId' | 'projectId'>)[];
  /** expires_in of issued tokens, seconds (default 3600). */
  tokenTtlSeconds?: number;
}

export interface MedplumAuth extends Required<Pick<TestFhirServerOptions, 'extraRoutes' | 'acceptToken'>> {
  /** Requests to /auth/login, /oauth2/token and /auth/me, in order. */
  readonly calls: { path: string; grant?: string; status: number }[];
  /** Invalidates every token issued so far (the next FHIR request with one gets 401). */
  expireAll(): void;
  /** Changes a user's password on the "server". */
  setPassword(email: string, password: string): void;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function oo(text: string) {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', details: { text } }] };
}

function parseBody(req: IncomingMessage, raw: string): Record<string, string> {
  if ((req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(raw));
  }
  try {
    return raw ? (JSON.parse(raw) as Record<string, string>) : {};
  } catch {
    return {};
  }
}

export function createMedplumAuth(options: MedplumAuthOptions = {}): MedplumAuth {
  const users = new Map((options.users ?? []).map((u) => [u.email.toLowerCase(), u]));
  const passwords = new Map((options.users ?? []).map((u) => [u.email.toLowerCase(), u.password]));
  const clients = new Map((options.clients ?? []).map((c) => [c.id, c]));
  const ttl = options.tokenTtlSeconds ?? 3600;
  const codes = new Map<string, { challenge: string; method: string; email: string }>();
  const tokens = new Map<string, { expires: number; who: { email?: string } & RemoteIdentity }>();
  const calls: MedplumAuth['calls'] = [];

  function issue(who: { email?: string } & RemoteIdentity): { token_type: string; access_token: string; expires_in: number } {
    const token = randomUUID();
    tokens.set(token, { expires: Date.now() + ttl * 1000, who });
    return { token_type: 'Bearer', access_token: token, expires_in: ttl };
  }

  function me(req: IncomingMessage): [number, unknown] {
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const held = tokens.get(bearer);
    if (!held || held.expires <= Date.now()) return [401, oo('Unauthorized')];
    const { who } = held;
    return [
      200,
      {
        ...(who.email || who.id ? { user: { resourceType: 'User', ...(who.id ? { id: who.id } : {}), ...(who.email ? { email: who.email } : {}) } } : {}),
        ...(who.projectId ? { project: { resourceType: 'Project', id: who.projectId } } : {}),
        ...(who.membershipId ? { membership: { resourceType: 'ProjectMembership', id: who.membershipId, ...(who.id ? { user: { reference: `User/${who.id}`, display: who.email } } : {}) } } : {}),
        ...(who.profile ? { profile: who.profile } : {}),
      },
    ];
  }

  function tokenEndpoint(req: IncomingMessage, body: Record<string, string>): [number, unknown] {
    if (body.grant_type === 'client_credentials') {
      let id = body.client_id;
      let secret = body.client_secret;
      const basic = /^Basic (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (basic) {
        [id, secret] = Buffer.from(basic, 'base64').toString('utf8').split(':');
      }
      const client = id ? clients.get(id) : undefined;
      if (!client || client.secret !== secret) {
        return [400, { error: 'invalid_request', error_description: 'Invalid secret' }];
      }
      return [200, issue({ membershipId: client.membershipId, projectId: client.projectId })];
    }
    if (body.grant_type === 'authorization_code') {
      const login = codes.get(body.code ?? '');
      codes.delete(body.code ?? '');
      const verifier = body.code_verifier ?? '';
      const expected = login?.method === 'plain' ? verifier : createHash('sha256').update(verifier).digest('base64url');
      if (!login || login.challenge !== expected) {
        return [400, { error: 'invalid_grant', error_description: 'Invalid code' }];
      }
      return [200, issue({ email: login.email, ...users.get(login.email) })];
    }
    return [400, { error: 'unsupported_grant_type', error_description: 'Unsupported grant type' }];
  }

  return {
    calls,
    expireAll: () => tokens.clear(),
    setPassword: (email, password) => void passwords.set(email.toLowerCase(), password),
    acceptToken(token) {
      const held = tokens.get(token);
      return held !== undefined && held.expires > Date.now();
    },
    extraRoutes(req, res, raw) {
      const path = (req.url ?? '').split('?')[0];
      if (req.method === 'GET' && path === '/auth/me') {
        const [status, answer] = me(req);
        calls.push({ path, status });
        json(res, status, answer);
        return true;
      }
      if (req.method !== 'POST' || (path !== '/auth/login' && path !== '/oauth2/token')) {
        return false;
      }
      const body = parseBody(req, raw);
      let status: number;
      let answer: unknown;
      if (path === '/auth/login') {
        if (!body.codeChallenge) {
          [status, answer] = [400, oo('Missing codeChallenge')];
        } else if (!body.email || passwords.get(body.email.toLowerCase()) !== body.password) {
          [status, answer] = [400, oo('Email or password is invalid')];
        } else if (users.get(body.email.toLowerCase())?.scope === 'project' && body.projectId !== users.get(body.email.toLowerCase())?.projectId) {
          [status, answer] = [400, oo('User not found')];
        } else {
          const code = randomUUID();
          codes.set(code, { challenge: body.codeChallenge, method: body.codeChallengeMethod ?? 'S256', email: body.email.toLowerCase() });
          [status, answer] = [200, { login: randomUUID(), code }];
        }
      } else {
        [status, answer] = tokenEndpoint(req, body);
      }
      calls.push({ path, grant: body.grant_type, status });
      json(res, status, answer);
      return true;
    },
  };
}
