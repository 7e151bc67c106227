// Sync: outbox (local changes, recorded in the change's transaction), id map, and later push/pull.
// Wiring: createStore({ migrations: [...syncMigrations], onChange: outbox.onChange }).
export { syncMigrations, syncOutboxMigration } from './schema.ts';
export { createOutbox, dueRows, outboxCounts, squash, DEFAULT_EXCLUDED_TYPES } from './outbox.ts';
export type { Outbox, OutboxOp, OutboxOptions, OutboxRow, OutboxState } from './outbox.ts';
export { recordConflict, listConflicts, getConflict, conflictOf, syncConflictMigration } from './conflicts.ts';
export type { ConflictInput, ConflictReason, SyncConflict } from './conflicts.ts';
export { resolveConflict } from './conflicts.ts';
export type { Resolution, ResolveDeps } from './conflicts.ts';
export { pushOutbox } from './push.ts';
export type { PushOptions, PushSummary } from './push.ts';
export { pushAuditEvents } from './audit-push.ts';
export type { AuditPushOptions, AuditPushSummary } from './audit-push.ts';
