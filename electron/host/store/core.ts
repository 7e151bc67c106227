// The store's shared internals: the open database, its prepared statements (prepared once, reused by
// every call: preparing dominates small writes otherwise), the clock, and the search module's hooks.
import type { Resource } from '@medplum/fhirtypes';
import type { FindRids, SearchFn, SearchIndexer } from '../search/types.ts';
import type { CallContext, StoreChange } from './types.ts';
import type { ResourceRow as KeyedRow } from '../db/resources.ts';
import type { Db } from '../db/types.ts';

/** A whole `resource` row (`SELECT *`): the db floor's row and its last update. */
export interface ResourceRow extends KeyedRow {
  last_updated: number;
}

export interface VersionRow {
  version: number;
  last_updated: number;
  deleted: number;
  /** The version's JSON, or NULL for the current version / a delete marker. */
  content: string | null;
  current: string;
  current_version: number;
  current_deleted: number;
  project: string;
}

export function prepareStatements(db: Db) {
  return {
    byTypeId: db.prepare<[string, string], ResourceRow>('SELECT * FROM resource WHERE type = ? AND id = ?'),
    byRid: db.prepare<[number], ResourceRow>('SELECT * FROM resource WHERE rid = ?'),
    insertResource: db.prepare<[string, string, string, number, number, string]>(
      'INSERT INTO resource (type, id, project, version, last_updated, deleted, content) VALUES (?, ?, ?, ?, ?, 0, ?)',
    ),
    updateResource: db.prepare<[number, number, number, string, number]>(
      'UPDATE resource SET version = ?, last_updated = ?, deleted = ?, content = ? WHERE rid = ?',
    ),
    insertHistory: db.prepare<[number, number, number, number, string]>(
      'INSERT INTO resource_history (rid, version, last_updated, deleted, method, content) VALUES (?, ?, ?, ?, ?, NULL)',
    ),
    /** When a newer version arrives, the previous history row receives the JSON it stood for. */
    archiveVersion: db.prepare<[string, number, number]>('UPDATE resource_history SET content = ? WHERE rid = ? AND version = ?'),
    version: db.prepare<[string, string, number], VersionRow>(
      `SELECT h.version, h.last_updated, h.deleted, h.content, r.content AS current, r.version AS current_version,
              r.deleted AS current_deleted, r.project
         FROM resource r JOIN resource_history h ON h.rid = r.rid
        WHERE r.type = ? AND r.id = ? AND h.version = ?`,
    ),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;

export interface StoreCore {
  db: Db;
  sql: Statements;
  clock: () => Date;
  defaultProject: string;
  defaultBaseUrl: string;
  indexer: SearchIndexer;
  findRids: FindRids;
  search: SearchFn;
  /** StoreOptions.onChange (called inside the write transaction). */
  onChange?: (db: Db, change: StoreChange) => void;
}

export function projectOf(core: StoreCore, ctx: CallContext | undefined): string {
  return ctx?.project ?? core.defaultProject;
}

export function baseUrlOf(core: StoreCore, ctx: CallContext | undefined): string {
  const base = ctx?.baseUrl ?? core.defaultBaseUrl;
  return base.endsWith('/') ? base : base + '/';
}

/** Parses stored JSON. One place, so a future cache or lazy parse has one hook. */
export function parseContent<T extends Resource>(content: string): T {
  return JSON.parse(content) as T;
}
