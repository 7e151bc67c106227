// Remote login: people whose account lives on the remote sign in on this workstation with the password
// the remote knows, once online; the host then keeps a local bcrypt verifier, so later sign-ins work
// offline. Two cases:
//   - a User pulled from the remote without a password (the remote never sends password hashes):
//     verifyWithRemote() asks the remote and keeps the verifier on that User;
//   - a member whose User was not pulled at all (Medplum's invited users are server-scoped by default,
//     and a project admin cannot read those: their memberships arrive without them): on the first
//     sign-in signInFirstTime() asks the remote, which answers who signed in and with which membership
//     (/auth/me); when that membership is one pulled here and names this User, the local User is
//     created (same id as the remote's, linked to the membership) with the verifier.
// The remote's side (Medplum's /auth/login with the remote project id -> [/auth/profile] ->
// /oauth2/token -> /auth/me) is `remoteSignIn`; which remote, and how its membership maps to the local
// one, is the sync service's (sync/remote/remote-identity.ts), handed in as `remotePasswordCheck`.
// Offline, or with no remote configured, both simply fail like a wrong password. A remote asking for
// MFA is not accepted this way (its second factor was not checked).
import { createHash, randomBytes } from 'node:crypto';
import type { WithId } from '@medplum/core';
import type { ProjectMembership, User } from '@medplum/fhirtypes';
import bcrypt from 'bcryptjs';
import type { AuthContext } from './context.ts';
import type { RemoteAccount } from './types.ts';
import { BCRYPT_COST, MAX_PASSWORD_BYTES } from './passwords.ts';

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

interface AuthMe {
  user?: { id?: string; email?: string };
  membership?: { id?: string };
  project?: { id?: string };
  profile?: { name?: { given?: string[]; family?: string }[] };
}

/**
 * Medplum's password sign-in at one server root: /auth/login (with the remote project when known: a
 * project-scoped user needs it) -> /auth/profile when several memberships are offered -> /oauth2/token
 * -> /auth/me. Undefined unless the remote clearly said yes.
 */
export async function remoteSignIn(
  root: string,
  input: { email: string; password: string; remoteProject?: string },
  options: { fetch?: typeof fetch; timeoutMs?: number } = {},
): Promise<RemoteAccount | undefined> {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const post = (path: string, body: Record<string, unknown>) => postJson(doFetch, new URL(path, root).toString(), JSON.stringify(body), 'application/json', timeoutMs);
  let login = await post('auth/login', {
    email: input.email,
    password: input.password,
    ...(input.remoteProject ? { projectId: input.remoteProject } : {}),
    scope: 'openid',
    codeChallenge: challenge,
    codeChallengeMethod: 'S256',
    remember: false,
  });
  if (login.status !== 200 || typeof login.body.login !== 'string' || login.body.mfaRequired === true) {
    return undefined;
  }
  if (typeof login.body.code !== 'string' && Array.isArray(login.body.memberships)) {
    // Several memberships (the password was right): the one of the remote project, when there is one.
    const memberships = login.body.memberships as { id?: string; project?: { reference?: string } }[];
    const chosen = memberships.find((m) => input.remoteProject && m.project?.reference === `Project/${input.remoteProject}`) ?? (input.remoteProject ? undefined : memberships[0]);
    if (!chosen?.id) return undefined;
    login = await post('auth/profile', { login: login.body.login, profile: chosen.id });
  }
  if (login.status !== 200 || typeof login.body.code !== 'string') {
    return undefined;
  }
  const token = await postJson(
    doFetch,
    new URL('oauth2/token', root).toString(),
    new URLSearchParams({ grant_type: 'authorization_code', code: login.body.code, code_verifier: verifier }).toString(),
    'application/x-www-form-urlencoded',
    timeoutMs,
  );
  if (token.status !== 200 || typeof token.body.access_token !== 'string') {
    return undefined;
  }
  const res = await doFetch(new URL('auth/me', root).toString(), {
    headers: { authorization: `Bearer ${token.body.access_token}`, accept: 'application/json' },
    signal: AbortSignal.timeout(timeoutMs),
  }).catch(() => undefined);
  const me = res?.ok ? ((await res.json().catch(() => ({}))) as AuthMe) : {};
  const name = me.profile?.name?.[0];
  return {
    email: (me.user?.email ?? input.email).trim().toLowerCase(),
    ...(me.user?.id ? { userId: me.user.id } : {}),
    ...(me.membership?.id ? { membershipId: me.membership.id } : {}),
    ...(me.project?.id ? { projectId: me.project.id } : {}),
    ...(name?.given?.length ? { firstName: name.given.join(' ') } : {}),
    ...(name?.family ? { lastName: name.family } : {}),
  };
}

