// Reconciling what the remote no longer has (or no longer shows us) after a type's incremental pull.
//
// How disappearance is detected: an id-listing pass per type, `Type?_elements=id&_sort=_lastUpdated
// &_count=1000` following `next` (each entry is an id and meta, ~100 bytes: 100,000 resources are 100
// small pages), collected into a TEMP table and compared in SQL with the local resources sync_id_map
// says the remote had. Why not the remote's history: a `_lastUpdated` pull never returns deletions,
// Medplum's type-level `_history` is bounded and does not show resources that an access policy now
// hides, and other FHIR servers (and the test router's MemoryRepository) keep no delete history at all.
// The listing sees deletions and narrowed access the same way, on any FHIR server, in one pass, and
// it also shows what is missing here (repairGaps fetches those by `_id`).
// A listing that fails part-way removes nothing (a partial list would look like mass deletion).
//
// What then happens to a local resource the remote had and no longer lists:
//   - deleted remotely (a read of it answers 404/410): deleted in the store without an outbox row;
//     with a local change pending it is not deleted but becomes a 'deleted-remotely' conflict
//     (a pending local delete simply agrees: its outbox row goes);
//   - access revoked (the type's search answers 403, or a read of a missing one does): local copies
//     are purged (resource, history and index rows removed: the workstation must not keep what the
//     user may no longer see); a resource with a pending local change is kept and its change held
//     with the reason, and reported.
// One read probes the first missing resource of a type and classifies them all (a mix of deletions
// and revocations in one type between two syncs is classified by that probe; a probe that still reads
// is skipped, up to MAX_PROBES; a probe that fails otherwise, e.g. offline, removes nothing).
// The listing is skipped when nothing can have disappeared: the remote's count of the type
// (`_summary=count&_total=accurate`, one request) equals the number of local resources mapped to it.
// After a complete pull every resource the remote lists is mapped here, so equal counts mean equal sets;
// a deletion paired with a creation the pull has not seen yet is caught by the next sync, once the
// creation is pulled. A type whose pull had failures (resources the store refused) always lists.
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { Replica } from '../../access/index.ts';
import type { Db } from '../../db/types.ts';
import { conflictOf, recordConflict } from '../conflicts/conflicts.ts';
import type { Outbox } from '../outbox.ts';
import type { PageWriter } from './pull-page.ts';
import type { Remote } from '../remote/remote.ts';
import { withScope } from '../remote/remote-project.ts';
import { mappedCount, mappedRows, type MappedRow } from '../../db/replication.ts';
import { resourceRowByRid } from '../../db/resources.ts';

export const REVOKED_REASON = 'Access revoked remotely: the remote no longer lets this workstation read it';

/**
 * The project's own structure: never purged when the sync credential can no longer read it (a client
 * downgraded from project admin must not wipe the workstation's memberships, users and policies: its
 * members did not lose their access), and the Project itself is never removed at all.
 */
const PROJECT_STRUCTURE_TYPES: ReadonlySet<string> = new Set(['Project', 'ProjectMembership', 'User', 'ClientApplication', 'AccessPolicy']);

export interface ReconcileResult {
  /** Remote resources the listing showed that were missing here, fetched and written (gaps repaired). */
  repaired: number;
  repairFailures: { type: string; id: string; message: string }[];
  deleted: number;
  purged: number;
  conflicts: number;
  /** Local changes held for revoked access, released to push again now that the remote shows them. */
  released: number;
  /** Local changes held because access was revoked. */
  held: { type: string; id: string; reason: string }[];
  /** Set when the listing could not be completed (nothing was removed). */
  error?: string;
  unauthorized?: boolean;
}

type Missing = MappedRow;

export interface ReconcileOptions {
  db: Db;
  store: Replica;
  outbox: Outbox;
  remote: Remote;
  project: string;
  clock: () => Date;
  signal?: AbortSignal;
  /** Writes the resources a listing shows and this workstation lacks (pull.ts's page writer). */
  writer?: PageWriter;
  /** The pull's search scope (PullOptions.scope). */
  scope?: string;
}

/** `next` link -> a URL relative to the remote base (the part from `Type?`). */
export function relativeNext(next: string, type: string): string {
  const marker = `/${type}?`;
  const i = next.lastIndexOf(marker);
  return i >= 0 ? next.slice(i + 1) : next;
}

export function ensureSeenTable(db: Db): void {
  db.exec('CREATE TEMP TABLE IF NOT EXISTS sync_pull_seen (id TEXT PRIMARY KEY) WITHOUT ROWID');
}

