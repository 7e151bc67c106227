// What the admin endpoints share: the identity directory (lookups), the access service (the admin's own
// repository for every write, so each is checked and audited like a FHIR request; the host's named
// system work for first-run setup; read-only previews for the policy review; the writer of password
// hashes), the auth service (sessions, passwords) and the audit log.
import type { Reference } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import type { AuditLog } from '../audit/log.ts';
import { operationAuditEvent, type Agent } from '../audit/events.ts';
import type { AuthService, Session } from '../auth/types.ts';
import type { Access } from '../access/index.ts';
import type { Directory } from '../auth/directory.ts';

export type AdminAction = 'setup' | 'invite' | 'reset-password' | 'login-unlocked' | 'membership-deactivated' | 'membership-activated' | 'view-as';

/** The part of the host's access service the admin endpoints use. */
export type AdminAccess = Pick<Access, 'system' | 'preview' | 'credentials'>;

export interface AdminDeps {
  directory: Directory;
  auth: AuthService;
  access: AdminAccess;
  audit?: AuditLog;
  clock?: () => Date;
}

export interface AdminContext {
  directory: Directory;
  auth: AuthService;
  access: AdminAccess;
  now(): Date;
  /** Writes the AuditEvent of an admin action (subtype https://outpost.local/fhir/CodeSystem/audit-subtype|<action>). */
  audit(input: { action: AdminAction; project: string; agent: Agent; outcome: 'success' | 'denied' | 'error'; reason?: string; entity?: string }): void;
}

export function agentOf(session: Session): Agent {
  return { who: session.profile, user: { reference: session.subject } as Reference, name: session.profile.display ?? session.membership.profile?.display };
}

export function createAdminContext(deps: AdminDeps): AdminContext {
  const now = (): Date => deps.clock?.() ?? new Date();
  return {
    directory: deps.directory,
    auth: deps.auth,
    access: deps.access,
    now,
    audit({ action, project, agent, outcome, reason, entity }) {
      if (!deps.audit?.enabled) {
        return;
      }
      deps.audit.write(operationAuditEvent({ action, project, agent, outcome, reason, entity, recorded: now().toISOString() }), project);
    },
  };
}

/** The session when it is a project admin acting on `projectId`; 403 for anyone else (another project included). */
export function requireProjectAdmin(session: Session, projectId: string): Session {
  // A "view as" preview never administers, even the preview of an administrator.
  if (session.projectId !== projectId || session.membership.admin !== true || session.viewAs) {
    throw errors.forbidden('Only an administrator of this project may do this');
  }
  return session;
}
