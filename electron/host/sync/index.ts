// Sync: outbox (local changes, recorded in the change's transaction), id map, and later push/pull.
// Wiring: createStore({ migrations: [...syncMigrations], onChange: outbox.onChange }).
export { syncMigrations, syncOutboxMigration } from './schema.ts';
export { createOutbox, dueRows, outboxCounts, squash, DEFAULT_EXCLUDED_TYPES } from './outbox.ts';
export type { Outbox, OutboxOp, OutboxOptions, OutboxRow, OutboxState } from './outbox.ts';
export { recordConflict, listConflicts, getConflict, conflictOf, syncConflictMigration } from './conflicts.ts';
export type { ConflictInput, ConflictReason, SyncConflict } from './conflicts.ts';
