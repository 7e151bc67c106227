// The data folder, the part every host opens: the encrypted store with the schema of every module (one
// database file has one schema, whichever command opens it), sync's outbox recording each local change
// in the change's own transaction (so an import from the command line is pushed like an edit in the
// app), and the audit log (events an earlier run could not store are stored first).
import { join } from 'node:path';
import { createAuditLog, type AuditLog } from '../audit/log.ts';
import { auditMigrations } from '../audit/schema.ts';
import { AUDIT_SPILL_FILE } from '../audit/spill.ts';
import { authMigrations } from '../auth/schema.ts';
import { loadFhirDefinitions } from '../fhir/definitions.ts';
import { databasePath, ensureDataDir } from '../paths.ts';
import { createStore } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { createOutbox, syncMigrations, type Outbox } from '../sync/index.ts';
import { transferMigrations } from '../transfer/ledger.ts';

export interface DataFolderOptions {
  /** The data folder (holds outpost.db), or ':memory:' for a throwaway in-memory store. */
  dataDir: string;
  /** SQLCipher key of the database. */
  key?: string;
  clock?: () => Date;
  /** false turns AuditEvents off: only for measuring their overhead in benchmarks. */
  audit?: boolean;
  /** Where the host says what no request answers (audit events it had to keep aside or recovered). */
  log?: (message: string) => void;
}

export interface DataFolder {
  readonly dataDir: string;
  /** The raw store: only the access service (parts/accounts.ts) and tests hold it. */
  readonly store: Store;
  readonly outbox: Outbox;
  readonly audit: AuditLog;
  readonly clock: () => Date;
  /** Flushes the audit log and closes the database. */
  close(): void;
}

export function openDataFolder(options: DataFolderOptions): DataFolder {
  loadFhirDefinitions();
  const { dataDir } = options;
  const clock = options.clock ?? (() => new Date());
  const outbox = createOutbox({ clock: options.clock });
  const store = createStore({
    path: dataDir === ':memory:' ? ':memory:' : databasePath(ensureDataDir(dataDir)),
    key: options.key,
    clock: options.clock,
    migrations: [...authMigrations, ...auditMigrations, ...syncMigrations, ...transferMigrations],
    onChange: outbox.onChange,
    backgroundCheckpoint: true,
  });
  const audit = createAuditLog({
    // Every event is written inside a transaction (the change's, or the log's own): no savepoint of its own.
    sink: { db: store.db, createEvent: (event, project) => store.inCallerTransaction.create(event, undefined, { project, validation: 'structure' }).resource.id as string },
    clock,
    enabled: options.audit,
    spillFile: dataDir === ':memory:' ? undefined : join(dataDir, AUDIT_SPILL_FILE),
    key: options.key,
    log: options.log,
  });
  // Audit events an earlier run could not store (see audit/spill.ts) are stored before anything else.
  audit.replaySpilled();
  return {
    dataDir,
    store,
    outbox,
    audit,
    clock,
    close() {
      audit.close();
      store.close();
    },
  };
}
