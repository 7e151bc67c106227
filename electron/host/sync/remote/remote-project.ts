// The remote project this workstation's sync credential belongs to.
//
// On Medplum the credential's own membership says it: `GET /auth/me` (beside /fhir/R4) answers the
// project and membership of the token. A project admin's `GET Project` also lists the projects it is
// linked to (Medplum's shared "FHIR R4" base project, which holds the server's 4,000-odd
// SearchParameters, ValueSets, CodeSystems and StructureDefinitions), so it cannot tell which one is
// the tenant; and plain searches return the linked projects' resources too. Pulls therefore add
// `_project=<id>` (Medplum's search on the owning project) to every search when /auth/me named one:
// the tenant's own resources, nothing of Medplum's shared definitions. A server without /auth/me (any
// other FHIR server) is searched as is.
import type { Bundle, Project } from '@medplum/fhirtypes';
import type { Db } from '../../db/types.ts';
import type { Remote } from './remote.ts';

export interface RemoteProject {
  id: string;
  name?: string;
  /** The credential's own ProjectMembership id, and whether it administers the project. */
  membership?: string;
  admin?: boolean;
  /** true when /auth/me named it (Medplum): searches are scoped with `_project`. */
  scoped: boolean;
}

interface AuthMe {
  project?: { id?: string; name?: string };
  membership?: { id?: string; admin?: boolean };
}

/**
 * The project of the credential (/auth/me), else (`onlyProject`) the remote's only Project; undefined
 * when neither says.
 */
export async function remoteProjectOf(remote: Remote, options: { onlyProject?: boolean } = {}): Promise<RemoteProject | undefined> {
  const me = await remote.request('GET', '/auth/me');
  const body = me.body as AuthMe | undefined;
  if (me.status === 200 && typeof body?.project?.id === 'string') {
    return { id: body.project.id, name: body.project.name, membership: body.membership?.id, admin: body.membership?.admin === true, scoped: true };
  }
  if (options.onlyProject === false) return undefined;
  const res = await remote.request('GET', 'Project?_count=2');
  const projects = ((res.body as Bundle<Project> | undefined)?.entry ?? []).map((e) => e.resource).filter((p): p is Project & { id: string } => Boolean(p?.id));
  return res.status === 200 && projects.length === 1 ? { id: projects[0].id, name: projects[0].name, scoped: false } : undefined;
}

/** The search parameter keeping a pull to the tenant's own resources ('' when the remote has no projects). */
export function projectScope(project: RemoteProject | undefined): string {
  return project?.scoped ? `_project=${encodeURIComponent(project.id)}` : '';
}

/** Adds a scope parameter to a search URL (`Type?...` or `Type`). */
export function withScope(url: string, scope: string | undefined): string {
  if (!scope) return url;
  return url.includes('?') ? `${url}&${scope}` : `${url}?${scope}`;
}

/** Maps the remote project to the local one (references to `Project/<remote>` then point at the local project). */
export function mapRemoteProject(db: Db, localProject: string, remote: RemoteProject): void {
  if (remote.id === localProject) return;
  db.prepare(`INSERT OR REPLACE INTO sync_id_map (type, local_id, remote_id, remote_version) VALUES ('Project', ?, ?, NULL)`).run(localProject, remote.id);
}

/** The remote project a local project was mapped to (by a tenant bootstrap or a pull), if any. */
export function mappedRemoteProject(db: Db, localProject: string): string | undefined {
  return db.prepare<[string], string>("SELECT remote_id FROM sync_id_map WHERE type = 'Project' AND local_id = ?").pluck().get(localProject);
}
