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

export interface AuditLogOptions {
  store: Pick<Store, 'create' | 'db'>;
  clock: () => Date;
  /** The project of events that belong to none (a failed login with an unknown email). */
  defaultProject: string;
  /** false turns auditing off (only for measuring its overhead in benchmarks). */
  enabled?: boolean;
}

export function createAuditLog(opts: AuditLogOptions): AuditLog {
  const enabled = opts.enabled !== false;
  const { db } = opts.store;
  const queue = db.prepare("INSERT INTO audit_outbox (rid, queued_at) SELECT rid, ? FROM resource WHERE type = 'AuditEvent' AND id = ?");
  const membershipStmt = db.prepare("SELECT content FROM resource WHERE type = 'ProjectMembership' AND id = ?");

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
      const project = event.projectId ?? membership?.project?.reference?.split('/')[1] ?? opts.defaultProject;
      const userRef = event.userId ? `User/${event.userId}` : event.clientId ? `ClientApplication/${event.clientId}` : undefined;
      const profile = event.profile ?? membership?.profile?.reference;
      const who = profile ?? userRef;
      const reasonParts = [event.reason, event.previousMembershipId ? `from ProjectMembership/${event.previousMembershipId}` : undefined];
      write(
        authAuditEvent({
          project,
          event: event.type,
          outcome: event.outcome === 'success' ? 'success' : 'denied',
          reason: reasonParts.filter(Boolean).join('; ') || undefined,
          agent: {
            who: who ? { reference: who } : { display: event.email ?? 'unknown' },
            ...(userRef ? { user: { reference: userRef } } : {}),
          },
          entity: event.membershipId ? `ProjectMembership/${event.membershipId}` : undefined,
          recorded: event.recorded,
        }),
        project,
      );
    },
  };
}
