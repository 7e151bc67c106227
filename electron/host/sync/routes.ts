// The host routes of sync (shared/contract/sync.ts; the UI calls them through its typed client):
//   GET    outpost/sync/status                    state, progress, pending / held changes, conflicts
//   POST   outpost/sync/run                       {pullOnly?, pushOnly?, tenant? (admins)} -> the run summary (409 while one runs)
//   POST   outpost/sync/conflicts/:id/resolve     {keep: 'local'|'remote'|'merge', fields?} -> the resolved resource
//                                                  (as the session may read it; an OperationOutcome when it ends deleted)
//   GET | PUT | DELETE outpost/sync/remote       the project's remote (project admins only; never a secret)
// Every route needs a session and acts in the session's project. What status lists is filtered in SQL
// by the session's access policy (the enforcement point's read restriction per type), and resources in
// conflicts are presented as that policy allows (hidden fields removed).
import { allOk } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { syncContract, type ResolveChoice, type SyncChange, type SyncStatus } from '../../../shared/contract/sync.ts';
import { errors, outcomeText } from '../../../shared/errors.ts';
import { agentOf } from '../admin/context.ts';
import { operationAuditEvent } from '../audit/events.ts';
import type { AuditLog } from '../audit/log.ts';
import type { Session } from '../auth/types.ts';
import type { Repository } from '../access/index.ts';
import { restrictedDomainRows } from '../db/replication.ts';
import type { Db } from '../db/types.ts';
import { route } from '../routes/contract.ts';
import { respondJson } from '../routes/respond.ts';
import { authenticated, type Route } from '../routes/router.ts';
import type { SyncConfig } from './config.ts';
import { getConflict } from './conflicts/conflicts.ts';
import type { OutboxRow } from './outbox.ts';
import type { SyncRunner } from './runner.ts';

/** At most this many pending / held rows in one status answer (the counts are complete). */
const LIST_LIMIT = 500;

export interface SyncRouteDeps {
  /** The store's connection, for sync's own tables (listed through restrictedDomainRows). */
  db: Db;
  audit: AuditLog;
  config: SyncConfig;
  runner: SyncRunner;
  /** Resolves a conflict as an update by `writer`, the resolving session's repository (resolveConflict). */
  resolve?: (conflictId: string, choice: ResolveChoice, writer: Repository) => Resource | null | Promise<Resource | null>;
}

/** Subtype codes (OUTPOST_AUDIT) of the sync actions a person takes. */
type SyncAuditAction = 'sync-remote-set' | 'sync-remote-removed' | `sync-conflict-kept-${ResolveChoice['keep']}`;

export type { ResolveChoice };

function item(row: OutboxRow): SyncChange {
  return {
    id: `${row.type}/${row.id}`,
    resourceType: row.type,
    resourceId: row.id,
    operation: row.op,
    changedAt: new Date(row.changed_at).toISOString(),
    state: row.state as SyncChange['state'],
    ...(row.last_error ? { reason: row.last_error } : {}),
  };
}

/**
 * Rows of sync's outbox or conflicts the session may see: those of types it may read, and (where its
 * policy restricts the type) only rows whose stored resource it may read. Rows are capped at LIST_LIMIT
 * of each type; with `countBy`, the complete count of visible rows per value of that column.
 */
function visibleRows<T>(
  repo: Repository,
  db: Db,
  select: string,
  table: 'sync_outbox' | 'sync_conflict',
  where: string,
  params: unknown[],
  order: string,
  countBy?: string,
): { rows: (T & { rid: number | null })[]; counts: Map<string, number> } {
  return restrictedDomainRows<T>(db, { table, select, where, params, order, limit: LIST_LIMIT, countBy }, (type) => repo.readRestriction(type));
}

