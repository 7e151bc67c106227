// createStore: opens the database, runs every module's migrations, and exposes the FHIR interactions,
// each public write in one SQLite transaction.
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { DEFAULT_PROJECT_ID } from '../db/project.ts';
import { loadFhirDefinitions } from '../fhir/definitions.ts';
import { createSearchIndexer, findRids, searchMigrations, searchResources } from '../search/index.ts';
import type { Db, Migration } from '../db/types.ts';
import type { SearchIndexer } from '../search/types.ts';
import { processBundle } from './bundle.ts';
import { startBackgroundCheckpointer, WRITER_AUTOCHECKPOINT_PAGES, type BackgroundCheckpointer } from './checkpointer.ts';
import { baseUrlOf, prepareStatements, projectOf, type StoreCore } from './core.ts';
import { isInMemoryPath, openDatabase } from '../db/open.ts';
import { runMigrations } from '../db/migrations.ts';
import { history, readResource, vreadResource } from './reads.ts';
import { coreMigration } from './schema.ts';
import type { CallContext, HistoryQuery, Store, StoreOptions, WriteResult } from './types.ts';
import { conditionalDelete, conditionalPatch, conditionalUpdate, createResource, deleteResource, patchResource, updateResource } from './writes.ts';

export const DEFAULT_BASE_URL = 'http://localhost/fhir/R4/';

/** Every migration the store runs at start-up: core first, then each module's. */
export function allMigrations(extra: readonly Migration[] = []): Migration[] {
  return [coreMigration, ...searchMigrations, ...extra];
}

/**
 * Index rows a deferred scope buffers (SearchIndexer.deferred) follow the transactions and savepoints
 * of this connection (every one opened through `db.transaction`: the store's, the enforcement point's,
 * sync's and audit's alike): rows buffered inside one that rolls back are dropped with it, and rows a
 * read inside it had to write early are buffered again. Without this, rows of a write rolled back
 * inside a Bundle (a policy probe, a refused pulled resource) would be written later, for a row id
 * SQLite then hands out again.
 */
function indexRowsFollowTransactions(db: Db, indexer: SearchIndexer): void {
  const transaction = db.transaction.bind(db);
  const follow = <F extends (...args: never[]) => unknown>(run: F): F =>
    function followed(this: unknown, ...args: Parameters<F>) {
      indexer.begin(db);
      let result: unknown;
      try {
        result = run.apply(this, args);
      } catch (err) {
        indexer.rollback(db);
        throw err;
      }
      indexer.release(db);
      return result;
    } as F;
  db.transaction = ((fn: (...args: never[]) => unknown) => {
    const tx = transaction(fn);
    return Object.assign(follow(tx), { deferred: follow(tx.deferred), immediate: follow(tx.immediate), exclusive: follow(tx.exclusive), database: db });
  }) as Db['transaction'];
}

