// The audit outbox (migration 30): one row per AuditEvent the host wrote, queued for the sync module
// to push to the remote server. AuditEvents themselves are ordinary resources in `resource` (so admins
// search them like any other type); this table only says which still need pushing.
//   rid        resource.rid of the AuditEvent
//   queued_at  epoch ms when it was written
//   pushed_at  epoch ms when the sync module pushed it (NULL: still to push)
import type { Migration } from '../db/types.ts';

export const auditMigration: Migration = {
  version: 30,
  name: 'audit outbox',
  up(db) {
    db.exec(`
      CREATE TABLE audit_outbox (
        rid INTEGER PRIMARY KEY,
        queued_at INTEGER NOT NULL,
        pushed_at INTEGER
      );
      CREATE INDEX audit_outbox_pending ON audit_outbox(queued_at) WHERE pushed_at IS NULL;
    `);
  },
};

export const auditMigrations: readonly Migration[] = [auditMigration];
