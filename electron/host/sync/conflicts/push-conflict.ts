// A push refused because the remote changed (409/412), or an update of a resource gone remotely.
//
// The remote version is fetched and merged three ways against the base: the local version whose
// content the remote last had (sync_id_map.base_version, read with store.vread). When no element path
// overlaps, the merged resource is PUT with If-Match on the fetched version and written locally as a
// new local version (inside outbox.remote, so it is not a new local change): nothing lost, nothing
// sent twice. When paths overlap, or the resource was deleted on one side and edited on the other, a
// conflict record (conflicts.ts) waits for a person; the remote is left untouched.
// Push (push/push.ts) calls here with the outbox rows the remote refused; a pull meets conflicts in
// pull/pull-page.ts (a pulled version over a pending change) and pull/pull-reconcile.ts (deleted remotely).
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { Replica } from '../../access/index.ts';
import type { Db } from '../../db/types.ts';
import { recordConflict } from './conflicts.ts';
import { changedPaths, comparable, threeWayMerge } from './merge.ts';
import { outgoingBody, toLocalReferences, toRemoteReferences, type IdMap } from '../id-map.ts';
import type { Outbox, OutboxRow, Outcome } from '../outbox.ts';
import { isRetryable, type Remote } from '../remote/remote.ts';
import { resourceRow } from '../../db/resources.ts';

export interface ConflictDeps {
  db: Db;
  remote: Remote;
  store?: Replica;
  outbox?: Outbox;
  ids: IdMap;
  clock: () => Date;
}

/** An outbox row a push sent, and its remote id (undefined for a create). */
export interface SentRow {
  row: OutboxRow;
  remoteId?: string;
}

export type ConflictOutcome = { state: 'done'; merged: boolean } | { state: Outcome; reason?: string; unauthorized?: boolean };

function transient(status: number, error: string | undefined): ConflictOutcome {
  if (status === 401) return { state: 'later', reason: error, unauthorized: true };
  if (isRetryable(status)) return { state: 'later', reason: error };
  return { state: status === 403 ? 'quarantined' : 'held', reason: error };
}

