// The access service of a host: the only holder of the raw store above the store itself. It hands out
// Repositories (a session's, the host's named system work, a read-only preview of a membership) and
// the one writer of User secrets; every domain gets its data through these.
import type { ProjectMembership } from '@medplum/fhirtypes';
import type { AuditLog } from '../audit/log.ts';
import type { Session } from '../auth/types.ts';
import { DEFAULT_PROJECT_ID } from '../db/project.ts';
import type { Store } from '../store/types.ts';
import type { AuthHooks } from './context.ts';
import { createCredentials, type Credentials } from './credentials.ts';
import { createPrincipalCache, type PreviewOptions, type SystemOptions } from './principal.ts';
import type { EffectivePolicy } from './policy/index.ts';
import { createAccessRepository, type Repository } from './repository.ts';

export interface Access {
  /** The repository of a signed-in session: checked and audited as that session. */
  forSession(session: Session): Repository;
  /** The host's own work in a project (import, seed, sync applying pulled data), named so code and audit show it. */
  system(project?: string, options?: SystemOptions): Repository;
  /** A membership's policy read-only (the policy review's counts; an administrator's "view as", audited as the viewer). */
  preview(membership: ProjectMembership, options?: PreviewOptions): Repository;
  /** The effective policy of a session (for /auth/me). */
  policyOf(session: Session): EffectivePolicy;
  /** The one writer of User secrets (password hash, MFA secret). */
  credentials: Credentials;
}

export interface AccessOptions {
  store: Store;
  audit: AuditLog;
  /** Admin-side hooks of the auth service (client secrets, ending a membership's sessions). */
  auth?: AuthHooks;
}

export function createAccess(options: AccessOptions): Access {
  const deps = { store: options.store, audit: options.audit, auth: options.auth };
  const principals = createPrincipalCache(options.store.db);
  return {
    forSession: (session) => createAccessRepository(deps, principals.forSession(session)),
    system: (project = DEFAULT_PROJECT_ID, systemOptions) => createAccessRepository(deps, principals.system(project, systemOptions)),
    preview: (membership, previewOptions) => createAccessRepository(deps, principals.preview(membership, previewOptions)),
    policyOf: (session) => principals.policyOf(session),
    credentials: createCredentials(options.store),
  };
}
