// Resources that stay on this workstation: push never sends them (migration 35).
//
// A workstation bootstrapped from a tenant (tenant-pull.ts) may already hold what its first-run setup
// invented: the local owner's profile (a Practitioner nobody on the tenant knows). The tenant's data
// comes from the remote; what the workstation made up for itself must not be pushed into it. Such
// resources are listed here with the reason; push drops their outbox rows (counted as kept local,
// not as failures), now and after every later edit.
//
// sync_local_only  type, id (local), project, reason, created_at (epoch ms)
// sync_audit_tried AuditEvents (audit_outbox rid) sent at least once without an answer saying they were
//                  refused: before sending one again, audit-push.ts looks it up by its Outpost tag
import type { Migration } from '../db/types.ts';
import type { Db } from '../db/types.ts';

export const syncLocalOnlyMigration: Migration = {
  version: 35,
  name: 'sync: resources kept on this workstation, AuditEvents tried',
  up(db) {
    db.exec(`
      CREATE TABLE sync_local_only (
        type TEXT NOT NULL,
        id TEXT NOT NULL,
        project TEXT NOT NULL,
        reason TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (type, id)
      ) WITHOUT ROWID;
      CREATE TABLE sync_audit_tried (rid INTEGER PRIMARY KEY);
    `);
  },
};

/** Keeps a resource on this workstation; its pending outbox row goes at once. */
export function keepLocalOnly(db: Db, entry: { type: string; id: string; project: string; reason: string }, now: number): void {
  db.prepare('INSERT OR IGNORE INTO sync_local_only (type, id, project, reason, created_at) VALUES (?, ?, ?, ?, ?)').run(entry.type, entry.id, entry.project, entry.reason, now);
  db.prepare("DELETE FROM sync_outbox WHERE type = ? AND id = ? AND state = 'pending'").run(entry.type, entry.id);
}

export function localOnlyReason(db: Db, type: string, id: string): string | undefined {
  return db.prepare<[string, string], string>('SELECT reason FROM sync_local_only WHERE type = ? AND id = ?').pluck().get(type, id);
}
