// The one writer of a User's secrets (password hash, TOTP secret). No FHIR path may set them: every
// repository strips them from what a client writes (prepareAdminType) and from what it reads
// (stripSecrets). Auth (passwords, MFA enrolment, remote login), first-run setup, invites and the demo
// seed set them here, as a new version of the User in its own project.
import type { WithId } from '@medplum/core';
import type { User } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import { liveResource } from '../db/resources.ts';
import type { Store } from '../store/types.ts';

export interface UserSecrets {
  passwordHash?: string;
  mfaSecret?: string;
  mfaEnrolled?: boolean;
}

export interface Credentials {
  /** Sets the given secrets on the live User (404 when there is none); the rest of the User is kept. */
  setSecrets(userId: string, secrets: UserSecrets): void;
  /**
   * Stores a User that arrives with its password hash: the first online sign-in of a member whose User
   * the sync remote never listed (auth/remote-login.ts), verified by the remote server.
   */
  createUser(user: User & { id: string }, project: string | undefined): WithId<User>;
}

export function createCredentials(store: Store): Credentials {
  return {
    setSecrets(userId, secrets) {
      const current = liveResource<User>(store.db, 'User', userId);
      if (!current) {
        throw errors.notFound(`User/${userId} not found`);
      }
      store.update<User>({ ...current, ...secrets }, undefined, current.meta?.project ? { project: current.meta.project } : {});
    },
    createUser(user, project) {
      if (liveResource<User>(store.db, 'User', user.id)) {
        throw errors.conflict(`User/${user.id} exists already`);
      }
      return store.update<User>(user, undefined, project ? { project } : {}).resource as WithId<User>;
    },
  };
}
