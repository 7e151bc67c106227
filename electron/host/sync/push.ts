// Push: sends the outbox to the remote, one resource at a time, in dependency order.
//
// Ids: Medplum assigns ids on create and refuses PUT-create (404), so a local create is POSTed with
// `If-None-Exist` on an Outpost identifier (system OUTPOST_ID_SYSTEM, value = local id; a meta.tag of
// the same system for types without `identifier`). A retry after a lost answer finds the resource the
// server already committed instead of duplicating it. The server's id is kept in sync_id_map; local ids
// never change, and every outgoing reference `Type/localId` is rewritten to `Type/remoteId`.
// A create whose referenced resources are not on the remote yet waits for them (a Patient before its
// Encounter before its Observation); when one of them is held, so are its dependents.
//
// Outcomes per row: 2xx done (row removed unless a newer local version arrived meanwhile); 409/412 and
// an update of a resource gone remotely (404/410) -> 'conflict' (the remote is never overwritten);
// 400/422 -> 'held' with the reason; 403 -> 'quarantined'; network, 5xx, 429 (after the remote's own
// retries) -> stays pending with next_attempt_at backed off; 401 stops the run (token refresh: TODO).
import { tryGetDataType } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { Db } from '../store/types.ts';
import { dueRows, type OutboxRow, type OutboxState } from './outbox.ts';
import { backoffMs, isRetryable, type Remote, type RemoteResponse } from './remote.ts';

export const OUTPOST_ID_SYSTEM = 'https://outpost.local/fhir/local-id';

export interface PushOptions {
  db: Db;
  remote: Remote;
  clock?: () => Date;
  /** Rows per run (default 1000). */
  limit?: number;
}

export interface PushSummary {
  pushed: number;
  held: number;
  conflicts: number;
  quarantined: number;
  /** Left pending for a later run (transient failures, or waiting on a dependency that failed transiently). */
  retryLater: number;
  /** The remote refused the token: the run stopped. */
  unauthorized: boolean;
}

const REFERENCE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/;

/** Every `reference` string of a resource, with a setter to rewrite it. */
function forEachReference(value: unknown, fn: (ref: string, set: (v: string) => void) => void): void {
  if (Array.isArray(value)) {
    for (const v of value) forEachReference(v, fn);
  } else if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      const v = obj[key];
      if (key === 'reference' && typeof v === 'string') {
        fn(v, (next) => (obj[key] = next));
      } else if (typeof v === 'object') {
        forEachReference(v, fn);
      }
    }
  }
}

function hasIdentifier(type: string): boolean {
  return Boolean(tryGetDataType(type)?.elements?.identifier);
}

function sameSystem(system: string | undefined): boolean {
  return system === OUTPOST_ID_SYSTEM;
}

/** The create body: no local id or store meta, plus the Outpost identifier (or tag); and its If-None-Exist. */
function createBody(resource: Resource, localId: string): { body: Resource; ifNoneExist: string } {
  const body = JSON.parse(JSON.stringify(resource)) as Resource & { identifier?: { system?: string; value?: string }[] };
  delete body.id;
  const meta = { ...(body.meta ?? {}) } as Record<string, unknown>;
  delete meta.versionId;
  delete meta.lastUpdated;
  delete meta.project;
  body.meta = meta;
  const token = `${OUTPOST_ID_SYSTEM}|${localId}`;
  if (hasIdentifier(resource.resourceType)) {
    body.identifier = [...(body.identifier ?? []).filter((i) => !sameSystem(i.system)), { system: OUTPOST_ID_SYSTEM, value: localId }];
    return { body, ifNoneExist: `identifier=${encodeURIComponent(token)}` };
  }
  const tags = ((meta.tag as { system?: string }[] | undefined) ?? []).filter((t) => !sameSystem(t.system));
  meta.tag = [...tags, { system: OUTPOST_ID_SYSTEM, code: localId }];
  return { body, ifNoneExist: `_tag=${encodeURIComponent(token)}` };
}