export async function handlePushConflict(deps: ConflictDeps, p: SentRow, status: number): Promise<ConflictOutcome> {
  const { db, remote, store, ids } = deps;
  const { row } = p;
  const now = deps.clock().getTime();
  const localRow = resourceRow(db, row.type, row.id);
  const local = localRow && !localRow.deleted ? (JSON.parse(localRow.content) as Resource) : null;
  const mapRow = db.prepare<[string, string], { base_version: number | null; remote_id: string }>('SELECT base_version, remote_id FROM sync_id_map WHERE type = ? AND local_id = ?').get(row.type, row.id);
  let base: Resource | null = null;
  if (store && mapRow?.base_version) {
    try {
      base = store.vread(row.type, row.id, String(mapRow.base_version));
    } catch {
      base = null;
    }
  }
  const conflict = (reason: string, remoteResource: Resource | null, fields?: string[]): ConflictOutcome => {
    recordConflict(db, { type: row.type, id: row.id, project: row.project, reason, local, remote: remoteResource, base, fields }, now);
    return { state: 'conflict', reason: fields?.length ? `Conflict (${reason}): ${fields.join(', ')}` : `Conflict (${reason})` };
  };

  if (!p.remoteId) {
    // A create refused (e.g. its Outpost identifier matched several remote resources): a person decides.
    return row.op === 'create' ? conflict(`create-refused-${status}`, null) : { state: 'held', reason: `HTTP ${status}` };
  }
  const fetched = await remote.request('GET', `${row.type}/${p.remoteId}`);
  if (fetched.status === 404 || fetched.status === 410) {
    if (row.op === 'delete') {
      db.transaction(() => {
        db.prepare('DELETE FROM sync_id_map WHERE type = ? AND local_id = ?').run(row.type, row.id);
        db.prepare('DELETE FROM sync_outbox WHERE type = ? AND id = ? AND version = ?').run(row.type, row.id, row.version);
      })();
      return { state: 'done', merged: false };
    }
    return conflict('deleted-remotely', null);
  }
  if (fetched.status !== 200 || !fetched.body) return transient(fetched.status, fetched.error);
  const theirs = fetched.body;
  const theirVersion = theirs.meta?.versionId;
  const noUnsent = () => false;
  const baseOut = base ? toRemoteReferences(base, ids, noUnsent).resource : null;

  if (row.op === 'delete') {
    // Delete only what we had seen: a remote edit since then makes it a conflict.
    if (!baseOut || changedPaths(comparable(baseOut), comparable(theirs)).length > 0) {
      return conflict('deleted-locally', theirs, baseOut ? changedPaths(comparable(baseOut), comparable(theirs)) : []);
    }
    const res = await remote.request('DELETE', `${row.type}/${p.remoteId}`, undefined, theirVersion ? { 'if-match': `W/"${theirVersion}"` } : {});
    if (res.status >= 300 && res.status !== 404 && res.status !== 410) return res.status === 412 || res.status === 409 ? { state: 'later', reason: 'Changed again remotely' } : transient(res.status, res.error);
    db.transaction(() => {
      db.prepare('DELETE FROM sync_id_map WHERE type = ? AND local_id = ?').run(row.type, row.id);
      db.prepare('DELETE FROM sync_outbox WHERE type = ? AND id = ? AND version = ?').run(row.type, row.id, row.version);
    })();
    return { state: 'done', merged: false };
  }

  if (!local) return { state: 'held', reason: `HTTP ${status}` };
  const mine = toRemoteReferences(local, ids, noUnsent).resource;
  const result = threeWayMerge(baseOut, mine, theirs);
  if (result.conflicts.length > 0 || !store || !deps.outbox) {
    return conflict('edited-both', theirs, result.conflicts.length > 0 ? result.conflicts : changedPaths(comparable(mine), comparable(theirs)));
  }
  const authors = (db.prepare('SELECT authors FROM sync_outbox WHERE type = ? AND id = ?').get(row.type, row.id) as { authors: string | null } | undefined)?.authors ?? null;
  const mergedOut = outgoingBody({ ...result.merged, resourceType: row.type, meta: mine.meta } as Resource, row.id, p.remoteId, authors, ids);
  let remoteVersion = theirVersion ?? null;
  if (changedPaths(comparable(mergedOut), comparable(theirs)).length > 0) {
    const res = await remote.request('PUT', `${row.type}/${p.remoteId}`, mergedOut, theirVersion ? { 'if-match': `W/"${theirVersion}"` } : {});
    if (res.status === 409 || res.status === 412) return { state: 'later', reason: 'Changed again remotely' };
    if (res.status !== 200 && res.status !== 201) return transient(res.status, res.error);
    remoteVersion = res.body?.meta?.versionId ?? null;
  }
  // The merged result locally, as a new local version, unless the person edited it again meanwhile.
  const outbox = deps.outbox;
  const mergedLocal = toLocalReferences({ ...result.merged, resourceType: row.type, id: row.id, meta: local.meta } as Resource, ids);
  db.transaction(() => {
    const current = resourceRow(db, row.type, row.id);
    let baseVersion: number | null = null;
    if (current?.version === row.version) {
      const written = changedPaths(comparable(mergedLocal), comparable(local)).length > 0 ? outbox.remote(() => store.update(mergedLocal)) : undefined;
      baseVersion = written ? Number(written.resource.meta?.versionId) : row.version;
    }
    db.prepare('UPDATE sync_id_map SET remote_version = ?, base_version = ? WHERE type = ? AND local_id = ?').run(remoteVersion, baseVersion, row.type, row.id);
    db.prepare('DELETE FROM sync_outbox WHERE type = ? AND id = ? AND version = ?').run(row.type, row.id, row.version);
  })();
  return { state: 'done', merged: true };
}

/**
 * A DELETE carries If-Match, but Medplum (and its router) ignores If-Match on delete: so the remote
 * versions of the resources to delete are read first (batches of GETs), and a resource edited remotely
 * since we last saw it goes through the conflict path (a remote edit is never deleted silently):
 * `settle` gets its outcome. Returns the entries still to send.
 */
export async function checkRemoteBeforeDelete<P extends SentRow>(
  deps: ConflictDeps,
  planned: P[],
  batchSize: number,
  settle: (p: P, outcome: ConflictOutcome) => void,
): Promise<P[]> {
  const deletes = planned.filter((p) => p.row.op === 'delete' && p.remoteId);
  if (deletes.length === 0) return planned;
  const seenVersion = deps.db.prepare<[string, string], string | null>('SELECT remote_version FROM sync_id_map WHERE type = ? AND local_id = ?').pluck();
  const settled = new Set<P>();
  for (let i = 0; i < deletes.length; i += batchSize) {
    const chunk = deletes.slice(i, i + batchSize);
    const res = await deps.remote.request('POST', '', { resourceType: 'Bundle', type: 'batch', entry: chunk.map((p) => ({ request: { method: 'GET', url: `${p.row.type}/${p.remoteId}` } })) });
    const answers = res.status === 200 ? ((res.body as Bundle | undefined)?.entry ?? []) : [];
    for (const [j, p] of chunk.entries()) {
      const answer = answers[j];
      const seen = seenVersion.get(p.row.type, p.row.id);
      const version = answer?.resource?.meta?.versionId;
      if (Number.parseInt(answer?.response?.status ?? '0', 10) === 200 && seen && version && version !== seen) {
        settled.add(p);
        settle(p, await handlePushConflict(deps, p, 412));
      }
    }
  }
  return settled.size === 0 ? planned : planned.filter((p) => !settled.has(p));
}
