// Medplum's authentication endpoints for sync tests, plugged into test/helpers/fhir-server.ts through its
// `extraRoutes` and `acceptToken` options:
//   POST /auth/login     {email, password, codeChallenge, codeChallengeMethod} -> {login, code} (or 401/400 OperationOutcome)
//   POST /oauth2/token   grant_type=authorization_code (code + code_verifier, PKCE S256 or plain)
//                        grant_type=client_credentials (client_id + client_secret, form or Basic)
// Answers as Medplum's server does ({error, error_description} at the token endpoint). Tokens it issues
// are accepted by the FHIR API until they expire (`expireAll()` makes every one of them stale at once).
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TestFhirServerOptions } from './fhir-server.ts';

export interface MedplumAuthOptions {
  users?: { email: string; password: string }[];
  clients?: { id: string; secret: string }[];
  /** expires_in of issued tokens, seconds (default 3600). */
  tokenTtlSeconds?: number;
}

export interface MedplumAuth extends Required<Pick<TestFhirServerOptions, 'extraRoutes' | 'acceptToken'>> {
  /** Requests to /auth/login and /oauth2/token, in order. */
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
  const passwords = new Map((options.users ?? []).map((u) => [u.email.toLowerCase(), u.password]));
  const clients = new Map((options.clients ?? []).map((c) => [c.id, c.secret]));
  const ttl = options.tokenTtlSeconds ?? 3600;
  const codes = new Map<string, { challenge: string; method: string }>();
  const tokens = new Map<string, number>();
  const calls: MedplumAuth['calls'] = [];

  function issue(): { token_type: string; access_token: string; expires_in: number } {
    const token = randomUUID();
    tokens.set(token, Date.now() + ttl * 1000);
    return { token_type: 'Bearer', access_token: token, expires_in: ttl };
  }

  function tokenEndpoint(req: IncomingMessage, body: Record<string, string>): [number, unknown] {
    if (body.grant_type === 'client_credentials') {
      let id = body.client_id;
      let secret = body.client_secret;
      const basic = /^Basic (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (basic) {
        [id, secret] = Buffer.from(basic, 'base64').toString('utf8').split(':');
      }
      if (!id || clients.get(id) !== secret) {
        return [400, { error: 'invalid_request', error_description: 'Invalid secret' }];
      }
      return [200, issue()];
    }
    if (body.grant_type === 'authorization_code') {
      const login = codes.get(body.code ?? '');
      codes.delete(body.code ?? '');
      const verifier = body.code_verifier ?? '';
      const expected = login?.method === 'plain' ? verifier : createHash('sha256').update(verifier).digest('base64url');
      if (!login || login.challenge !== expected) {
        return [400, { error: 'invalid_grant', error_description: 'Invalid code' }];
      }
      return [200, issue()];
    }
    return [400, { error: 'unsupported_grant_type', error_description: 'Unsupported grant type' }];
  }

  return {
    calls,
    expireAll: () => tokens.clear(),
    setPassword: (email, password) => void passwords.set(email.toLowerCase(), password),
    acceptToken(token) {
      const expires = tokens.get(token);
      return expires !== undefined && expires > Date.now();
    },
    extraRoutes(req, res, raw) {
      const path = (req.url ?? '').split('?')[0];
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
        } else {
          const code = randomUUID();
          codes.set(code, { challenge: body.codeChallenge, method: body.codeChallengeMethod ?? 'S256' });
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
