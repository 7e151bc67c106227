// Medplum's `POST /admin/projects/:projectId/invite` (what MedplumClient.invite sends): reuses the User
// with that email or creates one, creates the profile resource and the ProjectMembership, all through
// the admin's repository (so each write is checked and audited) in one transaction. The password hash
// is set by the access service's credentials: no FHIR path may set it. sendEmail is
// ignored (Outpost is offline); without a password the person cannot sign in until an admin sets one.
import type { WithId } from '@medplum/core';
import type { AccessPolicy, ProjectMembership, Reference, RelatedPerson, User } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import { assertAcceptablePassword, hashPassword } from '../auth/passwords.ts';
import type { Credentials, Repository } from '../access/index.ts';
import type { Directory } from '../auth/directory.ts';
import { createMembership, createProfile, createUser, displayName, membershipsOfUser } from './identities.ts';
import type { InviteBody } from '../../../shared/contract/admin.ts';

function policyExists(directory: Pick<Directory, 'readInProject'>, projectId: string, reference: string): boolean {
  const [type, id, ...rest] = reference.split('/');
  return type === 'AccessPolicy' && !!id && !rest.length && directory.readInProject('AccessPolicy', id, projectId) !== undefined;
}

/** The membership fields of the request (membership.* first, then Medplum's deprecated top-level ones). */
function membershipFields(body: InviteBody): { accessPolicy?: Reference<AccessPolicy>; access?: ProjectMembership['access']; admin?: boolean } {
  const m = body.membership ?? {};
  return {
    accessPolicy: (m.accessPolicy ?? body.accessPolicy) as Reference<AccessPolicy> | undefined,
    access: (m.access ?? body.access) as ProjectMembership['access'],
    admin: m.admin ?? body.admin,
  };
}

export interface InviteResult {
  membership: WithId<ProjectMembership>;
  userId: string;
  /** true when the User did not exist before. */
  newUser: boolean;
}

/** `directory`: identity lookups; `writer`: the admin's repository; `credentials`: the password hash. One transaction. */
export async function inviteMember(
  directory: Pick<Directory, 'readInProject' | 'userByEmail' | 'membershipsOf'>,
  credentials: Credentials,
  writer: Repository,
  projectId: string,
  body: InviteBody,
): Promise<InviteResult> {
  const fields = membershipFields(body);
  const references = [fields.accessPolicy?.reference, ...(fields.access ?? []).map((a) => a.policy?.reference)].filter((r): r is string => r !== undefined);
  for (const reference of references) {
    if (!policyExists(directory, projectId, reference)) {
      throw errors.badRequest(`Access policy ${reference} does not exist in this project`, fields.accessPolicy?.reference === reference ? 'membership.accessPolicy' : 'membership.access');
    }
  }
  if (body.password !== undefined) {
    assertAcceptablePassword(body.password);
  }
  const patientParameter = (fields.access ?? []).flatMap((a) => a.parameter ?? []).find((p) => p.name === 'patient')?.valueReference;
  const passwordHash = body.password !== undefined ? await hashPassword(body.password) : undefined;

  return writer.transaction((): InviteResult => {
    const person = { firstName: body.firstName, lastName: body.lastName, email: body.email };
    const existing = directory.userByEmail(body.email, projectId);
    const sameType = existing
      ? membershipsOfUser(directory, existing.id, projectId).find((m) => m.profile?.reference?.startsWith(`${body.resourceType}/`))
      : undefined;
    if (sameType && !body.forceNewMembership) {
      if (!body.upsert) {
        throw errors.conflict(`${body.email} is already a member of this project as ${body.resourceType}`);
      }
      const updated = writer.update<ProjectMembership>(
        { ...sameType, accessPolicy: fields.accessPolicy, access: fields.access, admin: fields.admin ?? sameType.admin },
        undefined,
        { project: projectId }
      ).resource as WithId<ProjectMembership>;
      return { membership: updated, userId: existing!.id, newUser: false };
    }
    // An existing User keeps their password: an invite never changes another person's credentials.
    let user: WithId<User>;
    if (existing) {
      user = existing;
    } else {
      user = createUser(writer, projectId, person);
      if (passwordHash) {
        credentials.setSecrets(user.id, { passwordHash });
      }
    }
    const extra: Partial<RelatedPerson> = body.resourceType === 'RelatedPerson' && patientParameter ? { patient: { reference: patientParameter.reference } } : {};
    const profile = createProfile(writer, projectId, body.resourceType, person, extra);
    const membership = createMembership(writer, projectId, user, profile, displayName(person), fields);
    return { membership, userId: user.id, newUser: !existing };
  });
}
