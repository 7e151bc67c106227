// Remote login: a person whose User has no local password (pulled from the remote, which never sends
// password hashes) signs in with the password the remote server knows. The host asks the remote to
// check it with Medplum's own flow (POST /auth/login with email, password and a PKCE challenge -> code
// -> POST /oauth2/token), and on success keeps a local bcrypt verifier so the next login works offline.
// Offline, or with no remote configured, it simply fails like a wrong password.
import { createHash, randomBytes } from 'node:crypto';
import type { WithId } from '@medplum/core';
import type { User } from '@medplum/fhirtypes';
import bcrypt from 'bcryptjs';
import type { AuthContext } from './context.ts';
import { BCRYPT_COST, MAX_PASSWORD_BYTES } from './passwords.ts';

/** Asks a remote whether this email and password are right (true only on a clear yes). */
export type RemotePasswordCheck = (input: { email: string; password: string; projects: string[] }) => Promise<boolean>;

export interface RemotePasswordCheckOptions {
  /** Server roots (e.g. 'https://api.medplum.com/') to ask, for the projects the User belongs to. */
  serverRootsFor(projects: string[]): string[];
  fetch?: typeof fetch;
  /** Per request (default 10 s). */
  timeoutMs?: number;
}

async function postJson(doFetch: typeof fetch, url: string, body: string, contentType: string, timeoutMs: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await doFetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, accept: 'application/json' },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const parsed = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  return { status: res.status, body: parsed };
}

/** Medplum's password check against one server root. */
async function checkAt(root: string, email: string, password: string, doFetch: typeof fetch, timeoutMs: number): Promise<boolean> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const login = await postJson(
    doFetch,
    new URL('auth/login', root).toString(),
    JSON.stringify({ email, password, codeChallenge: challenge, codeChallengeMethod: 'S256', remember: false }),
    'application/json',
    timeoutMs,
  );
  if (login.status !== 200 || typeof login.body.login !== 'string') {
    return false;
  }
  if (typeof login.body.code === 'string') {
    const token = await postJson(
      doFetch,
      new URL('oauth2/token', root).toString(),
      new URLSearchParams({ grant_type: 'authorization_code', code: login.body.code, code_verifier: verifier }).toString(),
      'application/x-www-form-urlencoded',
      timeoutMs,
    );
    return token.status === 200 && typeof token.body.access_token === 'string';
  }
  // Several memberships to choose from: Medplum offers them only after the password was right.
  // A remote asking for MFA is not taken as a yes (its second factor was not checked).
  return Array.isArray(login.body.memberships) && login.body.mfaRequired !== true;
}

export function createRemotePasswordCheck(options: RemotePasswordCheckOptions): RemotePasswordCheck {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  return async ({ email, password, projects }) => {
    for (const root of options.serverRootsFor(projects)) {
      try {
        if (await checkAt(root, email, password, doFetch, timeoutMs)) {
          return true;
        }
      } catch {
        // Offline or the remote failed: as if it said no.
      }
    }
    return false;
  };
}

/**
 * The login hook: for a User without a local password, asks the remote and, when it says yes, stores a
 * bcrypt verifier on the User (Medplum's format) so the next login is checked locally. True on success.
 */
export async function verifyWithRemote(ctx: AuthContext, user: WithId<User>, password: string): Promise<boolean> {
  if (!ctx.remotePasswordCheck || user.passwordHash || Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES || password.length === 0) {
    return false;
  }
  const projects = new Set<string>();
  const own = user.project?.reference?.split('/')[1];
  if (own) projects.add(own);
  for (const m of ctx.dir.membershipsOf(`User/${user.id}`)) {
    const id = m.project?.reference?.split('/')[1];
    if (id && m.active !== false) projects.add(id);
  }
  const email = (user.email ?? '').trim().toLowerCase();
  if (!email || !(await ctx.remotePasswordCheck({ email, password, projects: [...projects] }))) {
    return false;
  }
  const passwordHash = await bcrypt.hash(password, BCRYPT_COST);
  // Re-read after the awaits so a concurrent edit of the User is not overwritten, and never replace a
  // password someone set meanwhile.
  const current = ctx.dir.read<User>('User', user.id);
  if (current && !current.passwordHash) {
    ctx.store.update<User>({ ...current, passwordHash }, undefined, current.meta?.project ? { project: current.meta.project } : {});
    ctx.audit({ type: 'password-set', outcome: 'success', email, userId: user.id, reason: 'verified by the remote server (remote login)' });
  }
  return true;
}
