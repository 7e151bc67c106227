// The host, composed from its parts. Each part is a factory that takes what it needs:
//   data folder  (parts/data.ts)      store + every module's schema, sync's outbox, the audit log
//   accounts     (parts/accounts.ts)  the access service (every Repository) and the auth service
//   sync         (sync/service.ts)    remotes, the runner, remote login (needs the data folder only)
//   importer     (transfer/import.ts) resumable imports through a Repository
//   door         (door.ts)            the one route table every domain contributes to
// `createHost` builds them all (the app, browser mode, tests); the command line builds what each command
// uses: `openDataHost` the data folder, accounts and the importer (import, export, seed, policy review,
// unlock), `openSyncHost` the data folder and sync (outpost sync). No module-level state: tests run many
// hosts side by side.
import { readFileSync } from 'node:fs';
import type { EmitBridgeEvent } from '../../shared/contract/bridge.ts';
import type { HostRequest, HostResponse } from '../../shared/contract/host.ts';
import type { Access } from './access/index.ts';
import { adminRoutes } from './admin/index.ts';
import type { AuditLog } from './audit/log.ts';
import { authRoutes } from './auth-api/routes.ts';
import type { AuthService } from './auth/types.ts';
import { createDoor, type DoorOptions } from './door.ts';
import { fhirRoutes } from './fhir-api/routes.ts';
import { openAccounts, type AccountsOptions } from './parts/accounts.ts';
import { openDataFolder, type DataFolder, type DataFolderOptions } from './parts/data.ts';
import { createReplica } from './access/index.ts';
import type { Route, Router } from './routes/router.ts';
import type { Store } from './store/types.ts';
import type { SecretSealer } from './sealing.ts';
import { createSyncService, type SyncHostOptions, type SyncService } from './sync/service.ts';
import { createImporter, type Importer } from './transfer/import.ts';
import { transferRoutes } from './transfer/routes.ts';

export interface HostOptions extends DataFolderOptions, AccountsOptions, Pick<DoorOptions, 'baseUrl' | 'maxBodyBytes' | 'anonymous' | 'checkReplies' | 'onUnexpectedError'> {
  /** Pushes an event to the renderer (Electron): sync progress. */
  emit?: EmitBridgeEvent;
  /** Extra routes built on the host's services (tests that plant a route), tried after the host's own. */
  routes?: (services: HostServices) => Route[];
  /** Seals sync's secrets at rest (the desktop app: a key derived from its keychain-kept database key); default a 0600 key file in the data folder. */
  secretSealer?: SecretSealer;
  /** Sync with a remote server (electron/host/sync): background loop, fetch, runner options. */
  sync?: SyncHostOptions;
}

export interface HostServices {
  auth: AuthService;
  access: Access;
  audit: AuditLog;
}

/** What the command line's data commands open: the data folder, accounts and access, the importer. */
export interface DataHost extends HostServices {
  readonly dataDir: string;
  /** Imports of files through a Repository, resumable (outpost import, outpost/import). */
  readonly importer: Importer;
  /**
   * The raw store, around every policy: for tests (seeding, looking at rows) only. Production code
   * reaches the data through `access` (the lint rule outpost/no-raw-store refuses `.rawStore` elsewhere).
   */
  readonly rawStore: Store;
  close(): void;
}

export interface Host extends DataHost {
  handle(req: HostRequest): Promise<HostResponse>;
  readonly maxBodyBytes: number;
  /** The largest body a request to `path` may carry (each transport refuses more, 413, before reading it all). */
  bodyLimit(method: string, path: string): number;
  /** The one route table (FHIR REST, auth, admin, sync, transfer). */
  readonly router: Router;
  /** Sync: the remote of each project, the runner (outpost/sync/... routes). */
  readonly sync: SyncService;
  /** Screen lock / suspend: locks every open session (each unlocks with its password). */
  lockAllSessions(): number;
}

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** What `outpost sync` opens: the data folder and sync (no accounts, no routes). */
export interface SyncHost {
  readonly dataDir: string;
  readonly sync: SyncService;
  close(): void;
}

type SyncPartOptions = Pick<HostOptions, 'secretSealer' | 'sync' | 'emit' | 'clock'>;

/** Sync over a data folder: replication's writes go around every policy through the access layer's Replica. */
function syncPart(data: DataFolder, options: SyncPartOptions): SyncService {
  const { store, outbox, dataDir } = data;
  return createSyncService({ ...options.sync, store: createReplica(store), db: store.db, outbox, dataDir, sealer: options.secretSealer, clock: options.clock, emit: options.emit });
}

/** Builds the parts over an open data folder; the folder is closed again when one of them fails. */
function onDataFolder<T>(options: DataFolderOptions, build: (data: DataFolder) => T): T {
  const data = openDataFolder(options);
  try {
    return build(data);
  } catch (err) {
    data.close();
    throw err;
  }
}

export function openSyncHost(options: DataFolderOptions & SyncPartOptions): SyncHost {
  return onDataFolder(options, (data) => {
    const sync = syncPart(data, options);
    return {
      dataDir: data.dataDir,
      sync,
      close: once(() => {
        sync.stop();
        data.close();
      }),
    };
  });
}

export function openDataHost(options: DataFolderOptions & AccountsOptions): DataHost {
  return onDataFolder(options, (data) => {
    const { auth, access } = openAccounts(data, options);
    return { dataDir: data.dataDir, rawStore: data.store, auth, access, audit: data.audit, importer: createImporter(data.store.db), close: once(data.close) };
  });
}

export function createHost(options: HostOptions): Host {
  return onDataFolder(options, (data) => composeHost(data, options));
}

function composeHost(data: DataFolder, options: HostOptions): Host {
  const { store, audit, clock, dataDir } = data;
  const sync = syncPart(data, options);
  const { auth, access } = openAccounts(data, { ...options, remotePasswordCheck: sync.remotePasswordCheck });
  const importer = createImporter(store.db);
  const services: HostServices = { auth, access, audit };
  const routes = [
    ...fhirRoutes({ version: readVersion() }),
    ...authRoutes({ auth, access }),
    ...adminRoutes({ directory: auth.directory, auth, access, audit, clock }),
    ...sync.routes({ audit }),
    ...transferRoutes({ importer }),
    ...(options.routes?.(services) ?? []),
  ];
  const door = createDoor({ ...options, routes, auth, access, audit, clock });
  return {
    ...services,
    handle: door.handle,
    bodyLimit: door.bodyLimit,
    maxBodyBytes: door.maxBodyBytes,
    router: door.router,
    rawStore: store,
    dataDir,
    sync,
    importer,
    lockAllSessions: () => auth.lockAllSessions(),
    close: once(() => {
      door.close();
      sync.stop();
      data.close();
    }),
  };
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      fn();
    }
  };
}
