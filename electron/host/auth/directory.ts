// Read-only lookups of the identity resources (User, ProjectMembership, profiles, Project,
// ClientApplication) that login needs before any session, hence before any project context or access
// policy exists: the db floor's indexed lookups (db/identities.ts, db/resources.ts).
import type { WithId } from '@medplum/core';
import type { ClientApplication, ProjectMembership, Resource, User } from '@medplum/fhirtypes';
import { membershipsOfProject, membershipsOfUser, usersByEmail } from '../db/identities.ts';
import { anyProjectOrUser, liveProjects, liveReference, liveResource } from '../db/resources.ts';
import type { Db } from '../db/types.ts';

export interface Directory {
  /** A live resource by type and id, or undefined (deleted or absent). */
  read<T extends Resource>(resourceType: T['resourceType'], id: string): WithId<T> | undefined;
  /** A live resource by 'Type/id' reference string. */
  readReference<T extends Resource>(reference: string | undefined): WithId<T> | undefined;
  /**
   * The User who logs in with `email` (compared lower-cased). Users scoped to the project the client
   * asked for come first, then server-scoped Users; a project-scoped User of another project never.
   */
  userByEmail(email: string, projectId?: string): WithId<User> | undefined;
  /** Every membership (active or not) whose `user` is the given reference ('User/…', 'ClientApplication/…'). */
  membershipsOf(userReference: string): WithId<ProjectMembership>[];
  clientApplication(id: string): WithId<ClientApplication> | undefined;
  /** A live resource of one project. */
  readInProject<T extends Resource>(resourceType: T['resourceType'], id: string, project: string): WithId<T> | undefined;
  /** The live memberships of a project, oldest first (only `membershipId` when given). */
  membershipsOfProject(project: string, membershipId?: string): WithId<ProjectMembership>[];
  /** Any Project or User stored: false on an empty data folder (first-run setup). */
  hasIdentities(): boolean;
  /** Every live Project of the data folder, oldest first. */
  projects(): { id: string; name: string }[];
}

export function createDirectory(db: Db): Directory {
  const read = <T extends Resource>(resourceType: string, id: string): WithId<T> | undefined => liveResource<WithId<T>>(db, resourceType, id);
  return {
    read,
    readReference: <T extends Resource>(reference: string | undefined) => liveReference<WithId<T>>(db, reference),
    userByEmail(email, projectId) {
      const users = usersByEmail(db, email);
      const scoped = projectId ? users.find((u) => u.project?.reference === `Project/${projectId}`) : undefined;
      return scoped ?? users.find((u) => !u.project?.reference) ?? (users.length === 1 && !projectId ? users[0] : undefined);
    },
    membershipsOf: (userReference) => membershipsOfUser(db, userReference),
    clientApplication: (id) => read<ClientApplication>('ClientApplication', id),
    readInProject: <T extends Resource>(resourceType: string, id: string, project: string) => liveResource<WithId<T>>(db, resourceType, id, project),
    membershipsOfProject: (project, membershipId) => membershipsOfProject(db, project, membershipId),
    hasIdentities: () => anyProjectOrUser(db),
    projects: () => liveProjects(db).map((p) => ({ id: p.id, name: p.name ?? p.id })),
  };
}
