// Writes AuditEvents: through the store (so they are versioned, indexed and searchable like any
// resource, in the caller's SQLite transaction when there is one: a rolled-back change takes its
// AuditEvent with it) and queues each in `audit_outbox` for sync. Structural validation only: the
// events are built here, and full FHIRPath validation would cost more than the request they record.
import type { AuditEvent, ProjectMembership } from '@medplum/fhirtypes';
import type { AuthAuditEvent } from '../auth/types.ts';
import type { Store } from '../store/types.ts';
import { authAuditEvent, restAuditEvent, type RestAuditInput } from './events.ts';

export interface AuditLog {
  readonly enabled: boolean;
  /** Writes one AuditEvent in `project`; returns its id (undefined when audit is off). */
  write(event: AuditEvent, project: string): string | undefined;
  /**
   * A FHIR interaction's AuditEvent. `immediate`: written now (inside the caller's transaction, for
   * writes); otherwise queued and written with others in one transaction on the next turn of the event
   * loop (a read would otherwise pay a commit of its own: 4x its cost).
   */
  rest(input: Omit<RestAuditInput, 'recorded'>, immediate?: boolean): void;
  /** Writes every queued AuditEvent now (before reading AuditEvents or the outbox, and on close). */
  flush(): void;
  /** The auth service's hook: login, failures, lockout, logout, role switch... */
  auth(event: AuthAuditEvent): void;
}

/**
 * Where the events that belong to no tenant are kept (a failed login with an unknown email, a lockout
 * of an address no account has, an unknown client id): a system-level audit, as Medplum keeps such
 * events outside every project. No Project, membership or session is ever in it, so no project's
 * admin can read them; the workstation owner does, through the host's system context.
 */
export const SYSTEM_AUDIT_PROJECT = 'outpost-system-audit';

export interface AuditLogOptions {
  store: Pick<Store, 'create' | 'db'>;
  clock: () => Date;
  /** false turns auditing off (only for measuring its overhead in benchmarks). */
  enabled?: boolean;
}

