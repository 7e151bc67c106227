// Sync's tables (migration 31; sync owns versions 30..39, and 30 is the audit outbox it pushes).
//
// sync_outbox    one row per resource with local changes not yet on the remote, squashed (see outbox.ts).
//   type, id       the local identity
//   project        the resource's project (push runs per project/remote)
//   op             create | update | delete: what the remote must be told
//   version        newest local version this row covers (push acknowledges only if still newest)
//   seq            order of the first pending change (push order within a dependency level)
//   changed_at     epoch ms of the newest change
//   state          pending | held (400/422, with dependents) | conflict (409/412) | quarantined (403)
//   attempts       tries so far (a create with attempts > 0 may exist remotely: see outbox.ts)
//   next_attempt_at epoch ms before which push leaves the row alone (backoff)
//   last_error     the remote's reason for held/conflict/quarantined rows, or the last transient error
// sync_id_map    local id <-> remote id (Medplum assigns ids on create and refuses PUT-create), and the
//                remote versionId last seen (If-Match of the next update or delete). A resource pulled
//                from the remote maps to itself.
import type { Migration } from '../db/types.ts';
import { syncConflictMigration } from './conflicts/conflicts.ts';
import { syncRunMigration } from './config.ts';
import { syncLocalOnlyMigration } from './local-only.ts';
import { syncWatermarkMigration } from './pull/pull-state.ts';

export const syncOutboxMigration: Migration = {
  version: 31,
  name: 'sync outbox and id map',
  up(db) {
    db.exec(`
      CREATE TABLE sync_outbox (
        type TEXT NOT NULL,
        id TEXT NOT NULL,
        project TEXT NOT NULL,
        op TEXT NOT NULL CHECK (op IN ('create', 'update', 'delete')),
        version INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        changed_at INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'held', 'conflict', 'quarantined')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        PRIMARY KEY (type, id)
      ) WITHOUT ROWID;
      CREATE UNIQUE INDEX sync_outbox_seq ON sync_outbox(seq);
      CREATE INDEX sync_outbox_due ON sync_outbox(state, next_attempt_at);

      CREATE TABLE sync_id_map (
        type TEXT NOT NULL,
        local_id TEXT NOT NULL,
        remote_id TEXT NOT NULL,
        remote_version TEXT,
        PRIMARY KEY (type, local_id)
      ) WITHOUT ROWID;
      CREATE UNIQUE INDEX sync_id_map_remote ON sync_id_map(type, remote_id);
    `);
  },
};

export const syncMigrations: readonly Migration[] = [syncOutboxMigration, syncWatermarkMigration, syncConflictMigration, syncRunMigration, syncLocalOnlyMigration];
