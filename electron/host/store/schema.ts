// Core tables of the store (migration 1). Index tables belong to the search module (its own migration).
//
// resource          one row per resource (current version). `rid` is the internal integer key every
//                   index table references; (type, id) is the FHIR identity.
// resource_history  one row per version. `content` is NULL for the current version (it lives in
//                   resource.content, so a create writes its JSON once) and for delete markers; when a
//                   newer version arrives, the previous row receives the old content.
import type { Migration } from '../db/types.ts';

export const coreMigration: Migration = {
  version: 1,
  name: 'core resource and history tables',
  up(db) {
    db.exec(`
      CREATE TABLE resource (
        rid INTEGER PRIMARY KEY,
        type TEXT NOT NULL,
        id TEXT NOT NULL,
        project TEXT NOT NULL,
        version INTEGER NOT NULL,
        last_updated INTEGER NOT NULL,   -- epoch milliseconds of meta.lastUpdated
        deleted INTEGER NOT NULL DEFAULT 0,
        content TEXT NOT NULL            -- JSON of the current (or, when deleted, last live) version
      );
      CREATE UNIQUE INDEX resource_type_id ON resource(type, id);
      CREATE INDEX resource_type_updated ON resource(type, last_updated);

      CREATE TABLE resource_history (
        rid INTEGER NOT NULL,
        version INTEGER NOT NULL,
        last_updated INTEGER NOT NULL,
        deleted INTEGER NOT NULL DEFAULT 0,
        method TEXT NOT NULL,            -- POST | PUT | PATCH | DELETE (Bundle.entry.request.method in history)
        content TEXT,                    -- NULL: current version (see resource.content) or a delete marker
        PRIMARY KEY (rid, version)
      );
      CREATE INDEX resource_history_updated ON resource_history(last_updated);
    `);
  },
};
