// Remote login's remote side (auth/remote-login.ts): which remote to ask about a password, and how the
// account it vouches for maps to this workstation.
//   - A User already here (pulled without a password): the remotes of the projects it belongs to are
//     asked; a yes for that email is enough (the User is the one the email names here).
//   - A first sign-in (no User here): only a project with a remote whose pulled memberships name this
//     email (Medplum puts the User's email in `membership.user.display`) is asked, with the remote
//     project id (a project-scoped user needs it). The remote's /auth/me then names the membership it
//     signed in with: it must be one pulled into that project (sync_id_map, or the same id), and its
//     `user` must be the remote User the remote named. The local account is that membership's User id,
//     with the names of its profile.
import type { HumanName, ProjectMembership, Resource } from '@medplum/fhirtypes';
import { remoteSignIn } from '../../auth/remote-login.ts';
import type { LocalAccount, RemoteAccount, RemotePasswordCheck } from '../../auth/types.ts';
import type { Replica } from '../../access/index.ts';
import type { Db } from '../../db/types.ts';
import { serverRootOf, type SyncConfig } from '../config.ts';
import { mappedRemoteProject } from './remote-project.ts';

export interface RemoteIdentityOptions {
  store: Replica;
  /** The store's connection, for sync's id map. */
  db: Db;
  config: Pick<SyncConfig, 'get' | 'list'>;
  fetch?: typeof fetch;
  /** Per request (default 10 s). */
  timeoutMs?: number;
}

export function createRemotePasswordCheck(options: RemoteIdentityOptions): RemotePasswordCheck {
  const { store, config, db } = options;
  const localIdOf = db.prepare<[string, string], string>('SELECT local_id FROM sync_id_map_by_remote WHERE type = ? AND remote_id = ?').pluck();
  const remoteIdOf = db.prepare<[string, string], string>('SELECT remote_id FROM sync_id_map WHERE type = ? AND local_id = ?').pluck();

  function read<T extends Resource>(type: string, id: string, project: string): T | undefined {
    try {
      return store.read<T>(type, id, { project });
    } catch {
      return undefined;
    }
  }

  /** Pulled memberships of the project naming this email as their User. */
  function membersNamed(project: string, email: string): ProjectMembership[] {
    return (store.search('ProjectMembership', '_count=1000', { project }).entry ?? [])
      .map((e) => e.resource as ProjectMembership)
      .filter((m) => m.user?.reference?.startsWith('User/') && m.user.display?.trim().toLowerCase() === email);
  }

  /** The local account of a remote sign-in into `project`, when its membership was pulled here and names that User. */
  function localAccountOf(project: string, account: RemoteAccount): LocalAccount | undefined {
    if (!account.membershipId || !account.userId) return undefined;
    const membershipId = localIdOf.get('ProjectMembership', account.membershipId) ?? account.membershipId;
    const membership = read<ProjectMembership>('ProjectMembership', membershipId, project);
    const userId = membership?.user?.reference?.match(/^User\/([^/]+)$/)?.[1];
    if (!membership || membership.project?.reference !== `Project/${project}` || !userId) return undefined;
    if ((remoteIdOf.get('User', userId) ?? userId) !== account.userId) return undefined;
    const [type, id] = (membership.profile?.reference ?? '').split('/');
    const name = type && id ? read<Resource & { name?: HumanName[] }>(type, id, project)?.name?.[0] : undefined;
    return {
      userId,
      email: account.email,
      firstName: name?.given?.join(' ') || account.firstName,
      lastName: name?.family || account.lastName,
      membershipId,
      project,
    };
  }

  return async ({ email, password, projects, userId }) => {
    const candidates = projects.length > 0 ? projects : config.list().map((r) => r.project);
    for (const project of candidates) {
      const remote = config.get(project);
      if (!remote || (!userId && membersNamed(project, email).length === 0)) continue;
      let account: RemoteAccount | undefined;
      try {
        account = await remoteSignIn(serverRootOf(remote.baseUrl), { email, password, remoteProject: mappedRemoteProject(db, project) }, options);
      } catch {
        account = undefined; // Offline or the remote failed: as if it said no.
      }
      if (!account || account.email !== email) continue;
      if (userId) return { userId, email, project };
      const local = localAccountOf(project, account);
      if (local) return local;
    }
    return undefined;
  };
}
