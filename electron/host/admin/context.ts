// What the admin endpoints share: the identity directory (lookups), the access service (the admin's own
// repository for every write, so each is checked and audited like a FHIR request; the host's named
// system work for first-run setup; read-only previews for the policy review; the writer of password
// hashes), the auth service (sessions, passwords), the audit log and the request helpers.
import type { Reference } from '@medplum/fhirtypes';
import type { z } from 'zod';
import { errors } from '../../../shared/errors.ts';
import type { AuditLog } from '../audit/log.ts';
import { operationAuditEvent, type Agent } from '../audit/events.ts';
import { authenticateRequest } from '../auth/routes.ts';
import type { AuthService, Session } from '../auth/types.ts';
import type { RouteRequest } from '../routes/router.ts';
import type { Access } from '../access/index.ts';
import type { Directory } from '../auth/directory.ts';

export type AdminAction = 'setup' | 'invite' | 'reset-password' | 'login-unlocked' | 'membership-deactivated' | 'membership-activated' | 'view-as';

/** The part of the host's access service the admin endpoints use. */
export type AdminAccess = Pick<Access, 'forSession' | 'system' | 'preview' | 'credentials'>;

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
  sessionOf(req: RouteRequest): Session;
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
    sessionOf: (req) => authenticateRequest(deps.auth, req.headers),
    audit({ action, project, agent, outcome, reason, entity }) {
      if (!deps.audit?.enabled) {
        return;
      }
      deps.audit.write(operationAuditEvent({ action, project, agent, outcome, reason, entity, recorded: now().toISOString() }), project);
    },
  };
}

/** The session of a project admin acting on `projectId`; 403 for anyone else (another project included). */
export function requireProjectAdmin(ctx: AdminContext, req: RouteRequest, projectId: string): Session {
  const session = ctx.sessionOf(req);
  // A "view as" preview never administers, even the preview of an administrator.
  if (session.projectId !== projectId || session.membership.admin !== true || session.viewAs) {
    throw errors.forbidden('Only an administrator of this project may do this');
  }
  return session;
}

const JSON_TYPES = new Set(['application/json', 'application/fhir+json']);

/** A JSON body validated by a schema; a 400 naming the field otherwise. */
export function parseJsonBody<S extends z.ZodType>(req: Pick<RouteRequest, 'headers' | 'body'>, schema: S): z.infer<S> {
  const type = req.headers['content-type']?.split(';')[0].trim().toLowerCase();
  if (type && !JSON_TYPES.has(type)) {
    throw errors.unsupportedMediaType(`Unsupported content type: ${type} (expected application/json)`);
  }
  let raw: unknown = {};
  if (req.body !== undefined && req.body.trim() !== '') {
    try {
      raw = JSON.parse(req.body);
    } catch {
      throw errors.badRequest('Request body is not valid JSON');
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') || undefined;
    throw errors.badRequest(`Invalid ${path ?? 'body'}: ${issue?.message ?? 'invalid'}`, path);
  }
  return parsed.data;
}