/** Lists the remote ids of `type` into temp.sync_pull_seen; 'revoked' on 403, an error text otherwise. */
async function listRemoteIds(opts: ReconcileOptions, type: string): Promise<'ok' | 'revoked' | 'unauthorized' | string> {
  const { db, remote } = opts;
  ensureSeenTable(db);
  db.prepare('DELETE FROM temp.sync_pull_seen').run();
  const insert = db.prepare<[string]>('INSERT OR IGNORE INTO temp.sync_pull_seen (id) VALUES (?)');
  const insertPage = db.transaction((ids: string[]) => {
    for (const id of ids) insert.run(id);
  });
  let url: string | undefined = withScope(`${type}?_elements=id&_sort=_lastUpdated&_count=1000`, opts.scope);
  while (url) {
    if (opts.signal?.aborted) return 'aborted';
    const res = await remote.request('GET', url);
    if (res.status === 403) return 'revoked';
    if (res.status === 401) return 'unauthorized';
    if (res.status !== 200 || res.body?.resourceType !== 'Bundle') return res.error ?? `HTTP ${res.status}`;
    const bundle = res.body as Bundle;
    insertPage((bundle.entry ?? []).map((e) => e.resource?.id).filter((id): id is string => typeof id === 'string'));
    const next = bundle.link?.find((l) => l.relation === 'next')?.url;
    url = next ? relativeNext(next, type) : undefined;
  }
  return 'ok';
}

/**
 * Listed remotely, unknown here: a resource the store refused earlier, access granted (again) to
 * resources older than the watermark, a neighbour an offset-paged server shifted past a page. Fetched
 * by `_id` in chunks and written like a page (the watermark does not move).
 */
async function repairGaps(opts: ReconcileOptions, writer: PageWriter, type: string, result: ReconcileResult): Promise<void> {
  const ids = opts.db
    .prepare<[string], string>('SELECT s.id FROM temp.sync_pull_seen s WHERE NOT EXISTS (SELECT 1 FROM sync_id_map_by_remote m WHERE m.type = ? AND m.remote_id = s.id)')
    .pluck()
    .all(type);
  for (let i = 0; i < ids.length && !opts.signal?.aborted; i += REPAIR_CHUNK) {
    const chunk = ids.slice(i, i + REPAIR_CHUNK);
    const res = await opts.remote.request('GET', withScope(`${type}?_id=${chunk.map(encodeURIComponent).join(',')}&_count=${REPAIR_CHUNK}`, opts.scope));
    if (res.status !== 200 || res.body?.resourceType !== 'Bundle') {
      return;
    }
    const resources = ((res.body as Bundle).entry ?? []).map((e) => e.resource).filter((r): r is Resource => r?.resourceType === type && Boolean(r.id));
    const page = writer.writePage(type, resources);
    result.repaired += page.written;
    result.conflicts += page.conflicts;
    result.repairFailures.push(...page.failed);
  }
}

const REPAIR_CHUNK = 100;
/** Reads of missing resources tried before giving up on this pass (each still readable is skipped). */
const MAX_PROBES = 5;

/**
 * Changes held for revoked access go back to push once the type is readable again: creates never sent,
 * and changes of resources the remote shows again (in the listing; all of them when the counts matched).
 */
function releaseHeld(db: Db, type: string, project: string, listed: boolean): number {
  ensureSeenTable(db);
  return db
    .prepare<[string, string, string, number]>(
      `UPDATE sync_outbox SET state = 'pending', last_error = NULL, next_attempt_at = 0
        WHERE type = ? AND project = ? AND state = 'held' AND last_error = ?
          AND (? = 0
               OR NOT EXISTS (SELECT 1 FROM sync_id_map m WHERE m.type = sync_outbox.type AND m.local_id = sync_outbox.id)
               OR EXISTS (SELECT 1 FROM sync_id_map m JOIN temp.sync_pull_seen s ON s.id = m.remote_id
                           WHERE m.type = sync_outbox.type AND m.local_id = sync_outbox.id))`,
    )
    .run(type, project, REVOKED_REASON, listed ? 1 : 0).changes;
}

/** True when the remote's count of the type equals the local resources mapped to it. */
async function countsMatch(opts: ReconcileOptions, type: string): Promise<boolean> {
  const res = await opts.remote.request('GET', withScope(`${type}?_summary=count&_total=accurate`, opts.scope));
  const total = (res.body as Bundle | undefined)?.total;
  if (res.status !== 200 || typeof total !== 'number') {
    return false;
  }
  const local = mappedCount(opts.db, type, opts.project);
  return local === total;
}