export function syncRoutes(deps: SyncRouteDeps): Route[] {
  const { db, config, runner } = deps;
  const c = syncContract;
  /** An AuditEvent for what changes how or where the project's data leaves this computer (never a secret in it). */
  const audit = (session: Session, action: SyncAuditAction, outcome: 'success' | 'denied', entity?: string, reason?: string): void => {
    if (!deps.audit.enabled) {
      return;
    }
    const event = operationAuditEvent({ action, project: session.projectId, agent: agentOf(session), outcome, reason, entity, recorded: new Date().toISOString() });
    deps.audit.write(event, session.projectId);
  };
  const requireAdmin = (session: Session, change?: SyncAuditAction): Session => {
    if (session.membership.admin !== true) {
      const reason = 'Only an administrator of this project may configure its remote';
      if (change) audit(session, change, 'denied', undefined, reason);
      throw errors.forbidden(reason);
    }
    return session;
  };

  function status(session: Session, repo: Repository): SyncStatus {
    const project = session.projectId;
    const visibleOutbox = visibleRows<OutboxRow>(repo, db, 'x.*', 'sync_outbox', "x.project = ? AND x.state <> 'conflict'", [project], 'x.seq', 'x.state');
    const outbox = visibleOutbox.rows.sort((a, b) => a.seq - b.seq);
    const countOf = (state: string) => visibleOutbox.counts.get(state) ?? 0;
    const conflicts = visibleRows<{ id: string }>(repo, db, 'x.id, x.created_at', 'sync_conflict', 'x.project = ?', [project], 'x.created_at, x.id').rows.map((row) => {
      const c = getConflict(db, row.id)!;
      const show = (r: Resource | null) => (r ? repo.presentAsRead(r, row.rid) : null);
      return { id: c.id, resourceType: c.resourceType, resourceId: c.resourceId, reason: c.reason, fields: c.fields, local: show(c.local), remote: show(c.remote), base: show(c.base), createdAt: c.createdAt };
    });
    const state = runner.status(project);
    const remote = config.get(project);
    return {
      online: state.online,
      running: state.running,
      ...(state.lastSync ? { lastSync: state.lastSync } : {}),
      // The last finished run's summary (counts and errors in words, no resource data): a panel that found a
      // sync already running (409, e.g. the background loop's) shows this when it ends.
      ...(state.lastResult ? { lastRun: state.lastResult } : {}),
      ...(state.progress ? { progress: state.progress } : {}),
      ...(remote ? { remote: { baseUrl: remote.baseUrl, auth: remote.auth, ...(remote.clientId ? { clientId: remote.clientId } : {}) } } : {}),
      pending: outbox.filter((r) => r.state === 'pending').map(item),
      held: outbox.filter((r) => r.state === 'held' || r.state === 'quarantined').map(item),
      conflicts,
      // The lists stop at LIST_LIMIT rows per type; these are the complete numbers the session may see.
      counts: { pending: countOf('pending'), held: countOf('held') + countOf('quarantined') },
    };
  }

  return [
    route(c.status, authenticated((_req, { session, repo }) => respondJson(status(session, repo)))),
    route(
      c.run,
      authenticated(async (req, { session }) => {
        const body = req.input().body;
        if (!config.get(session.projectId)) {
          throw errors.badRequest('This project has no remote: an administrator configures it first');
        }
        if (body.tenant && session.membership.admin !== true) {
          throw errors.forbidden('Only an administrator of this project may pull the whole project');
        }
        const result = await runner.run({ project: session.projectId, pullOnly: body.pullOnly, pushOnly: body.pushOnly, tenant: body.tenant });
        if ('alreadyRunning' in result) {
          throw errors.conflict('A sync is already running');
        }
        return respondJson(result);
      })
    ),
    route(
      c.resolve,
      authenticated(async (req, { session, repo }) => {
        const choice = req.input().body;
        const conflict = getConflict(db, req.params.conflictId);
        const visible =
          conflict?.project === session.projectId &&
          visibleRows(repo, db, 'x.id', 'sync_conflict', 'x.id = ?', [conflict.id], 'x.id').rows.length === 1;
        if (!conflict || !visible) {
          throw errors.notFound('No such conflict');
        }
        // Pushing a local deletion needs the delete permission; every other choice is an update.
        repo.requireInteraction(conflict.resourceType, choice.keep === 'local' && conflict.local === null ? 'delete' : 'update');
        if (!deps.resolve) {
          throw errors.methodNotAllowed('Resolving conflicts is not available in this build');
        }
        let resolved: Resource | null;
        try {
          resolved = await deps.resolve(conflict.id, choice, repo);
        } catch (err) {
          audit(session, `sync-conflict-kept-${choice.keep}`, 'denied', `${conflict.resourceType}/${conflict.resourceId}`, outcomeText(err, 'refused'));
          throw err;
        }
        audit(session, `sync-conflict-kept-${choice.keep}`, 'success', `${conflict.resourceType}/${conflict.resourceId}`);
        // The person chose a deletion: nothing left to show. Otherwise the resource as the session reads it.
        return respondJson<Resource>(resolved ?? allOk);
      })
    ),
    route(
      c.remote,
      authenticated((_req, { session }) => {
        const remote = config.get(requireAdmin(session).projectId);
        if (!remote) {
          throw errors.notFound('This project has no remote');
        }
        return respondJson(remote);
      })
    ),
    route(
      c.setRemote,
      authenticated((req, { session }) => {
        requireAdmin(session, 'sync-remote-set');
        const saved = config.set(session.projectId, req.input().body);
        audit(session, 'sync-remote-set', 'success');
        return respondJson(saved);
      })
    ),
    route(
      c.removeRemote,
      authenticated((_req, { session }) => {
        requireAdmin(session, 'sync-remote-removed');
        if (!config.remove(session.projectId)) {
          throw errors.notFound('This project has no remote');
        }
        audit(session, 'sync-remote-removed', 'success');
        return respondJson(allOk);
      })
    ),
  ];
}