export function createStore(opts: StoreOptions): Store {
  loadFhirDefinitions();
  const db = openDatabase(opts.path, opts.key);
  const indexer = createSearchIndexer();
  indexRowsFollowTransactions(db, indexer);
  try {
    runMigrations(db, allMigrations(opts.migrations));
  } catch (err) {
    db.close();
    throw err;
  }
  let checkpointer: BackgroundCheckpointer | undefined;
  if (opts.backgroundCheckpoint && !isInMemoryPath(opts.path)) {
    checkpointer = startBackgroundCheckpointer({ path: opts.path, key: opts.key });
    // The writer's own checkpoint becomes the rarer one that finds the pages already copied and resets the WAL.
    db.pragma(`wal_autocheckpoint = ${WRITER_AUTOCHECKPOINT_PAGES}`);
  }
  const core: StoreCore = {
    db,
    sql: prepareStatements(db),
    clock: opts.clock ?? (() => new Date()),
    defaultProject: opts.defaultProject ?? DEFAULT_PROJECT_ID,
    defaultBaseUrl: opts.baseUrl ?? DEFAULT_BASE_URL,
    indexer,
    // Every read of the index first writes the rows a transaction Bundle still buffers (indexer.deferred).
    findRids: (d, resourceType, query, o) => {
      indexer.flush(d);
      return findRids(d, resourceType, query, o);
    },
    search: (d, resourceType, query, o) => {
      indexer.flush(d);
      return searchResources(d, resourceType, query, o);
    },
    onChange: opts.onChange,
  };

  const txCreate = db.transaction((r: Resource, o?: { ifNoneExist?: string }, c?: CallContext) => createResource(core, r, o, c));
  const txUpdate = db.transaction((r: Resource, o?: { ifMatch?: string }, c?: CallContext) => updateResource(core, r, o, c));
  const txConditionalUpdate = db.transaction((t: string, q: string, r: Resource, c?: CallContext) => conditionalUpdate(core, t, q, r, c));
  const txPatch = db.transaction((t: string, id: string, p: unknown, o?: { ifMatch?: string }, c?: CallContext) => patchResource(core, t, id, p, o, c));
  const txConditionalPatch = db.transaction((t: string, q: string, p: unknown, c?: CallContext) => conditionalPatch(core, t, q, p, c));
  const txDelete = db.transaction((t: string, id: string, c?: CallContext) => deleteResource(core, t, id, c));
  const txConditionalDelete = db.transaction((t: string, q: string, c?: CallContext) => conditionalDelete(core, t, q, c));

  const requireTransaction = (): void => {
    if (!db.inTransaction) {
      throw new Error('store.inCallerTransaction: the caller must hold a transaction');
    }
  };
  const inCallerTransaction: Store['inCallerTransaction'] = {
    create: <T extends Resource>(resource: T, o?: { ifNoneExist?: string }, ctx?: CallContext) => {
      requireTransaction();
      return createResource(core, resource, o, ctx);
    },
    update: <T extends Resource>(resource: T, o?: { ifMatch?: string }, ctx?: CallContext) => {
      requireTransaction();
      return updateResource(core, resource, o, ctx);
    },
    delete: (resourceType: string, id: string, ctx?: CallContext) => {
      requireTransaction();
      deleteResource(core, resourceType, id, ctx);
    },
  };

  return {
    db,
    inCallerTransaction,
    deferIndexing: (fn) => {
      requireTransaction();
      return indexer.deferred(db, fn);
    },
    flushIndex: () => indexer.flush(db),
    create: <T extends Resource>(resource: T, o?: { ifNoneExist?: string }, ctx?: CallContext) => txCreate(resource, o, ctx) as WriteResult<T>,
    read: <T extends Resource>(resourceType: string, id: string, ctx?: CallContext) => readResource<T>(core, resourceType, id, ctx),
    vread: <T extends Resource>(resourceType: string, id: string, versionId: string, ctx?: CallContext) =>
      vreadResource<T>(core, resourceType, id, versionId, ctx),
    update: <T extends Resource>(resource: T, o?: { ifMatch?: string }, ctx?: CallContext) => txUpdate(resource, o, ctx) as WriteResult<T>,
    conditionalUpdate: <T extends Resource>(resourceType: string, query: string, resource: T, ctx?: CallContext) =>
      txConditionalUpdate(resourceType, query, resource, ctx) as WriteResult<T>,
    patch: <T extends Resource>(resourceType: string, id: string, patch: unknown, o?: { ifMatch?: string }, ctx?: CallContext) =>
      txPatch(resourceType, id, patch, o, ctx) as WriteResult<T>,
    conditionalPatch: <T extends Resource>(resourceType: string, query: string, patch: unknown, ctx?: CallContext) =>
      txConditionalPatch(resourceType, query, patch, ctx) as WriteResult<T>,
    delete: (resourceType: string, id: string, ctx?: CallContext) => txDelete(resourceType, id, ctx),
    conditionalDelete: (resourceType: string, query: string, ctx?: CallContext) => txConditionalDelete(resourceType, query, ctx),
    history: (query: HistoryQuery, ctx?: CallContext): Bundle => history(core, query, ctx),
    search: (resourceType: string | undefined, query: string, ctx?: CallContext): Bundle =>
      core.search(db, resourceType, query, { project: projectOf(core, ctx), baseUrl: baseUrlOf(core, ctx), ...ctx?.search }),
    processBundle: (bundle: Bundle, ctx?: CallContext, commitWith?: (response: Bundle) => void) => processBundle(core, bundle, ctx, commitWith),
    close: () => {
      checkpointer?.stop();
      if (db.open) {
        db.close();
      }
    },
  };
}
