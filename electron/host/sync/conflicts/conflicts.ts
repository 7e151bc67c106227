// Conflicts: what sync could not reconcile on its own, kept for a person to resolve (migration 33).
//
// sync_conflict   one open record per resource (a newer conflict on the same resource replaces it):
//   id             random uuid (the conflict id of the host routes)
//   type, resource_id, project   the LOCAL identity
//   reason         edited-both | deleted-remotely | deleted-locally | pulled-over-pending | other text
//   fields         JSON array of the element paths both sides changed (empty when unknown)
//   local, remote, base   JSON snapshots (NULL when that side has no live version). `remote` carries the
//                  remote's own ids (the version a resolution's If-Match names); local/base local ids.
//   remote_version the remote versionId seen (If-Match of the push that a resolution queues)
//   created_at     epoch ms
// Migration 33 also adds, additively:
//   sync_id_map.base_version  the LOCAL version whose content equals the remote's remote_version (the
//                  common ancestor of a three-way merge; read with store.vread). Set by push on success
//                  and by pull when it writes a remote version locally.
//   sync_outbox.authors       JSON array of who made the squashed local changes (see provenance.ts).
//
// recordConflict also puts the resource's outbox row in state 'conflict' (push leaves it alone until
// resolved); resolveConflict (resolve.ts) writes the local store and re-queues the push.
import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import type { Migration } from '../../db/types.ts';
import { errors } from '../../../../shared/errors.ts';
import type { Repository } from '../../access/index.ts';
import type { Db } from '../../db/types.ts';
import { comparable, mergeByField } from './merge.ts';
import type { Outbox } from '../outbox.ts';
import { createIdMap, toLocalReferences } from '../id-map.ts';
import { resourceRow } from '../../db/resources.ts';

export const syncConflictMigration: Migration = {
  version: 33,
  name: 'sync conflicts, merge base and change authors',
  up(db) {
    db.exec(`
      CREATE TABLE sync_conflict (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        project TEXT NOT NULL,
        reason TEXT NOT NULL,
        fields TEXT NOT NULL DEFAULT '[]',
        local TEXT,
        remote TEXT,
        base TEXT,
        remote_version TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX sync_conflict_resource ON sync_conflict(type, resource_id);
      CREATE INDEX sync_conflict_project ON sync_conflict(project, created_at);
      ALTER TABLE sync_id_map ADD COLUMN base_version INTEGER;
      ALTER TABLE sync_outbox ADD COLUMN authors TEXT;
    `);
  },
};

export type ConflictReason = 'edited-both' | 'deleted-remotely' | 'deleted-locally' | 'pulled-over-pending' | (string & {});

export interface ConflictInput {
  /** Local type and id. */
  type: string;
  id: string;
  project: string;
  reason: ConflictReason;
  local: Resource | null;
  /** As the remote has it (remote ids); its meta.versionId is the version a resolution must If-Match. */
  remote: Resource | null;
  base: Resource | null;
  fields?: string[];
}

export interface SyncConflict {
  id: string;
  resourceType: string;
  resourceId: string;
  project: string;
  reason: ConflictReason;
  fields: string[];
  local: Resource | null;
  remote: Resource | null;
  base: Resource | null;
  remoteVersion: string | null;
  createdAt: string;
}

interface ConflictRow {
  id: string;
  type: string;
  resource_id: string;
  project: string;
  reason: string;
  fields: string;
  local: string | null;
  remote: string | null;
  base: string | null;
  remote_version: string | null;
  created_at: number;
}

const json = (r: Resource | null): string | null => (r ? JSON.stringify(r) : null);
const parse = (s: string | null): Resource | null => (s ? (JSON.parse(s) as Resource) : null);

