// Migration 5: a narrow covering index over the resource columns a search checks per candidate
// (type, project, deleted) and sorts or filters on (last_updated, id). Index-driven searches join
// their candidate rids through it, so liveness is checked without reading the wide resource rows
// (JSON content, one or more encrypted pages each); only the chosen page's rows are read.
import type { Migration } from '../db/types.ts';

export const LIVE_INDEX = 'resource_live';

export const liveIndexMigration: Migration = {
  version: 5,
  name: 'search: narrow covering index for liveness checks',
  up(db) {
    db.exec(`CREATE INDEX IF NOT EXISTS ${LIVE_INDEX} ON resource(rid, type, project, deleted, last_updated, id)`);
  },
};
