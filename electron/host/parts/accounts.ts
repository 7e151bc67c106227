// Accounts and access, the part every host that reads or writes data builds: the access service (the
// only holder of the raw store above it: every Repository) and the auth service (sessions, passwords,
// client secrets). They are bound to each other: access's writes hash a ClientApplication's secret into
// auth's tables and end the sessions of a deactivated membership; auth asks access for a session's
// effective policy and writes User secrets through access's credentials.
import { createAccess, type Access } from '../access/index.ts';
import { toAccessPolicy } from '../access/policy/index.ts';
import { createAuthService } from '../auth/service.ts';
import type { AuthService, RemotePasswordCheck } from '../auth/types.ts';
import type { DataFolder } from './data.ts';

export interface AccountsOptions {
  /** Auth options (idle lock, token lifetimes). */
  authOptions?: { idleLockMs?: number; sessionTtlMs?: number; accessTokenTtlMs?: number };
  /** Remote login: the sync remote checks the password of a User that has none here yet. */
  remotePasswordCheck?: RemotePasswordCheck;
}

export interface Accounts {
  auth: AuthService;
  access: Access;
}

export function openAccounts(data: Pick<DataFolder, 'store' | 'audit' | 'clock'>, options: AccountsOptions = {}): Accounts {
  // Auth's hooks are bound late: auth needs the access service's policies and credentials.
  const access = createAccess({
    store: data.store,
    audit: data.audit,
    auth: {
      setClientSecret: (clientId, secret) => auth.setClientSecret(clientId, secret),
      endSessionsForMembership: (membershipId, reason) => auth.endSessionsForMembership(membershipId, reason),
    },
  });
  const auth = createAuthService({
    db: data.store.db,
    credentials: access.credentials,
    clock: data.clock,
    ...options.authOptions,
    audit: (event) => data.audit.auth(event),
    resolveAccessPolicy: (session) => toAccessPolicy(access.policyOf(session)),
    remotePasswordCheck: options.remotePasswordCheck,
  });
  return { auth, access };
}