function toConflict(row: ConflictRow): SyncConflict {
  return {
    id: row.id,
    resourceType: row.type,
    resourceId: row.resource_id,
    project: row.project,
    reason: row.reason,
    fields: JSON.parse(row.fields) as string[],
    local: parse(row.local),
    remote: parse(row.remote),
    base: parse(row.base),
    remoteVersion: row.remote_version,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/**
 * Records (or replaces) the open conflict of a resource and sets its outbox row to 'conflict'.
 * Returns the conflict id. Runs in one transaction (nested in the caller's when there is one).
 */
export function recordConflict(db: Db, input: ConflictInput, now: number = Date.now()): string {
  const id = randomUUID();
  db.transaction(() => {
    db.prepare('DELETE FROM sync_conflict WHERE type = ? AND resource_id = ?').run(input.type, input.id);
    db.prepare(
      `INSERT INTO sync_conflict (id, type, resource_id, project, reason, fields, local, remote, base, remote_version, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      id,
      input.type,
      input.id,
      input.project,
      input.reason,
      JSON.stringify(input.fields ?? []),
      json(input.local),
      json(input.remote),
      json(input.base),
      input.remote?.meta?.versionId ?? null,
      now,
    );
    db.prepare("UPDATE sync_outbox SET state = 'conflict', last_error = ? WHERE type = ? AND id = ?").run(
      conflictText(input.reason, input.fields),
      input.type,
      input.id,
    );
  })();
  return id;
}

function conflictText(reason: string, fields: string[] | undefined): string {
  return fields && fields.length > 0 ? `Conflict (${reason}): ${fields.join(', ')}` : `Conflict (${reason})`;
}

/** Open conflicts, oldest first; of one project when given. */
export function listConflicts(db: Db, project?: string): SyncConflict[] {
  const rows =
    project === undefined
      ? db.prepare<[], ConflictRow>('SELECT * FROM sync_conflict ORDER BY created_at, id').all()
      : db.prepare<[string], ConflictRow>('SELECT * FROM sync_conflict WHERE project = ? ORDER BY created_at, id').all(project);
  return rows.map(toConflict);
}

export function getConflict(db: Db, conflictId: string): SyncConflict | undefined {
  const row = db.prepare<[string], ConflictRow>('SELECT * FROM sync_conflict WHERE id = ?').get(conflictId);
  return row ? toConflict(row) : undefined;
}

/** The open conflict of one resource (local identity), if any. */
export function conflictOf(db: Db, type: string, id: string): SyncConflict | undefined {
  const row = db.prepare<[string, string], ConflictRow>('SELECT * FROM sync_conflict WHERE type = ? AND resource_id = ?').get(type, id);
  return row ? toConflict(row) : undefined;
}

export function deleteConflict(db: Db, conflictId: string): void {
  db.prepare('DELETE FROM sync_conflict WHERE id = ?').run(conflictId);
}

export interface ResolveDeps {
  /** The database: sync's own tables, and the local row of the conflicted resource. */
  db: Db;
  /**
   * The resolving session's access-checked repository: a resolution is an update (or a delete) by that
   * session, enforced as one (type, criteria, charts, readonly and hidden fields, write constraints).
   */
  writer: Pick<Repository, 'update' | 'delete'>;
  outbox: Outbox;
  clock?: () => Date;
}

export interface Resolution {
  keep: 'local' | 'remote' | 'merge';
  /** For 'merge': element path -> the side to keep ('name', 'birthDate', 'code.text'...). */
  fields?: Record<string, 'local' | 'remote'>;
}

/**
 * Resolves a conflict: writes the local store and re-queues the push with If-Match on the remote
 * version seen (a later remote edit makes a new conflict, never an overwrite). Returns the local
 * resource after resolution (null when it ends deleted).
 *   keep remote  the remote version becomes the local one (inside outbox.remote: nothing to push);
 *                a remote deletion deletes locally
 *   keep local   the local version is pushed over the version seen; a local deletion is pushed as a
 *                delete; a resource deleted remotely is created again (the person chose it)
 *   merge        `fields` pick a side per path (paths both sides changed must be picked); the result
 *                is a new local version, pushed
 */
export function resolveConflict(deps: ResolveDeps, conflictId: string, resolution: Resolution): Resource | null {
  const { db, writer, outbox } = deps;
  const now = (deps.clock ?? (() => new Date()))().getTime();
  const c = getConflict(db, conflictId);
  if (!c) {
    throw errors.notFound(`Conflict ${conflictId} not found`);
  }
  const localRow = () => resourceRow(db, c.resourceType, c.resourceId);
  /**
   * Writes the version the person chose through the session's repository. The policy may keep what the
   * role cannot change (readonly fields, fields hidden from it): then what got stored is not the chosen
   * version, and the resolution is refused (rolled back), left for someone who may make it.
   */
  const writeChosen = (chosen: Resource): Resource => {
    const written = writer.update(chosen);
    const row = localRow();
    const stored = row && !row.deleted ? (JSON.parse(row.content) as Resource) : undefined;
    if (JSON.stringify(comparable(stored)) !== JSON.stringify(comparable(chosen))) {
      throw errors.forbidden('This resolution changes fields this role may not change: someone with access to them must resolve it');
    }
    return written.resource;
  };
  const versionNow = (): number => localRow()?.version ?? 1;
  return db.transaction((): Resource | null => {
    const ids = createIdMap(db);
    const row = localRow();
    const local = row && !row.deleted ? (JSON.parse(row.content) as Resource) : null;
    const remoteLocal = c.remote ? toLocalReferences(c.remote, ids) : null;
    const setMap = db.prepare('UPDATE sync_id_map SET remote_version = ?, base_version = ? WHERE type = ? AND local_id = ?');
    let result: Resource | null;

    if (resolution.keep === 'remote') {
      if (!remoteLocal) {
        if (local) outbox.remote(() => writer.delete(c.resourceType, c.resourceId));
        db.prepare('DELETE FROM sync_id_map WHERE type = ? AND local_id = ?').run(c.resourceType, c.resourceId);
        result = null;
      } else {
        result = outbox.remote(() => writeChosen({ ...comparable(remoteLocal), resourceType: c.resourceType, id: c.resourceId } as Resource));
        setMap.run(c.remoteVersion, versionNow(), c.resourceType, c.resourceId);
      }
      db.prepare('DELETE FROM sync_outbox WHERE type = ? AND id = ?').run(c.resourceType, c.resourceId);
    } else if (resolution.keep === 'local') {
      if (!local) {
        // The local deletion goes to the remote (the route asked for the delete permission).
        db.prepare('UPDATE sync_id_map SET remote_version = ? WHERE type = ? AND local_id = ?').run(c.remoteVersion, c.resourceType, c.resourceId);
        requeue(db, c, 'delete', row?.version ?? 1, now);
        result = null;
      } else {
        // Pushing the local version over the remote one is an update by this session: the same checks
        // as saving it unchanged (an update that changes nothing makes no new version).
        result = writeChosen(local);
        if (!c.remote) {
          // Deleted remotely and the person keeps theirs: created again on the remote, under a new remote id.
          db.prepare('DELETE FROM sync_id_map WHERE type = ? AND local_id = ?').run(c.resourceType, c.resourceId);
          requeue(db, c, 'create', versionNow(), now);
        } else {
          db.prepare('UPDATE sync_id_map SET remote_version = ? WHERE type = ? AND local_id = ?').run(c.remoteVersion, c.resourceType, c.resourceId);
          requeue(db, c, 'update', versionNow(), now);
        }
      }
    } else if (resolution.keep === 'merge') {
      if (!local || !remoteLocal) {
        throw errors.badRequest('A merge by field needs both sides; this conflict has a deletion: keep local or remote');
      }
      const merged = mergeByField(c.base, local, remoteLocal, resolution.fields ?? {});
      result = writeChosen({ ...merged, resourceType: c.resourceType, id: c.resourceId, meta: local.meta } as Resource);
      db.prepare('UPDATE sync_id_map SET remote_version = ? WHERE type = ? AND local_id = ?').run(c.remoteVersion, c.resourceType, c.resourceId);
      requeue(db, c, 'update', versionNow(), now);
    } else {
      throw errors.badRequest("keep must be 'local', 'remote' or 'merge'");
    }
    deleteConflict(db, c.id);
    return result;
  })();
}

/** Puts the resource's outbox row back to pending with `op` (creating it when pull's conflict had none). */
function requeue(db: Db, c: SyncConflict, op: 'create' | 'update' | 'delete', version: number, now: number): void {
  const updated = db
    .prepare("UPDATE sync_outbox SET op = ?, version = max(version, ?), state = 'pending', attempts = 0, next_attempt_at = 0, last_error = NULL, changed_at = ? WHERE type = ? AND id = ?")
    .run(op, version, now, c.resourceType, c.resourceId);
  if (updated.changes === 0) {
    db.prepare(
      `INSERT INTO sync_outbox (type, id, project, op, version, seq, changed_at)
       VALUES (?, ?, ?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM sync_outbox), ?)`,
    ).run(c.resourceType, c.resourceId, c.project, op, version, now);
  }
}
