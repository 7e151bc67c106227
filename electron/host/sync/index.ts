// Sync: outbox (local changes, recorded in the change's transaction), push, conflicts (layout: README.md).
// Wiring: createStore({ migrations: [...syncMigrations], onChange: outbox.onChange }).
export { syncMigrations, syncOutboxMigration } from './schema.ts';
export { createOutbox, dueRows, DUE_ROWS_SQL, outboxCounts, squash, DEFAULT_EXCLUDED_TYPES } from './outbox.ts';
export type { Outbox, OutboxOp, OutboxOptions, OutboxRow, OutboxState } from './outbox.ts';
export { recordConflict, listConflicts, getConflict, conflictOf, syncConflictMigration } from './conflicts/conflicts.ts';
export type { ConflictInput, ConflictReason, SyncConflict } from './conflicts/conflicts.ts';
export { resolveConflict } from './conflicts/conflicts.ts';
export type { Resolution, ResolveDeps } from './conflicts/conflicts.ts';
export { pushOutbox } from './push/push.ts';
export type { PushOptions, PushSummary } from './push/push.ts';
export { pushAuditEvents } from './push/audit-push.ts';
export type { AuditPushOptions, AuditPushSummary } from './push/audit-push.ts';
