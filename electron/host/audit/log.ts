// Writes AuditEvents: through the store (so they are versioned, indexed and searchable like any
// resource, in the caller's SQLite transaction when there is one: a rolled-back change takes its
// AuditEvent with it) and queues each in `audit_outbox` for sync. Structural validation only: the
// events are built here (valid by construction, see events.ts), and full FHIRPath validation would
// cost more than the request they record.
//
// No audit event is dropped silently and none takes the host down: a write that fails (outside the
// transaction of the change it records) is retried with a growing delay, and what still cannot be
// stored goes to the spill file (spill.ts) that the next start replays. Nothing here throws out of
// the deferred flush, which runs on a turn of the event loop where nothing would catch it.
import type { AuditEvent, ProjectMembership, User } from '@medplum/fhirtypes';
import { outcomeText } from '../../../shared/errors.ts';
import { safeText } from '../../../shared/safe-text.ts';
import type { AuthAuditEvent } from '../auth/types.ts';
import { inTransaction } from '../db/transactions.ts';
import { resourceRow, ridOf, liveResource } from '../db/resources.ts';
import { membershipsOfUser, usersByEmail } from '../db/identities.ts';
import type { Db } from '../db/types.ts';
import { authAuditEvent, operationAuditEvent, restAuditEvent, type RestAuditInput } from './events.ts';
import { createAuditSpill, type AuditSpill } from './spill.ts';

export interface AuditLog {
  readonly enabled: boolean;
  /**
   * Writes one AuditEvent in `project` now; returns its id. Never throws: an event the store refuses
   * is retried later, then kept in the spill file (undefined is returned then, and when audit is off).
   */
  write(event: AuditEvent, project: string): string | undefined;
  /**
   * A FHIR interaction's AuditEvent. `immediate`: written now, inside the caller's transaction (for
   * writes: the change and its event commit together, or neither does, so this one throws);
   * otherwise queued and written with others in one transaction: on the next turn of the event loop
   * after a quiet spell, within AUDIT_BATCH_MS while requests keep coming (a read would otherwise pay a
   * commit of its own, more than the read itself).
   */
  rest(input: Omit<RestAuditInput, 'recorded'>, immediate?: boolean): void;
  /** Writes every queued AuditEvent now (before reading AuditEvents or the outbox, and on close). Never throws. */
  flush(): void;
  /** The auth service's hook: login, failures, lockout, logout, role switch... Never throws. */
  auth(event: AuthAuditEvent): void;
  /** Stores the events a previous run had to spill; says what it did (undefined: there were none). */
  replaySpilled(): AuditReplayReport | undefined;
  /** Flushes, gives the retries one last chance, spills the rest. */
  close(): void;
}

export interface AuditReplayReport {
  /** Events stored from the spill file. */
  stored: number;
  /** Events that failed again (spilled again, for the next start). */
  failed: number;
  /** Lines that could not be read (moved aside to `unreadableFile`). */
  unreadable: number;
  unreadableFile?: string;
}

/**
 * Where the events that belong to no tenant are kept (a failed login with an unknown email, a lockout
 * of an address no account has, an unknown client id): a system-level audit, as Medplum keeps such
 * events outside every project. No Project, membership or session is ever in it, so no project's
 * admin can read them; the workstation owner does, through the host's system context.
 */
export const SYSTEM_AUDIT_PROJECT = 'outpost-system-audit';

/**
 * The longest a queued event (a read's) waits while requests keep coming, so that a burst of them (the
 * requests that open a chart, a page of searches) is written with one commit. Anything that reads
 * AuditEvents, and close, write the queue first; a process killed outright loses at most this much.
 */
export const AUDIT_BATCH_MS = 100;

/** Tries of one event before it is spilled, and the delay before each retry (ms). */
const RETRY_DELAYS_MS = [50, 500, 2_000];

/**
 * Where AuditEvents are stored: the store's connection (for the outbox of events to push and the
 * lookups that route an event to its project) and the one write of an event, around every policy (the
 * host binds it to the store's create with structural validation; no session writes AuditEvents).
 */
export interface AuditSink {
  db: Db;
  createEvent(event: AuditEvent, project: string): string;
}

export interface AuditLogOptions {
  sink: AuditSink;
  clock: () => Date;
  /** false turns auditing off (only for measuring its overhead in benchmarks). */
  enabled?: boolean;
  /** The spill file (`<data>/audit-pending.ndjson`); none for an in-memory host (the log only). */
  spillFile?: string;
  /** The database key: spilled events are sealed with a key derived from it. */
  key?: string;
  /** Where the log says what it had to spill or replay (default: stderr). */
  log?: (message: string) => void;
}