export function createAuditLog(opts: AuditLogOptions): AuditLog {
  const enabled = opts.enabled !== false;
  const { db } = opts.store;
  const queue = db.prepare("INSERT INTO audit_outbox (rid, queued_at) SELECT rid, ? FROM resource WHERE type = 'AuditEvent' AND id = ?");
  const membershipStmt = db.prepare("SELECT content FROM resource WHERE type = 'ProjectMembership' AND id = ?");
  const userStmt = db.prepare("SELECT json_extract(content, '$.project.reference') FROM resource WHERE type = 'User' AND id = ? AND deleted = 0").pluck();
  const usersByEmail = db.prepare("SELECT id FROM resource WHERE type = 'User' AND deleted = 0 AND lower(json_extract(content, '$.email')) = ?").pluck();
  const memberProjects = db
    .prepare(
      `SELECT DISTINCT substr(json_extract(content, '$.project.reference'), 9) FROM resource
        WHERE type = 'ProjectMembership' AND deleted = 0 AND json_extract(content, '$.user.reference') = ? ORDER BY rid`,
    )
    .pluck();
  const clientStmt = db.prepare("SELECT project FROM resource WHERE type = 'ClientApplication' AND id = ? AND deleted = 0").pluck();

  function write(event: AuditEvent, project: string): string | undefined {
    if (!enabled) {
      return undefined;
    }
    const id = opts.store.create(event, undefined, { project, validation: 'structure' }).resource.id as string;
    queue.run(opts.clock().getTime(), id);
    return id;
  }

  let pending: { event: AuditEvent; project: string }[] = [];
  let scheduled = false;
  const writeAll = db.transaction((batch: { event: AuditEvent; project: string }[]) => {
    for (const { event, project } of batch) {
      write(event, project);
    }
  });
  function flush(): void {
    if (pending.length === 0 || !db.open) {
      pending = [];
      return;
    }
    const batch = pending;
    pending = [];
    writeAll(batch);
  }

  function membershipOf(id: string | undefined): ProjectMembership | undefined {
    const row = id ? (membershipStmt.get(id) as { content: string } | undefined) : undefined;
    return row ? (JSON.parse(row.content) as ProjectMembership) : undefined;
  }

  /** The one account an auth event is about (by id, or by the email typed when it names exactly one). */
  function userOf(event: AuthAuditEvent): string | undefined {
    if (event.userId) {
      return event.userId;
    }
    const ids = event.email ? (usersByEmail.all(event.email.trim().toLowerCase()) as string[]) : [];
    return ids.length === 1 ? ids[0] : undefined;
  }

  /**
   * The projects whose admins may see an auth event: the session's or membership's project; for an
   * account (before any membership is chosen) its own project (project-scoped User) or every project
   * it is a member of; for a client its project. None: the system-level audit.
   */
  function projectsOf(event: AuthAuditEvent, membership: ProjectMembership | undefined, userId: string | undefined): string[] {
    const direct = event.projectId ?? membership?.project?.reference?.split('/')[1];
    if (direct) {
      return [direct];
    }
    if (userId) {
      const scoped = (userStmt.get(userId) as string | null | undefined)?.split('/')[1];
      const projects = scoped ? [scoped] : (memberProjects.all(`User/${userId}`) as (string | null)[]).filter((x): x is string => !!x);
      if (projects.length) {
        return projects;
      }
    }
    const client = event.clientId ? (clientStmt.get(event.clientId) as string | undefined) : undefined;
    return [client ?? SYSTEM_AUDIT_PROJECT];
  }

  return {
    enabled,
    write,
    rest(input, immediate = false) {
      if (!enabled) {
        return;
      }
      const event = restAuditEvent({ ...input, recorded: opts.clock().toISOString() });
      if (immediate) {
        write(event, input.project);
        return;
      }
      pending.push({ event, project: input.project });
      if (pending.length >= 500) {
        flush();
      } else if (!scheduled) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          flush();
        });
      }
    },
    flush,
    auth(event) {
      if (!enabled) {
        return;
      }
      const membership = membershipOf(event.membershipId);
      const userId = userOf(event);
      const clientKnown = event.clientId !== undefined && clientStmt.get(event.clientId) !== undefined;
      const userRef = userId ? `User/${userId}` : clientKnown ? `ClientApplication/${event.clientId}` : undefined;
      const profile = event.profile ?? membership?.profile?.reference;
      const who = profile ?? userRef;
      const reasonParts = [event.reason, event.previousMembershipId ? `from ProjectMembership/${event.previousMembershipId}` : undefined];
      for (const project of projectsOf(event, membership, userId)) {
        write(
          authAuditEvent({
            project,
            event: event.type,
            outcome: event.outcome === 'success' ? 'success' : 'denied',
            reason: reasonParts.filter(Boolean).join('; ') || undefined,
            agent: {
              who: who ? { reference: who } : { display: typedIdentity(event) },
              ...(userRef ? { user: { reference: userRef } } : {}),
              ...(event.viewing ? { viewing: { reference: event.viewing } } : {}),
            },
            entity: event.entity ?? (event.membershipId ? `ProjectMembership/${event.membershipId}` : undefined),
            recorded: event.recorded,
          }),
          project,
        );
      }
    },
  };
}

/**
 * What an unknown caller typed as its identity. Only something shaped like an email address is kept:
 * a password typed into the email field must never be written into an AuditEvent.
 */
function typedIdentity(event: AuthAuditEvent): string {
  if (event.email !== undefined) {
    const email = event.email.trim();
    return /^[^\s@]{1,64}@[^\s@]{1,255}$/.test(email) ? email.toLowerCase() : 'unknown (not an email address)';
  }
  return event.clientId !== undefined ? 'unknown client' : 'unknown';
}
