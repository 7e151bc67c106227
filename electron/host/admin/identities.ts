// Creating the people of a project: the User (login identity), the profile resource it acts as
// (Patient, Practitioner, RelatedPerson) and the ProjectMembership binding them with a policy. Shared
// by first-run setup, Medplum's invite endpoint and the demo seed. The writer is a repository: the
// host's named system work (setup, seed) or the admin's own (invite); passwords are set apart, by the
// access service's credentials (no FHIR write carries a password hash).
import type { WithId } from '@medplum/core';
import type { AccessPolicy, Patient, Practitioner, ProjectMembership, Reference, RelatedPerson, User } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import type { Repository } from '../access/index.ts';
import type { Directory } from '../auth/directory.ts';

export type PersonProfileType = 'Patient' | 'Practitioner' | 'RelatedPerson';
export type PersonProfile = Patient | Practitioner | RelatedPerson;

export interface PersonName {
  firstName: string;
  lastName: string;
  email: string;
}

/** The display name of a person ("Sarah Chen"). */
export function displayName(p: Pick<PersonName, 'firstName' | 'lastName'>): string {
  return `${p.firstName} ${p.lastName}`.trim();
}

export function createUser(store: Pick<Repository, 'create'>, projectId: string, person: PersonName): WithId<User> {
  const user: User = {
    resourceType: 'User',
    firstName: person.firstName,
    lastName: person.lastName,
    email: person.email.trim().toLowerCase(),
  };
  return store.create<User>(user, undefined, { project: projectId }).resource as WithId<User>;
}

/** The profile resource: name and email, plus what the caller adds (RelatedPerson.patient, a qualification...). */
export function createProfile<T extends PersonProfile>(
  store: Pick<Repository, 'create'>,
  projectId: string,
  resourceType: PersonProfileType,
  person: PersonName,
  extra: Partial<T> = {}
): WithId<T> {
  if (resourceType === 'RelatedPerson' && !(extra as Partial<RelatedPerson>).patient?.reference) {
    throw errors.badRequest("A RelatedPerson needs the patient it relates to: give the membership an access parameter named 'patient'", 'membership.access');
  }
  const profile = {
    resourceType,
    name: [{ given: [person.firstName], family: person.lastName }],
    telecom: [{ system: 'email', value: person.email.trim().toLowerCase(), use: 'work' }],
    ...extra,
  } as unknown as T;
  return store.create<T>(profile, undefined, { project: projectId }).resource as WithId<T>;
}

export interface MembershipFields {
  accessPolicy?: Reference<AccessPolicy>;
  access?: ProjectMembership['access'];
  admin?: boolean;
}

export function createMembership(
  store: Pick<Repository, 'create'>,
  projectId: string,
  user: WithId<User>,
  profile: { resourceType: string; id: string },
  profileDisplay: string,
  fields: MembershipFields
): WithId<ProjectMembership> {
  const membership: ProjectMembership = {
    resourceType: 'ProjectMembership',
    project: { reference: `Project/${projectId}` },
    user: { reference: `User/${user.id}`, display: user.email },
    profile: { reference: `${profile.resourceType}/${profile.id}`, display: profileDisplay },
    ...(fields.accessPolicy ? { accessPolicy: fields.accessPolicy } : {}),
    ...(fields.access?.length ? { access: fields.access } : {}),
    ...(fields.admin ? { admin: true } : {}),
    active: true,
  };
  return store.create<ProjectMembership>(membership, undefined, { project: projectId }).resource as WithId<ProjectMembership>;
}

/** Every membership (active or not) of a User in a project. */
export function membershipsOfUser(directory: Pick<Directory, 'membershipsOf'>, userId: string, projectId: string): WithId<ProjectMembership>[] {
  return directory.membershipsOf(`User/${userId}`).filter((m) => m.project?.reference === `Project/${projectId}`);
}