export async function reconcileType(opts: ReconcileOptions, type: string, options: { mayShortcut?: boolean } = {}): Promise<ReconcileResult> {
  const { db, store, outbox, remote, project, clock } = opts;
  const result: ReconcileResult = { repaired: 0, repairFailures: [], deleted: 0, purged: 0, conflicts: 0, released: 0, held: [] };
  if (options.mayShortcut && (await countsMatch(opts, type))) {
    result.released = releaseHeld(db, type, project, false);
    return result;
  }
  const listing = await listRemoteIds(opts, type);
  if (listing === 'unauthorized') {
    result.unauthorized = true;
    return result;
  }
  if (listing !== 'ok' && listing !== 'revoked') {
    result.error = `${type}: id listing failed, nothing removed (${listing})`;
    return result;
  }
  if (listing === 'ok') {
    result.released = releaseHeld(db, type, project, true);
    if (opts.writer) {
      await repairGaps(opts, opts.writer, type, result);
    }
  }
  // Resources of this project the remote had (mapped), missing from the listing (all of them when revoked).
  const missing: Missing[] = mappedRows(db, type, project, listing === 'revoked');
  if (missing.length === 0 && listing !== 'revoked') {
    return result;
  }
  let revoked = listing === 'revoked';
  if (type === 'Project' || (revoked && PROJECT_STRUCTURE_TYPES.has(type))) {
    return result;
  }
  if (!revoked) {
    // A missing one that still reads fine (changed during the listing) is left alone; the first that
    // does not read classifies the rest. Anything but 403/404/410 (a network failure...) removes nothing.
    let status = 200;
    for (let tries = 0; status === 200 && missing.length > 0 && tries < MAX_PROBES; tries++) {
      status = (await remote.request('GET', `${type}/${missing[0].remote_id}`)).status;
      if (status === 200) missing.shift();
    }
    if (missing.length === 0 || (status !== 403 && status !== 404 && status !== 410)) {
      return result;
    }
    revoked = status === 403;
    if (revoked && PROJECT_STRUCTURE_TYPES.has(type)) {
      return result;
    }
  }
  const sql = {
    unmap: db.prepare<[string, string]>('DELETE FROM sync_id_map WHERE type = ? AND local_id = ?'),
    dropOutbox: db.prepare<[string, string]>('DELETE FROM sync_outbox WHERE type = ? AND id = ?'),
    hold: db.prepare<[string, string, string]>("UPDATE sync_outbox SET state = 'held', last_error = ? WHERE type = ? AND id = ?"),
    baseVersion: db.prepare<[string, string], { base_version: number | null }>('SELECT base_version FROM sync_id_map WHERE type = ? AND local_id = ?'),
  };
  const now = clock().getTime();
  db.transaction(() => {
    if (listing === 'revoked') {
      // The whole type is refused: every local change of it waits (creates never sent included).
      const rows = db
        .prepare<[string, string], { id: string }>("SELECT id FROM sync_outbox WHERE type = ? AND project = ? AND state IN ('pending', 'held')")
        .all(type, project);
      const mappedIds = new Set(missing.map((m) => m.local_id));
      for (const { id } of rows) {
        if (!mappedIds.has(id)) {
          sql.hold.run(REVOKED_REASON, type, id);
          result.held.push({ type, id, reason: REVOKED_REASON });
        }
      }
    }
    for (const m of missing) {
      if (revoked) {
        if (m.op) {
          sql.hold.run(REVOKED_REASON, type, m.local_id);
          result.held.push({ type, id: m.local_id, reason: REVOKED_REASON });
          continue;
        }
        store.purge(m.rid);
        sql.unmap.run(type, m.local_id);
        result.purged++;
        continue;
      }
      if (m.op === 'delete' || (m.deleted && !m.op)) {
        // Both sides deleted it.
        sql.dropOutbox.run(type, m.local_id);
        sql.unmap.run(type, m.local_id);
        continue;
      }
      if (m.op) {
        if (conflictOf(db, type, m.local_id)?.reason === 'deleted-remotely') {
          continue; // already recorded by an earlier pull
        }
        const base = sql.baseVersion.get(type, m.local_id)?.base_version;
        let baseResource: Resource | null = null;
        if (base !== null && base !== undefined) {
          try {
            baseResource = store.vread(type, m.local_id, String(base), { project });
          } catch {
            baseResource = null;
          }
        }
        const local = m.deleted ? null : (JSON.parse(resourceRowByRid(db, m.rid)?.content ?? 'null') as Resource | null);
        recordConflict(db, { type, id: m.local_id, project, reason: 'deleted-remotely', local, remote: null, base: baseResource }, now);
        result.conflicts++;
        continue;
      }
      outbox.remote(() => store.delete(type, m.local_id, { project }));
      sql.unmap.run(type, m.local_id);
      result.deleted++;
    }
  })();
  return result;
}