interface Pending {
  event: AuditEvent;
  project: string;
  attempts: number;
  error?: string;
}

/** Every string of an event made safe: the second try of an event the store refused as invalid. */
function defanged<T>(value: T): T {
  if (typeof value === 'string') {
    return (safeText(value, 2_000) ?? '?') as T;
  }
  if (Array.isArray(value)) {
    return value.map(defanged) as T;
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, defanged(v)])) as T;
  }
  return value;
}

export function createAuditLog(opts: AuditLogOptions): AuditLog {
  const enabled = opts.enabled !== false;
  const { db } = opts.sink;
  const queue = db.prepare('INSERT INTO audit_outbox (rid, queued_at) VALUES (?, ?)');
  const liveRowOf = (type: string, id: string) => {
    const row = resourceRow(db, type, id);
    return row && !row.deleted ? row : undefined;
  };

  const log = opts.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const spill: AuditSpill = createAuditSpill({ file: opts.spillFile, key: opts.key, log });

  /** Writes one event (inside the caller's transaction when there is one); throws what the store throws. */
  function writeNow(event: AuditEvent, project: string): string {
    const id = opts.sink.createEvent(event, project);
    queue.run(ridOf(db, 'AuditEvent', id), opts.clock().getTime());
    return id;
  }

  let pending: Pending[] = [];
  let scheduled = false;
  let batchTimer: ReturnType<typeof setTimeout> | undefined;
  /** When queued events were last written (performance.now()). */
  let lastWriteAt = -Infinity;
  let retrying: Pending[] = [];
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const writeAll = db.transaction((batch: Pending[]) => {
    for (const item of batch) {
      writeNow(item.event, item.project);
    }
  });

  function spillItems(items: Pending[], why?: string): void {
    const at = opts.clock().toISOString();
    spill.append(items.map((item) => ({ event: item.event, project: item.project, error: item.error ?? why ?? 'not stored', at })));
  }

  function failed(item: Pending, err: unknown): void {
    item.attempts++;
    item.error = safeText(outcomeText(err, (err as Error)?.message ?? String(err)), 300) ?? 'error';
    if (item.attempts > RETRY_DELAYS_MS.length || closed) {
      spillItems([item]);
      return;
    }
    // A second try of an event the store refused: every string in it made safe.
    item.event = defanged(item.event);
    retrying.push(item);
    if (!retryTimer) {
      retryTimer = setTimeout(retryNow, RETRY_DELAYS_MS[item.attempts - 1]);
      retryTimer.unref?.();
    }
  }

  /** Stores each item in its own savepoint, so one bad event cannot take the others down. */
  function storeEach(items: Pending[]): void {
    for (const item of items) {
      try {
        inTransaction(db, () => writeNow(item.event, item.project));
      } catch (err) {
        failed(item, err);
      }
    }
  }

  function retryNow(): void {
    retryTimer = undefined;
    const items = retrying;
    retrying = [];
    if (!db.open) {
      spillItems(items, 'the database was closed');
      return;
    }
    storeEach(items);
  }

  function write(event: AuditEvent, project: string): string | undefined {
    if (!enabled) {
      return undefined;
    }
    if (!db.open) {
      spillItems([{ event, project, attempts: 1 }], 'the database was closed');
      return undefined;
    }
    try {
      return inTransaction(db, () => writeNow(event, project));
    } catch (err) {
      failed({ event, project, attempts: 0 }, err);
      return undefined;
    }
  }

  function flush(): void {
    if (pending.length === 0) {
      return;
    }
    if (db.open && db.inTransaction) {
      // Written inside someone's transaction, they would be rolled back with it: wait for it to end.
      schedule();
      return;
    }
    const batch = pending;
    pending = [];
    clearTimeout(batchTimer);
    batchTimer = undefined;
    scheduled = false;
    lastWriteAt = performance.now();
    if (!db.open) {
      spillItems(batch, 'the database was closed');
      return;
    }
    try {
      writeAll(batch);
    } catch {
      storeEach(batch);
    }
  }

  /**
   * Queued events are written on the next turn of the event loop after a quiet spell, and at most
   * once every AUDIT_BATCH_MS while requests keep coming (one commit for a burst, such as the requests
   * that open a chart, not one each: a commit costs more than most reads it records).
   */
  function schedule(): void {
    if (scheduled) {
      return;
    }
    scheduled = true;
    const run = (): void => {
      scheduled = false;
      batchTimer = undefined;
      flush();
    };
    const wait = lastWriteAt + AUDIT_BATCH_MS - performance.now();
    if (wait <= 0) {
      setImmediate(run);
    } else {
      batchTimer = setTimeout(run, wait);
    }
  }

  function replaySpilled(): AuditReplayReport | undefined {
    if (!enabled) {
      return undefined; // left for a run that audits (only benchmarks turn audit off)
    }
    const replay = spill.take();
    if (!replay) {
      return undefined;
    }
    let stored = 0;
    const again: Pending[] = [];
    for (const item of replay.items) {
      try {
        inTransaction(db, () => writeNow(defanged(item.event), item.project));
        stored++;
      } catch (err) {
        again.push({ event: item.event, project: item.project, attempts: RETRY_DELAYS_MS.length + 1, error: safeText(outcomeText(err, 'error'), 300) });
      }
    }
    spillItems(again);
    replay.done();
    const report: AuditReplayReport = { stored, failed: again.length, unreadable: replay.unreadable, unreadableFile: replay.unreadableFile };
    const words = `stored ${stored} audit event(s) kept in ${spill.file} by an earlier run` +
      (again.length ? `; ${again.length} failed again and stay there for the next start` : '') +
      (replay.unreadable ? `; ${replay.unreadable} unreadable line(s) moved to ${replay.unreadableFile}` : '');
    log(`Outpost: ${words}`);
    // The owner's record of it, in the system audit: when events were recovered, and how many.
    write(
      operationAuditEvent({
        action: 'audit-recovered',
        project: SYSTEM_AUDIT_PROJECT,
        agent: { who: { display: 'Outpost' } },
        outcome: again.length || replay.unreadable ? 'error' : 'success',
        reason: words,
        recorded: opts.clock().toISOString(),
      }),
      SYSTEM_AUDIT_PROJECT,
    );
    return report;
  }

  function membershipOf(id: string | undefined): ProjectMembership | undefined {
    const row = id ? resourceRow(db, 'ProjectMembership', id) : undefined;
    return row ? (JSON.parse(row.content) as ProjectMembership) : undefined;
  }

  /** The one account an auth event is about (by id, or by the email typed when it names exactly one). */
  function userOf(event: AuthAuditEvent): string | undefined {
    if (event.userId) {
      return event.userId;
    }
    const users = event.email ? usersByEmail(db, event.email) : [];
    return users.length === 1 ? users[0].id : undefined;
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
      const scoped = liveResource<User>(db, 'User', userId)?.project?.reference?.split('/')[1];
      const memberOf = membershipsOfUser(db, `User/${userId}`).map((m) => m.project?.reference?.split('/')[1]);
      const projects = scoped ? [scoped] : [...new Set(memberOf.filter((x): x is string => !!x))];
      if (projects.length) {
        return projects;
      }
    }
    const client = event.clientId ? liveRowOf('ClientApplication', event.clientId)?.project : undefined;
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
        writeNow(event, input.project);
        return;
      }
      pending.push({ event, project: input.project, attempts: 0 });
      if (pending.length >= 500) {
        flush();
      } else {
        schedule();
      }
    },
    flush,
    replaySpilled,
    close() {
      flush();
      closed = true;
      clearTimeout(retryTimer);
      retryNow();
      if (pending.length) {
        // Still queued behind a transaction that never ended: nothing else will write them.
        spillItems(pending, 'not written before the host closed');
        pending = [];
      }
    },
    auth(event) {
      if (!enabled) {
        return;
      }
      try {
        authEvent(event);
      } catch (err) {
        // Looking up the event's project failed (a closed or broken database): the event is still kept.
        failed({ event: authAuditEvent({ project: SYSTEM_AUDIT_PROJECT, event: event.type, outcome: event.outcome === 'success' ? 'success' : 'denied', reason: event.reason, agent: { who: { display: typedIdentity(event) } }, recorded: event.recorded }), project: SYSTEM_AUDIT_PROJECT, attempts: 0 }, err);
      }
    },
  };

  function authEvent(event: AuthAuditEvent): void {
    const membership = membershipOf(event.membershipId);
    const userId = userOf(event);
    const clientKnown = event.clientId !== undefined && liveRowOf('ClientApplication', event.clientId) !== undefined;
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
  }
}

/**
 * What an unknown caller typed as its identity. Only something shaped like an email address is kept:
 * a password typed into the email field must never be written into an AuditEvent.
 */
function typedIdentity(event: AuthAuditEvent): string {
  if (event.email !== undefined) {
    const email = event.email.trim();
    // No control character, no lone surrogate: a typed identity is stored as it was typed, or not at all.
    return /^[^\s@\p{Cc}]{1,64}@[^\s@\p{Cc}]{1,255}$/u.test(email) && email.isWellFormed() ? email.toLowerCase() : 'unknown (not an email address)';
  }
  return event.clientId !== undefined ? 'unknown client' : 'unknown';
}
