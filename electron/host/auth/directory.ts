// Read-only lookups of the identity resources (User, ProjectMembership, profiles, Project,
// ClientApplication) that login needs before any session, hence before any project context or access
// policy exists. Plain indexed SQL on the store's `resource` table (see the expression indexes of
// ./schema.ts); writes go through the Store so versions, history and search indexes stay right.
import type { WithId } from '@medplum/core';
import type { ClientApplication, ProjectMembership, Resource, User } from '@medplum/fhirtypes';
import type { Db } from '../store/types.ts';

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
}

export function createDirectory(db: Db): Directory {
  const readStmt = db.prepare('SELECT content FROM resource WHERE type = ? AND id = ? AND deleted = 0');
  const usersByEmail = db.prepare(
    "SELECT content FROM resource WHERE type = 'User' AND deleted = 0 AND lower(json_extract(content, '$.email')) = ?",
  );
  const membershipsByUser = db.prepare(
    "SELECT content FROM resource WHERE type = 'ProjectMembership' AND deleted = 0 AND json_extract(content, '$.user.reference') = ? ORDER BY rid",
  );

  function read<T extends Resource>(resourceType: string, id: string): WithId<T> | undefined {
    const row = readStmt.get(resourceType, id) as { content: string } | undefined;
    return row ? (JSON.parse(row.content) as WithId<T>) : undefined;
  }

  return {
    read,
    readReference<T extends Resource>(reference: string | undefined) {
      const [type, id, ...rest] = (reference ?? '').split('/');
      return type && id && rest.length === 0 ? read<T>(type, id) : undefined;
    },
    userByEmail(email, projectId) {
      const users = (usersByEmail.all(email.trim().toLowerCase()) as { content: string }[]).map(
        (row) => JSON.parse(row.content) as WithId<User>,
      );
      const scoped = projectId ? users.find((u) => u.project?.reference === `Project/${projectId}`) : undefined;
      return scoped ?? users.find((u) => !u.project?.reference) ?? (users.length === 1 && !projectId ? users[0] : undefined);
    },
    membershipsOf(userReference) {
      return (membershipsByUser.all(userReference) as { content: string }[]).map(
        (row) => JSON.parse(row.content) as WithId<ProjectMembership>,
      );
    },
    clientApplication(id) {
      return read<ClientApplication>('ClientApplication', id);
    },
  };
}
