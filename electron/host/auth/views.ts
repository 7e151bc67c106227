// What may leave the auth service: identity resources stripped of their secrets. Every response is
// built from these, so passwordHash, mfaSecret and client secrets have no way out.
import type { WithId } from '@medplum/core';
import type { ClientApplication, Project, ProjectMembership, Reference, User } from '@medplum/fhirtypes';
import type { MembershipChoice } from './types.ts';

export function publicUser(user: WithId<User>): WithId<User> {
  const { passwordHash: _hash, mfaSecret: _secret, ...rest } = user;
  return rest;
}

export function publicClient(client: WithId<ClientApplication>): WithId<ClientApplication> {
  const { secret: _secret, retiringSecret: _retiring, ...rest } = client;
  return rest;
}

/** The Project as a session may see it: identity and flags, never its `secret` / `systemSecret` settings. */
export function publicProject(project: WithId<Project> | undefined, id: string): Record<string, unknown> {
  if (!project) {
    return { resourceType: 'Project', id };
  }
  const { resourceType, name, description, strictMode, superAdmin, features, meta } = project;
  return { resourceType, id: project.id, name, description, strictMode, superAdmin, features, meta };
}

export function membershipChoice(membership: WithId<ProjectMembership>, projectName?: string, profileName?: string): MembershipChoice {
  return {
    resourceType: 'ProjectMembership',
    id: membership.id,
    project: withDisplay(membership.project, projectName),
    profile: withDisplay(membership.profile, profileName ?? membership.profile.display),
    user: { reference: membership.user.reference },
    ...(membership.admin ? { admin: true } : {}),
  };
}

function withDisplay<T extends Reference>(ref: T, display: string | undefined): T {
  return { reference: ref.reference, ...(display ? { display } : {}) } as T;
}
