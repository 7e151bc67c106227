// First run: on an empty data folder the host offers setup. The first Project becomes the store's
// default project (so `outpost import` and every other default-project path land in it), and the person
// who sets it up is its first admin: a User, a Practitioner profile, an admin ProjectMembership.
import type { WithId } from '@medplum/core';
import type { Practitioner, Project, ProjectMembership, User } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import { assertAcceptablePassword, hashPassword } from '../auth/passwords.ts';
import { DEFAULT_PROJECT_ID } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { createMembership, createProfile, createUser, displayName } from './identities.ts';
import type { SetupBody } from './schemas.ts';

/** Setup is offered while no Project and no User exist (imported clinical data alone does not count). */
export function setupNeeded(store: Pick<Store, 'db'>): boolean {
  const row = store.db.prepare("SELECT 1 FROM resource WHERE type IN ('Project', 'User') LIMIT 1").get();
  return row === undefined;
}

export interface SetupResult {
  project: WithId<Project>;
  user: WithId<User>;
  profile: WithId<Practitioner>;
  membership: WithId<ProjectMembership>;
}

/** Creates the first project and its admin, atomically; 409 once anything exists. */
export async function runSetup(store: Store, body: SetupBody): Promise<SetupResult> {
  assertAcceptablePassword(body.password);
  if (!setupNeeded(store)) {
    throw errors.conflict('Outpost is already set up on this computer: sign in instead');
  }
  const passwordHash = await hashPassword(body.password);
  return store.db.transaction(() => {
    // Checked again inside the write transaction: two racing setups cannot both win.
    if (!setupNeeded(store)) {
      throw errors.conflict('Outpost is already set up on this computer: sign in instead');
    }
    const projectId = DEFAULT_PROJECT_ID;
    const person = { firstName: body.firstName, lastName: body.lastName, email: body.email };
    const user = createUser(store, projectId, person, passwordHash);
    const profile = createProfile<Practitioner>(store, projectId, 'Practitioner', person);
    const project = store.update<Project>(
      { resourceType: 'Project', id: projectId, name: body.projectName, owner: { reference: `User/${user.id}`, display: user.email } },
      undefined,
      { project: projectId }
    ).resource as WithId<Project>;
    const membership = createMembership(store, projectId, user, profile, displayName(person), { admin: true });
    return { project, user, profile, membership };
  })();
}
