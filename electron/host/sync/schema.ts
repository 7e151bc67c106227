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
// sync_id_map_by_remote  the id map read by remote id (migration 36): every lookup by remote id goes
//                through it. A pulled resource maps to itself, and most rows are those: keeping them out
//                of the remote-id index spares a tenant pull a second random-key B-tree, whose pages each
//                pulled page dirtied all over (the pull ran 1.36-1.45x the core at 200k resources). The
//                index holds the rows that map to another id; the view finds a row that maps to itself
//                by its primary key (local id = remote id), the others by that index.
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

/**
 * The remote-id index keeps only the rows that map to another id (see the top). What its UNIQUE gave
 * every row, one local id per remote id, the triggers keep: a row written for a remote id takes the place
 * of the other kind of row for it, as INSERT OR REPLACE did under the full index. So write the map with
 * INSERT OR REPLACE only: a plain INSERT or INSERT OR IGNORE would no longer fail or be ignored where
 * the other kind of row holds the remote id, it would take its place.
 */
export const syncIdMapByRemoteMigration: Migration = {
  version: 36,
  name: 'sync id map: identity rows out of the remote-id index',
  up(db) {
    const oneLocalPerRemote = `
        DELETE FROM sync_id_map
         WHERE type = NEW.type AND local_id = NEW.remote_id AND remote_id = local_id AND NEW.remote_id <> NEW.local_id;
        DELETE FROM sync_id_map
         WHERE type = NEW.type AND remote_id = NEW.remote_id AND remote_id <> local_id AND NEW.remote_id = NEW.local_id;`;
    db.exec(`
      DROP INDEX sync_id_map_remote;
      CREATE UNIQUE INDEX sync_id_map_remote ON sync_id_map(type, remote_id) WHERE remote_id <> local_id;
      CREATE VIEW sync_id_map_by_remote AS
        SELECT type, local_id, remote_id, remote_version, base_version FROM sync_id_map WHERE remote_id <> local_id
        UNION ALL
        SELECT type, local_id, remote_id, remote_version, base_version FROM sync_id_map WHERE remote_id = local_id;
      CREATE TRIGGER sync_id_map_one_local_per_remote_insert AFTER INSERT ON sync_id_map BEGIN ${oneLocalPerRemote}
      END;
      CREATE TRIGGER sync_id_map_one_local_per_remote_update AFTER UPDATE OF local_id, remote_id ON sync_id_map BEGIN ${oneLocalPerRemote}
      END;
    `);
  },
};

export const syncMigrations: readonly Migration[] = [
  syncOutboxMigration,
  syncWatermarkMigration,
  syncConflictMigration,
  syncRunMigration,
  syncLocalOnlyMigration,
  syncIdMapByRemoteMigration,
];