export async function pushOutbox(opts: PushOptions): Promise<PushSummary> {
  const { db, remote } = opts;
  const clock = opts.clock ?? (() => new Date());
  const summary: PushSummary = { pushed: 0, held: 0, conflicts: 0, quarantined: 0, retryLater: 0, unauthorized: false };
  const sql = {
    content: db.prepare<[string, string], { content: string; deleted: number }>('SELECT content, deleted FROM resource WHERE type = ? AND id = ?'),
    mapped: db.prepare<[string, string], { remote_id: string; remote_version: string | null }>(
      'SELECT remote_id, remote_version FROM sync_id_map WHERE type = ? AND local_id = ?',
    ),
    map: db.prepare<[string, string, string, string | null]>(
      'INSERT OR REPLACE INTO sync_id_map (type, local_id, remote_id, remote_version) VALUES (?, ?, ?, ?)',
    ),
    unmap: db.prepare<[string, string]>('DELETE FROM sync_id_map WHERE type = ? AND local_id = ?'),
    attempt: db.prepare<[string, string]>('UPDATE sync_outbox SET attempts = attempts + 1 WHERE type = ? AND id = ?'),
    // Done: remove the row unless a newer local version arrived while the request was out.
    done: db.prepare<[string, string, number]>('DELETE FROM sync_outbox WHERE type = ? AND id = ? AND version = ?'),
    createdNewer: db.prepare<[string, string]>("UPDATE sync_outbox SET op = 'update', attempts = 0 WHERE type = ? AND id = ? AND op = 'create'"),
    setState: db.prepare<[OutboxState, string | null, string, string]>('UPDATE sync_outbox SET state = ?, last_error = ? WHERE type = ? AND id = ?'),
    later: db.prepare<[number, string | null, string, string]>('UPDATE sync_outbox SET next_attempt_at = ?, last_error = ? WHERE type = ? AND id = ?'),
  };

  const rows = dueRows(db, clock().getTime(), opts.limit ?? 1000);
  const pendingCreate = new Set(rows.filter((r) => r.op === 'create').map((r) => `${r.type}/${r.id}`));
  const failed = new Map<string, 'held' | 'later'>();

  function finish(row: OutboxRow, state: OutboxState | 'later', reason: string | undefined, res?: RemoteResponse): void {
    const key = `${row.type}/${row.id}`;
    if (state === 'later') {
      const wait = backoffMs(row.attempts + 1, res?.retryAfterMs, 1000, 15 * 60_000, Math.random);
      sql.later.run(clock().getTime() + wait, reason ?? null, row.type, row.id);
      summary.retryLater++;
      failed.set(key, 'later');
      return;
    }
    sql.setState.run(state, reason ?? null, row.type, row.id);
    if (state === 'held') {
      summary.held++;
      failed.set(key, 'held');
    } else if (state === 'conflict') {
      summary.conflicts++;
    } else if (state === 'quarantined') {
      summary.quarantined++;
      failed.set(key, 'held');
    }
  }

  function classify(row: OutboxRow, res: RemoteResponse): OutboxState | 'later' {
    if (res.status === 401) {
      summary.unauthorized = true;
      return 'later';
    }
    if (res.status === 409 || res.status === 412) return 'conflict';
    if (res.status === 403) return 'quarantined';
    if (isRetryable(res.status)) return 'later';
    if ((res.status === 404 || res.status === 410) && row.op === 'update') return 'conflict';
    return 'held';
  }

  /** Outgoing copy with references rewritten to remote ids; or the local dependency that is not there yet. */
  function translate(resource: Resource): { resource: Resource } | { waitingOn: string } {
    const copy = JSON.parse(JSON.stringify(resource)) as Resource;
    let waitingOn: string | undefined;
    forEachReference(copy, (ref, set) => {
      const m = REFERENCE.exec(ref);
      if (!m) return;
      const target = sql.mapped.get(m[1], m[2]);
      if (target) {
        set(`${m[1]}/${target.remote_id}`);
      } else if (pendingCreate.has(ref) || failed.has(ref)) {
        waitingOn ??= ref;
      }
    });
    return waitingOn ? { waitingOn } : { resource: copy };
  }

  async function pushRow(row: OutboxRow): Promise<void> {
    const key = `${row.type}/${row.id}`;
    const local = sql.content.get(row.type, row.id);
    const mapped = sql.mapped.get(row.type, row.id);
    if (row.op === 'delete') {
      let remoteId = mapped?.remote_id;
      if (!remoteId) {
        // A create that may have landed before we heard back: find it by the Outpost identifier/tag.
        const param = hasIdentifier(row.type) ? 'identifier' : '_tag';
        const found = await remote.request('GET', `${row.type}?${param}=${encodeURIComponent(`${OUTPOST_ID_SYSTEM}|${row.id}`)}`);
        if (found.status !== 200) return finish(row, classify(row, found), found.error, found);
        remoteId = (found.body as { entry?: { resource?: Resource }[] } | undefined)?.entry?.[0]?.resource?.id;
      }
      if (remoteId) {
        const res = await remote.request('DELETE', `${row.type}/${remoteId}`);
        if (res.status >= 300 && res.status !== 404 && res.status !== 410) return finish(row, classify(row, res), res.error, res);
      }
      sql.unmap.run(row.type, row.id);
      sql.done.run(row.type, row.id, row.version);
      summary.pushed++;
      return;
    }
    if (!local || local.deleted) {
      sql.done.run(row.type, row.id, row.version);
      return;
    }
    const out = translate(JSON.parse(local.content) as Resource);
    if ('waitingOn' in out) {
      const why = failed.get(out.waitingOn);
      if (why === 'held') return finish(row, 'held', `Depends on ${out.waitingOn}, which is held`);
      return finish(row, 'later', `Waiting for ${out.waitingOn}`);
    }
    if (row.op === 'create' || !mapped) {
      const { body, ifNoneExist } = createBody(out.resource, row.id);
      sql.attempt.run(row.type, row.id);
      const res = await remote.request('POST', row.type, body, { 'if-none-exist': ifNoneExist });
      if ((res.status === 200 || res.status === 201) && res.body?.id) {
        db.transaction(() => {
          sql.map.run(row.type, row.id, res.body!.id!, res.body!.meta?.versionId ?? null);
          if (sql.done.run(row.type, row.id, row.version).changes === 0) sql.createdNewer.run(row.type, row.id);
        })();
        pendingCreate.delete(key);
        summary.pushed++;
        return;
      }
      return finish(row, classify(row, res), res.error, res);
    }
    const body = { ...out.resource, id: mapped.remote_id } as Resource;
    if (body.meta) {
      const meta = { ...body.meta } as Record<string, unknown>;
      delete meta.versionId;
      delete meta.lastUpdated;
      delete meta.project;
      body.meta = meta;
    }
    const headers: Record<string, string> = mapped.remote_version ? { 'if-match': `W/"${mapped.remote_version}"` } : {};
    const res = await remote.request('PUT', `${row.type}/${mapped.remote_id}`, body, headers);
    if (res.status === 200 && res.body) {
      db.transaction(() => {
        sql.map.run(row.type, row.id, mapped.remote_id, res.body!.meta?.versionId ?? null);
        sql.done.run(row.type, row.id, row.version);
      })();
      summary.pushed++;
      return;
    }
    return finish(row, classify(row, res), res.error, res);
  }

  // Passes over the rows: a create waiting on another create of this run is retried after it.
  let queue = rows;
  while (queue.length > 0 && !summary.unauthorized) {
    const next: OutboxRow[] = [];
    for (const row of queue) {
      const local = row.op === 'delete' ? undefined : sql.content.get(row.type, row.id);
      if (local && !local.deleted) {
        const out = translate(JSON.parse(local.content) as Resource);
        if ('waitingOn' in out && pendingCreate.has(out.waitingOn) && !failed.has(out.waitingOn)) {
          next.push(row);
          continue;
        }
      }
      await pushRow(row);
      if (summary.unauthorized) break;
    }
    if (next.length === queue.length) {
      // A cycle of creates: leave them for a person (not expected from FHIR data entry).
      for (const row of next) finish(row, 'held', 'Circular references between unsent resources');
      break;
    }
    queue = next;
  }
  return summary;
}
