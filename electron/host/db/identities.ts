// Db-first lookups of the identity resources (User, ProjectMembership, AccessPolicy) that login, the
// enforcement point, audit routing and administration need before, or beside, any session. Each is
// driven by an index: the expression indexes of auth's migration (User email, membership user and
// profile) or the (type, id) key; test/db/queries.test.ts holds them to it with EXPLAIN QUERY PLAN.
import type { WithId } from '@medplum/core';
import type { AccessPolicy, ProjectMembership, User } from '@medplum/fhirtypes';
import { prepareCached } from './statements.ts';
import type { Db } from './types.ts';

const parseAll = <T>(rows: string[]): WithId<T>[] => rows.map((content) => JSON.parse(content) as WithId<T>);

/** Live Users with this email (compared lower-cased), oldest first: server-scoped and project-scoped alike. */
export function usersByEmail(db: Db, email: string): WithId<User>[] {
  const rows = prepareCached(db, "SELECT content FROM resource WHERE type = 'User' AND deleted = 0 AND lower(json_extract(content, '$.email')) = ? ORDER BY rid")
    .pluck()
    .all(email.trim().toLowerCase()) as string[];
  return parseAll<User>(rows);
}

/** Live memberships whose `user` is the reference ('User/…', 'ClientApplication/…'), oldest first; of one project when given. */
export function membershipsOfUser(db: Db, userReference: string, project?: string): WithId<ProjectMembership>[] {
  const rows = prepareCached(
    db,
    "SELECT content FROM resource WHERE type = 'ProjectMembership' AND deleted = 0 AND json_extract(content, '$.user.reference') = ? AND (? IS NULL OR project = ?) ORDER BY rid",
  )
    .pluck()
    .all(userReference, project ?? null, project ?? null) as string[];
  return parseAll<ProjectMembership>(rows);
}

/** Live memberships of a project, oldest first; only the one with `membershipId` when given. */
export function membershipsOfProject(db: Db, project: string, membershipId?: string): WithId<ProjectMembership>[] {
  const sql =
    membershipId === undefined
      ? "SELECT content FROM resource WHERE type = 'ProjectMembership' AND project = ? AND deleted = 0 ORDER BY rid"
      : "SELECT content FROM resource WHERE type = 'ProjectMembership' AND project = ? AND deleted = 0 AND id = ?";
  const rows = prepareCached(db, sql)
    .pluck()
    .all(...(membershipId === undefined ? [project] : [project, membershipId])) as string[];
  return parseAll<ProjectMembership>(rows);
}

/** A live AccessPolicy of a project. */
export function accessPolicyIn(db: Db, project: string, id: string): WithId<AccessPolicy> | undefined {
  const content = prepareCached(db, "SELECT content FROM resource WHERE type = 'AccessPolicy' AND id = ? AND project = ? AND deleted = 0")
    .pluck()
    .get(id, project) as string | undefined;
  return content === undefined ? undefined : (JSON.parse(content) as WithId<AccessPolicy>);
}

/**
 * A stamp that changes whenever any AccessPolicy or ProjectMembership of the project changes (a new
 * version, a new or deleted row): compiled session policies are cached under it.
 */
export function accessStamp(db: Db, project: string): string {
  return prepareCached(
    db,
    `SELECT coalesce(sum(version), 0) || ':' || coalesce(max(last_updated), 0) || ':' || count(*)
       FROM resource WHERE type IN ('AccessPolicy', 'ProjectMembership') AND project = ?`,
  )
    .pluck()
    .get(project) as string;
}