function checkable(ctx: AuthContext, password: string): boolean {
  return Boolean(ctx.remotePasswordCheck) && password.length > 0 && Buffer.byteLength(password, 'utf8') <= MAX_PASSWORD_BYTES;
}

/**
 * The login hook: for a User without a local password, asks the remote and, when it says yes, stores a
 * bcrypt verifier on the User (Medplum's format) so the next login is checked locally. True on success.
 */
export async function verifyWithRemote(ctx: AuthContext, user: WithId<User>, password: string): Promise<boolean> {
  if (user.passwordHash || !checkable(ctx, password)) {
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
  if (!email || projects.size === 0) {
    return false;
  }
  const account = await ctx.remotePasswordCheck!({ email, password, projects: [...projects], userId: user.id });
  if (!account || account.email !== email) {
    return false;
  }
  const passwordHash = await bcrypt.hash(password, BCRYPT_COST);
  // Re-read after the awaits so a concurrent edit of the User is not overwritten, and never replace a
  // password someone set meanwhile.
  const current = ctx.dir.read<User>('User', user.id);
  if (current && !current.passwordHash) {
    ctx.secrets.setSecrets(user.id, { passwordHash });
    ctx.audit({ type: 'password-set', outcome: 'success', email, userId: user.id, reason: 'verified by the remote server (remote login)' });
  }
  return true;
}

/**
 * The first sign-in of a member whose User is not on this workstation: when the remote vouches for the
 * email and password and names a membership pulled here that names this User, the local User is
 * created (the id the membership names, the remote's email and name, a bcrypt verifier; scoped to the
 * membership's project when `projectId` asked for it). Returns the new User, or undefined (no such
 * member here, offline, wrong password: the caller fails the login like any wrong password).
 */
export async function signInFirstTime(ctx: AuthContext, email: string, password: string, projectId?: string): Promise<WithId<User> | undefined> {
  if (!checkable(ctx, password)) {
    return undefined;
  }
  const account = await ctx.remotePasswordCheck!({ email, password, projects: projectId ? [projectId] : [] });
  if (!account?.membershipId || account.email !== email) {
    return undefined;
  }
  const membership = ctx.dir.read<ProjectMembership>('ProjectMembership', account.membershipId);
  if (!membership || membership.active === false || membership.user?.reference !== `User/${account.userId}`) {
    return undefined;
  }
  const passwordHash = await bcrypt.hash(password, BCRYPT_COST);
  // Re-checked after the awaits: the User may have arrived meanwhile (a pull, a concurrent sign-in).
  if (ctx.dir.read<User>('User', account.userId) || ctx.dir.userByEmail(email, projectId)) {
    return undefined;
  }
  // Medplum's User needs both names: the profile's, else the email's local part.
  const fallback = account.email.split('@')[0];
  const user: User = { resourceType: 'User', id: account.userId, email: account.email, firstName: account.firstName ?? fallback, lastName: account.lastName ?? fallback, passwordHash };
  const written = ctx.secrets.createUser({ ...user, id: account.userId }, account.project);
  ctx.audit({ type: 'password-set', outcome: 'success', email, userId: account.userId, membershipId: account.membershipId, projectId: account.project, reason: 'first sign-in verified by the remote server: account created on this workstation' });
  return written;
}
