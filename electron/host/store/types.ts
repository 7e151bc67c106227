// Contract of the FHIR store. Implemented in electron/host/store/*.ts (createStore).
// Every failure is thrown as a FhirError (shared/errors.ts) with the right status.
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { Db, Migration } from '../db/types.ts';
import type { SearchOptions } from '../search/types.ts';

export interface StoreOptions {
  /** SQLite file path, or ':memory:'. */
  path: string;
  /** SQLCipher key: when given, the file is encrypted at rest. */
  key?: string;
  /** Injectable clock for meta.lastUpdated (tests). */
  clock?: () => Date;
  /** The project every new resource belongs to when the caller names none (one default project for now). */
  defaultProject?: string;
  /** Base URL for fullUrls and links when a call gives none (default 'http://localhost/fhir/R4/'). */
  baseUrl?: string;
  /** Migrations of later modules (access, sync...), run after the core and search ones. */
  migrations?: Migration[];
  /**
   * Called inside the write's SQLite transaction after every new version (create, update, delete),
   * so a module (sync's outbox) can record it atomically with the change: if the hook throws, the
   * write rolls back. Not called for an update that changes nothing.
   */
  onChange?: (db: Db, change: StoreChange) => void;
  /**
   * Copy WAL pages into the database file from a worker thread (checkpointer.ts) instead of inside
   * the commits that cross the autocheckpoint. The host turns it on; an in-memory database has no WAL
   * and ignores it.
   */
  backgroundCheckpoint?: boolean;
}

/** One committed change of a resource, as told to StoreOptions.onChange. */
export interface StoreChange {
  /** 'create' for a new row; 'update' for a new version (also one reviving a deleted resource); 'delete'. */
  op: 'create' | 'update' | 'delete';
  resourceType: string;
  id: string;
  project: string;
  /** The store's version number of the new version (meta.versionId). */
  version: number;
  /** The version written, as stored (a create or an update; a delete has none). Read-only: it is the store's. */
  resource?: Resource;
}

/** Per-call context: which project the call acts in (the access layer adds more later). */
export interface CallContext {
  project?: string;
  /** Absolute base URL of the FHIR endpoint, e.g. 'http://127.0.0.1:8103/fhir/R4/' (for links and fullUrls). */
  baseUrl?: string;
  /** Extra search restrictions (access control); passed through to search. */
  search?: Partial<SearchOptions>;
  /**
   * How incoming resources are validated: 'full' (default: the structural check and the FHIRPath
   * invariants, as @medplum/core's validateResource checks them; store/invariants.ts) or 'structure'
   * (the structural check without invariants; for trusted bulk ingest such as the importer of local
   * files and sync's pulls).
   */
  validation?: 'full' | 'structure';
}

export interface WriteResult<T extends Resource = Resource> {
  /** 200 (updated / existing matched), 201 (created). */
  status: 200 | 201;
  resource: T;
  /** true when an update changed nothing (no new version was made). */
  unchanged?: boolean;
}

export interface HistoryQuery {
  resourceType?: string;
  id?: string;
  /** FHIR `_since` instant. */
  since?: string;
  /** Page size (default 100, max 1000). */
  count?: number;
  /** Opaque paging offset. */
  offset?: number;
}

export interface Store {
  readonly db: Db;
  create<T extends Resource>(resource: T, opts?: { ifNoneExist?: string }, ctx?: CallContext): WriteResult<T>;
  read<T extends Resource>(resourceType: string, id: string, ctx?: CallContext): T;
  vread<T extends Resource>(resourceType: string, id: string, versionId: string, ctx?: CallContext): T;
  update<T extends Resource>(resource: T, opts?: { ifMatch?: string }, ctx?: CallContext): WriteResult<T>;
  /** PUT Type?query: create when no match, update when one, 412 when several. */
  conditionalUpdate<T extends Resource>(resourceType: string, query: string, resource: T, ctx?: CallContext): WriteResult<T>;
  /** JSON Patch (application/json-patch+json) or FHIRPath Patch (a Parameters resource). */
  patch<T extends Resource>(resourceType: string, id: string, patch: unknown, opts?: { ifMatch?: string }, ctx?: CallContext): WriteResult<T>;
  /** PATCH Type?query: the one match is patched; none 404, several 412. */
  conditionalPatch<T extends Resource>(resourceType: string, query: string, patch: unknown, ctx?: CallContext): WriteResult<T>;
  delete(resourceType: string, id: string, ctx?: CallContext): void;
  conditionalDelete(resourceType: string, query: string, ctx?: CallContext): number;
  history(query: HistoryQuery, ctx?: CallContext): Bundle;
  /** Search; `query` is the URL query string without '?'. resourceType undefined = system search. */
  search(resourceType: string | undefined, query: string, ctx?: CallContext): Bundle;
  /**
   * Batch or transaction Bundle; a transaction is atomic (one SQLite transaction). `commitWith` (a
   * transaction Bundle only) writes the caller's own rows about it in that transaction, after the
   * entries: they commit together, and a throw rolls the whole Bundle back. The import records its
   * ledger row so; wrapping the Bundle in a transaction of its own instead would make the Bundle's a
   * savepoint, and SQLite copies every page a savepoint changes into its sub-journal.
   */
  processBundle(bundle: Bundle, ctx?: CallContext, commitWith?: (response: Bundle) => void): Bundle;
  /**
   * The writes for a caller that makes each one part of a transaction of its own, which it rolls back
   * when the write throws (the enforcement point: every enforced write runs in its interaction's
   * transaction, or in its Bundle's). They open no savepoint: SQLite journals every page a savepoint
   * changes and walks its in-memory sub-journal from the start at each release, so a savepoint per
   * entry of a transaction Bundle cost more than the writes themselves. Outside a transaction they throw.
   */
  readonly inCallerTransaction: Pick<Store, 'create' | 'update' | 'delete'>;
  /**
   * Runs `fn` inside the caller's transaction with the search index rows of its writes buffered and
   * written sorted by key when it returns, as a transaction Bundle's are (dropped when it throws: the
   * caller rolls back). Reads of the index inside `fn` must go through this store's search, which
   * writes the buffered rows first, or call `flushIndex` before reading the index tables themselves.
   */
  deferIndexing<T>(fn: () => T): T;
  /** Writes the index rows a `deferIndexing` scope still buffers (before reading the index tables directly). */
  flushIndex(): void;
  close(): void;
}
