// First run: on an empty data folder the host offers setup. The first Project becomes the store's
// default project (so `outpost import` and every other default-project path land in it), and the person
// who sets it up is its first admin: a User, a Practitioner profile, an admin ProjectMembership.
import type { WithId } from '@medplum/core';
import type { Practitioner, Project, ProjectMembership, User } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import { assertAcceptablePassword, hashPassword } from '../auth/passwords.ts';
import { DEFAULT_PROJECT_ID } from '../db/project.ts';
import type { Access } from '../access/index.ts';
import type { Directory } from '../auth/directory.ts';
import { createMembership, createProfile, createUser, displayName } from './identities.ts';
import type { SetupBody } from '../../../shared/contract/admin.ts';

/** Setup is offered while no Project and no User exist (imported clinical data alone does not count). */
export function setupNeeded(directory: Pick<Directory, 'hasIdentities'>): boolean {
  return !directory.hasIdentities();
}

export interface SetupResult {
  project: WithId<Project>;
  user: WithId<User>;
  profile: WithId<Practitioner>;
  membership: WithId<ProjectMembership>;
}

/**
 * Creates the first project and its admin, atomically, as the host's named system work ('First-run
 * setup' in the AuditEvents); 409 once anything exists.
 */
export async function runSetup(directory: Pick<Directory, 'hasIdentities'>, access: Pick<Access, 'system' | 'credentials'>, body: SetupBody): Promise<SetupResult> {
  assertAcceptablePassword(body.password);
  if (!setupNeeded(directory)) {
    throw errors.conflict('Outpost is already set up on this computer: sign in instead');
  }
  const passwordHash = await hashPassword(body.password);
  const projectId = DEFAULT_PROJECT_ID;
  const system = access.system(projectId, { name: 'First-run setup' });
  return system.transaction(() => {
    // Checked again inside the write transaction: two racing setups cannot both win.
    if (!setupNeeded(directory)) {
      throw errors.conflict('Outpost is already set up on this computer: sign in instead');
    }
    const person = { firstName: body.firstName, lastName: body.lastName, email: body.email };
    const user = createUser(system, projectId, person);
    access.credentials.setSecrets(user.id, { passwordHash });
    const profile = createProfile<Practitioner>(system, projectId, 'Practitioner', person);
    const project = system.update<Project>({ resourceType: 'Project', id: projectId, name: body.projectName, owner: { reference: `User/${user.id}`, display: user.email } })
      .resource as WithId<Project>;
    const membership = createMembership(system, projectId, user, profile, displayName(person), { admin: true });
    return { project, user, profile, membership };
  });
}
