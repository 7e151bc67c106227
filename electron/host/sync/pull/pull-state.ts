// Pull's durable state (migration 32): one row per (project, type) pulled from the remote.
//
// sync_watermark
//   project, type   the LOCAL project the type is pulled into, and the resource type
//   watermark       the newest remote meta.lastUpdated committed locally (ISO instant). The next pull asks
//                   `_lastUpdated=ge<watermark - overlap>`; the overlap re-reads a window (remote clocks,
//                   transactions committing late) and dedupe on id + versionId keeps that free.
//   resume_url      the remote's `next` link after the last committed page while a paging run is under
//                   way; NULL once the type's run reached its last page. A killed pull resumes from it.
//   pulled          resources written by the current/last paging run (progress of a tenant pull)
//   bootstrapped    1 once a tenant pull finished this type (a resumed tenant pull skips it)
//   updated_at      epoch ms
// Every column is written in the SAME SQLite transaction as the page it describes, so the watermark
// and the resume link never get ahead of the data (a page that fails or is killed moves nothing).
import type { Migration } from '../../db/types.ts';
import type { Db } from '../../db/types.ts';

export const syncWatermarkMigration: Migration = {
  version: 32,
  name: 'sync pull watermarks and resume cursors',
  up(db) {
    db.exec(`
      CREATE TABLE sync_watermark (
        project TEXT NOT NULL,
        type TEXT NOT NULL,
        watermark TEXT,
        resume_url TEXT,
        pulled INTEGER NOT NULL DEFAULT 0,
        bootstrapped INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (project, type)
      ) WITHOUT ROWID;
    `);
  },
};

export interface WatermarkRow {
  project: string;
  type: string;
  watermark: string | null;
  resume_url: string | null;
  pulled: number;
  bootstrapped: number;
  updated_at: number;
}

export function getWatermark(db: Db, project: string, type: string): WatermarkRow | undefined {
  return db.prepare<[string, string], WatermarkRow>('SELECT * FROM sync_watermark WHERE project = ? AND type = ?').get(project, type);
}

export function listWatermarks(db: Db, project: string): WatermarkRow[] {
  return db.prepare<[string], WatermarkRow>('SELECT * FROM sync_watermark WHERE project = ? ORDER BY type').all(project);
}

/** Statements the page writer runs inside its transaction. */
export function prepareWatermarkStatements(db: Db) {
  return {
    /** After a page: newest watermark (never moves back), the resume link, progress. */
    page: db.prepare<{ project: string; type: string; watermark: string | null; resume: string | null; pulled: number; now: number }>(
      `INSERT INTO sync_watermark (project, type, watermark, resume_url, pulled, updated_at)
       VALUES (@project, @type, @watermark, @resume, @pulled, @now)
       ON CONFLICT (project, type) DO UPDATE SET
         watermark = CASE WHEN sync_watermark.watermark IS NULL OR (@watermark IS NOT NULL AND @watermark > sync_watermark.watermark)
                          THEN coalesce(@watermark, sync_watermark.watermark) ELSE sync_watermark.watermark END,
         resume_url = @resume,
         pulled = sync_watermark.pulled + @pulled,
         updated_at = @now`,
    ),
    /** A new paging run of the type starts from scratch (progress count reset). */
    startRun: db.prepare<[string, string, number]>(
      `INSERT INTO sync_watermark (project, type, pulled, updated_at) VALUES (?, ?, 0, ?)
       ON CONFLICT (project, type) DO UPDATE SET pulled = 0, resume_url = NULL, updated_at = excluded.updated_at`,
    ),
    bootstrapped: db.prepare<[number, string, string]>('UPDATE sync_watermark SET bootstrapped = 1, updated_at = ? WHERE project = ? AND type = ?'),
  };
}
