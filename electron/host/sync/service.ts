// Sync as the host holds it: the remote configuration (secrets sealed), the runner (lock, runs,
// background loop), the routes, and the remote password check of remote login. host.ts creates one
// per host and stops it on close().
import type { EmitBridgeEvent } from '../../../shared/contract/bridge.ts';
import type { AuditLog } from '../audit/log.ts';
import type { RemotePasswordCheck } from '../auth/types.ts';
import type { Route } from '../routes/router.ts';
import type { Replica } from '../access/index.ts';
import type { Db } from '../db/types.ts';
import { resolveConflict } from './conflicts/conflicts.ts';
import { memorySealer, type SecretSealer } from '../sealing.ts';
import { createSyncConfig, syncKeyFileSealer, type SyncConfig } from './config.ts';
import type { Outbox } from './outbox.ts';
import { createRemotePasswordCheck } from './remote/remote-identity.ts';
import { syncRoutes } from './routes.ts';
import { createSyncRunner, type BackgroundOptions, type SyncRunner, type SyncRunnerOptions } from './runner.ts';

/** Pulled resources per page (and write transaction) in hosts that serve a UI. */
export const UI_PULL_PAGE_SIZE = 250;

export interface SyncHostOptions {
  /** Start the background loop (the app and `outpost serve`; one-shot CLI commands leave it off). */
  background?: boolean | BackgroundOptions;
  fetch?: typeof fetch;
  /** Passed to the runner (steps, remote retry options, lock ttl): tests and the bench. */
  runner?: Partial<Pick<SyncRunnerOptions, 'steps' | 'remoteOptions' | 'lock' | 'pullPageSize'>>;
}

export interface SyncServiceOptions extends SyncHostOptions {
  /** Replication's writes around every policy (access/replica.ts); sync's routes act as the session. */
  store: Replica;
  /** The store's connection, for sync's own tables. */
  db: Db;
  outbox: Outbox;
  /** The data folder (browser mode / CLI key file), or ':memory:'. */
  dataDir: string;
  sealer?: SecretSealer;
  clock?: () => Date;
  emit?: EmitBridgeEvent;
}

export interface SyncService {
  readonly config: SyncConfig;
  readonly runner: SyncRunner;
  readonly remotePasswordCheck: RemotePasswordCheck;
  /** Sync's routes for the host's table (outpost/sync/...): each gets its caller's session and Repository at the door. */
  routes(deps: { audit: AuditLog }): Route[];
  /** Stops the background loop and any run (before the store closes). */
  stop(): void;
}

export function createSyncService(options: SyncServiceOptions): SyncService {
  const { store, outbox, db } = options;
  const sealer = options.sealer ?? (options.dataDir === ':memory:' ? memorySealer() : syncKeyFileSealer(options.dataDir));
  const config = createSyncConfig(db, sealer, options.clock);
  const runner = createSyncRunner({
    store,
    db,
    outbox,
    config,
    clock: options.clock,
    fetch: options.fetch,
    emit: options.emit,
    // A host serving a UI (background sync on: the app, browser mode) pulls smaller pages, so one page's
    // write transaction never holds the event loop long; the CLI keeps the larger default for throughput.
    ...(options.background ? { pullPageSize: UI_PULL_PAGE_SIZE } : {}),
    ...options.runner,
  });
  const remotePasswordCheck = createRemotePasswordCheck({ store, db, config, fetch: options.fetch });
  if (options.background) {
    runner.startBackground(options.background === true ? {} : options.background);
  }
  return {
    config,
    runner,
    remotePasswordCheck,
    routes: ({ audit }) =>
      syncRoutes({ db, audit, config, runner, resolve: (id, choice, writer) => resolveConflict({ db, writer, outbox, clock: options.clock }, id, choice) }),
    stop: () => runner.stop(),
  };
}
