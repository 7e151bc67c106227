// Entry point of the FHIR store.
//
// Chunking long work: every public call is one short SQLite transaction, and processBundle runs one
// Bundle as one transaction. An importer keeps the window responsive by feeding Bundles one at a time
// (yielding to the event loop between them, e.g. `await setImmediate()`), or by splitting a huge
// collection into transaction Bundles of a few hundred to a few thousand entries.
export { createStore, allMigrations, DEFAULT_BASE_URL } from './store.ts';
export { isValidFhirId } from './validation.ts';
export { newResourceId } from './ids.ts';
export { applyJsonPatch } from './json-patch.ts';
export { applyFhirPathPatch } from './fhirpath-patch.ts';
export type { CallContext, HistoryQuery, Store, StoreChange, StoreOptions, WriteResult } from './types.ts';
