// The ground floor (below store, search and access): the Db type, opening a (SQLCipher) connection,
// migrations, transactions, the per-connection statement cache, and db-first query functions for the
// lookups several layers need (resources by id, users by email, memberships).
export type { Db, Migration } from './types.ts';
export { openDatabase, cipherPragmas, isInMemoryPath } from './open.ts';
export { runMigrations, schemaVersion } from './migrations.ts';
export { inTransaction } from './transactions.ts';
export { prepareCached } from './statements.ts';
