// Entry point of the search module: what the store integrates with (see types.ts for the contracts).
//   searchMigrations     index tables (migration 2), covering liveness index (migration 5), rows of
//                        parameters stored through others removed (migration 6, shared-rows.ts)
//   createSearchIndexer  writes/removes a resource's index rows inside the store's transaction
//   findRids             conditional query -> matching live rids (If-None-Exist, conditional update/delete)
//   searchResources      FHIR search -> searchset Bundle
import { liveIndexMigration } from './live-index.ts';
import { searchIndexMigration } from './schema.ts';
import { sharedRowsMigration } from './shared-rows.ts';
import type { Migration } from '../db/types.ts';

export type { FindRids, SearchFn, SearchIndexer, SearchOptions } from './types.ts';
export { createSearchIndexer } from './indexer.ts';
export { findRids, searchResources } from './search.ts';

export const searchMigrations: Migration[] = [searchIndexMigration, liveIndexMigration, sharedRowsMigration];
