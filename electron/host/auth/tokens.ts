// Bearer secrets: random values handed out once and stored only as SHA-256 hashes, so a copy of the
// database does not hold a usable token. PKCE (RFC 7636) verification for the authorization code.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const TOKEN_BYTES = 32;

/** 32 random bytes, base64url (43 characters). */
export function randomToken(bytes = TOKEN_BYTES): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * The stored form of a token. SHA-256 without salt is enough here because the input is 256 random
 * bits, not a guessable password; it also allows looking a token up by its hash.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

export type CodeChallengeMethod = 'S256' | 'plain';

/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const VERIFIER_PATTERN = /^[A-Za-z0-9\-._~]{43,128}$/;

export function pkceChallenge(verifier: string, method: CodeChallengeMethod): string {
  return method === 'S256' ? createHash('sha256').update(verifier, 'ascii').digest('base64url') : verifier;
}

/** True when the verifier sent at the token endpoint answers the challenge sent at login. */
export function verifyPkce(verifier: string, challenge: string, method: CodeChallengeMethod): boolean {
  if (!VERIFIER_PATTERN.test(verifier)) {
    return false;
  }
  return constantTimeEqual(pkceChallenge(verifier, method), challenge);
}

export interface AccessTokenClaims {
  /** The session id: MedplumClient only asks /auth/me when a token carries `login_id`. */
  login_id: string;
  sub: string;
  profile: string;
  project: string;
  client_id?: string;
  /** Seconds since the epoch. */
  iat: number;
  exp: number;
}

/**
 * An access token in JWT form, `header.claims.secret`, whose third part is 32 random bytes instead of
 * a signature. Nothing trusts the claims: the host authenticates by looking up the hash of the whole
 * token. The JWT shape exists because MedplumClient reads `login_id` and `exp` from it (to fetch
 * /auth/me and to refresh before expiry) and treats any other token as not Medplum's.
 */
export function createAccessToken(claims: AccessTokenClaims): { token: string; hash: string } {
  const header = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'none', kid: 'outpost-opaque' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const token = `${header}.${payload}.${randomToken()}`;
  return { token, hash: hashToken(token) };
}
