// Admin actions on one membership of the admin's project: set the member's password (ending that
// person's sessions) and deactivate / reactivate the membership through the admin's access-checked
// store (the enforcement point ends a deactivated membership's sessions with the write).
import type { WithId } from '@medplum/core';
import type { ProjectMembership } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import type { AuthService, Session } from '../auth/types.ts';
import type { Repository } from '../access/index.ts';

/** A live membership the admin can read in their project, or 404 (another project's do not exist here). */
export function projectMembership(writer: Repository, session: Session, membershipId: string): WithId<ProjectMembership> {
  const membership = writer.read<ProjectMembership>('ProjectMembership', membershipId) as WithId<ProjectMembership>;
  if (membership.project?.reference !== `Project/${session.projectId}`) {
    throw errors.notFound(`ProjectMembership/${membershipId} not found`);
  }
  return membership;
}

function userIdOf(membership: ProjectMembership): string {
  const [type, id] = (membership.user?.reference ?? '').split('/');
  if (type !== 'User' || !id) {
    throw errors.badRequest('This membership belongs to a program (ClientApplication or Bot), which has no password');
  }
  return id;
}

/** Sets the member's password and ends every session of that User. Returns the sessions ended. */
export async function resetMemberPassword(writer: Repository, auth: AuthService, session: Session, membershipId: string, password: string): Promise<number> {
  const userId = userIdOf(projectMembership(writer, session, membershipId));
  await auth.setPassword(userId, password);
  return auth.endSessionsForUser(userId, 'password reset by an administrator');
}

/**
 * Lifts the member's sign-in delay (failed attempts forgotten): for a person locked out by their own
 * mistakes, or by someone at the workstation trying their email. Returns the failures forgotten.
 */
export function unlockMemberLogin(writer: Repository, auth: AuthService, session: Session, membershipId: string): number {
  const userId = userIdOf(projectMembership(writer, session, membershipId));
  return auth.unlockLogin({ userId }, `an administrator (${session.profile.reference ?? session.subject})`);
}

/** Deactivates or reactivates a membership; deactivation ends its sessions at once. */
export function setMembershipActive(writer: Repository, auth: AuthService, session: Session, membershipId: string, active: boolean): WithId<ProjectMembership> {
  const membership = projectMembership(writer, session, membershipId);
  if (!active && membership.id === session.membership.id) {
    throw errors.badRequest('You cannot deactivate the membership you are signed in with');
  }
  const saved = writer.update<ProjectMembership>({ ...membership, active }).resource as WithId<ProjectMembership>;
  if (!active) {
    auth.endSessionsForMembership(membership.id, 'membership deactivated by an administrator');
  }
  return saved;
}
