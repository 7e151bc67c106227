// Contract of the search module (electron/host/search). It owns the index tables and their migration,
// writes index rows inside the caller's transaction, and turns FHIR search queries into SQL.
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { Db, SqlFragment } from '../db/types.ts';

export interface SearchOptions {
  /** Only resources of this project (r.project). Required. */
  project: string;
  /** Absolute base URL for fullUrl and links, e.g. 'http://127.0.0.1:8103/fhir/R4/'. */
  baseUrl: string;
  /**
   * Access-control hook: for a resource type, a fragment that visible rows must satisfy,
   * `null` for no restriction, or `false` when the type may not be searched at all (403 for the
   * main type; included resources of that type are simply left out). Applied to the main search,
   * chains, _has, _include and _revinclude alike.
   */
  restrict?: (resourceType: string) => SqlFragment | null | false;
  /**
   * Access-control hook on what leaves: each resource of a result (a match, an include, a history
   * version) with the rid of its current row, as the caller may hand it out (hidden fields removed), or
   * undefined to leave it out (fail closed). Applied after _elements / _summary shaping.
   */
  present?: (resource: Resource, rid: number) => Resource | undefined;
  /** Default and maximum page size. */
  defaultCount?: number;
  maxCount?: number;
}

export interface SearchIndexer {
  /** Writes every search index row (and compartment rows) of a resource; rid = resource.rid. */
  index(db: Db, rid: number, resource: Resource): void;
  /** Removes every index row of a resource (before re-indexing an update, or on delete). */
  remove(db: Db, rid: number): void;
  /** Writes the rows a deferred scope still buffers. Call before anything reads the index tables. */
  flush(db: Db): void;
  /**
   * A transaction or savepoint began, was released, or rolled back on `db` (the store calls these
   * around every `db.transaction`). Buffered rows follow their writes: those buffered inside a level
   * that rolls back are dropped, and rows of outer levels a flush wrote inside it are buffered again.
   */
  begin(db: Db): void;
  release(db: Db): void;
  rollback(db: Db): void;
  /**
   * Runs `fn` (inside the caller's SQLite transaction) with index rows buffered across resources and
   * written sorted when it returns: one transaction Bundle's rows go in key order. On a throw the
   * buffered rows are dropped (the transaction rolls back). Reads of the index inside `fn` must go
   * through a path that calls `flush` first (the store's findRids and search do).
   */
  deferred<T>(db: Db, fn: () => T): T;
}

/** Resolve a conditional query (If-None-Exist, conditional update/delete, conditional references) to rids. */
export type FindRids = (db: Db, resourceType: string, query: string, opts: { project: string }) => number[];

/** Full search returning a searchset Bundle. */
export type SearchFn = (db: Db, resourceType: string | undefined, query: string, opts: SearchOptions) => Bundle;
