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
import type { Migration } from '../search/types.ts';
import type { Db } from '../store/types.ts';

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
