// Shared set-up of the electron/main.ts tests: a fake 'electron' module whose parts come from the
// current FakeElectron (a fresh one per start), a fake host recording what reaches it, a built renderer
// folder, and helpers to start main and to call its IPC handler. Each test file declares
//   vi.mock('electron', async () => (await import('./main-harness.ts')).fakeElectronModule);
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach } from 'vitest';
import { REQUEST_CHANNEL } from '../../shared/contract/bridge.ts';
import type { HostRequest, HostResponse } from '../../shared/contract/host.ts';
import type { CrashSource } from '../../electron/host/crash-guard.ts';
import type { MainProcess } from '../../electron/main.ts';
import type { HostFactory, ShellHostOptions } from '../../electron/shell/host-types.ts';
import { createFakeElectron, type FakeElectron, type FakeElectronOptions } from './fake-electron.ts';
import { createFakeSafeStorage, type FakeSafeStorage } from './fake-safe-storage.ts';

export const APP_PAGE = 'app://outpost/index.html';
/** The host process's entry, run by the fake utilityProcess through tsx. */
export const HOST_ENTRY = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'electron', 'host-process.ts');
export const OK_BODY = { resourceType: 'Bundle', type: 'searchset', total: 0 };

const current: { env?: FakeElectron } = {};

function part<K extends keyof FakeElectron['module']>(name: K): FakeElectron['module'][K] {
  if (!current.env) {
    throw new Error('no fake Electron: call start() or useElectron() first');
  }
  return current.env.module[name];
}

/** What `import ... from 'electron'` gives main.ts in these tests. */
export const fakeElectronModule = {
  get app() {
    return part('app');
  },
  get BrowserWindow() {
    return part('BrowserWindow');
  },
  get ipcMain() {
    return part('ipcMain');
  },
  get protocol() {
    return part('protocol');
  },
  get session() {
    return part('session');
  },
  get screen() {
    return part('screen');
  },
  get powerMonitor() {
    return part('powerMonitor');
  },
  get Menu() {
    return part('Menu');
  },
  get dialog() {
    return part('dialog');
  },
  get safeStorage() {
    return part('safeStorage');
  },
  get utilityProcess() {
    return part('utilityProcess');
  },
};

export function createFakeHost() {
  const record = {
    options: [] as ShellHostOptions[],
    handled: [] as HostRequest[],
    closed: 0,
    locked: 0,
    reply: async (_req: HostRequest): Promise<HostResponse> => ({ status: 200, headers: { 'content-type': 'application/fhir+json' }, body: OK_BODY }),
  };
  const factory: HostFactory = (options) => {
    record.options.push(options);
    return {
      handle: async (req) => {
        record.handled.push(req);
        return record.reply(req);
      },
      close: () => void record.closed++,
      lockAllSessions: async () => void record.locked++,
    };
  };
  return { factory, record };
}

export interface StartOptions {
  /** Main's own host in its own process (the real entry, or `hostEntry`) instead of the recording fake. */
  realHost?: boolean;
  hostEntry?: string;
  crashSource?: CrashSource;
  log?: (line: string) => void;
}

export interface MainHarness {
  root: string;
  rendererDir: string;
  safeStorage: FakeSafeStorage;
  host: ReturnType<typeof createFakeHost>;
  readonly env: FakeElectron;
  /** A fresh fake Electron (the userData of every one is the same folder, as across real restarts). */
  useElectron(overrides?: Partial<FakeElectronOptions>): FakeElectron;
  /** Starts main with the fake host (or `createHost: undefined` for the real one). */
  start(overrides?: Partial<FakeElectronOptions>, options?: StartOptions): Promise<{ env: FakeElectron; main: MainProcess | null }>;
  /** Calls the IPC request handler as a frame at `senderUrl` would (null: the frame is gone). */
  invoke(env: FakeElectron, senderUrl: string | null, envelope: unknown): Promise<HostResponse>;
}

/** Registers the per-test set-up and tear-down; call it inside a describe. */
export function useMainHarness(): MainHarness {
  const running: MainProcess[] = [];
  const harness: MainHarness = {
    root: '',
    rendererDir: '',
    safeStorage: createFakeSafeStorage(),
    host: createFakeHost(),
    get env() {
      return current.env!;
    },
    useElectron(overrides = {}) {
      current.env = createFakeElectron({ appData: join(harness.root, 'appData'), safeStorage: harness.safeStorage, ...overrides });
      return current.env;
    },
    async start(overrides = {}, options = {}) {
      const env = harness.useElectron(overrides);
      const { startMainProcess } = await import('../../electron/main.ts');
      const main = await startMainProcess({
        createHost: options.realHost ? undefined : harness.host.factory,
        hostEntry: options.hostEntry ?? HOST_ENTRY,
        rendererDir: harness.rendererDir,
        preloadPath: '/built/electron/preload.cjs',
        idleLockSeconds: 0,
        log: options.log ?? (() => {}),
        crashSource: options.crashSource,
      });
      if (main) {
        running.push(main);
      }
      return { env, main };
    },
    async invoke(env, senderUrl, envelope) {
      const handler = env.ipcHandlers.get(REQUEST_CHANNEL)!;
      const senderFrame = senderUrl === null ? null : { url: senderUrl };
      return (await handler({ senderFrame, sender: {} }, envelope)) as HostResponse;
    },
  };

  beforeEach(() => {
    harness.root = mkdtempSync(join(tmpdir(), 'outpost-main-'));
    harness.rendererDir = join(harness.root, 'dist', 'renderer');
    mkdirSync(join(harness.rendererDir, 'assets'), { recursive: true });
    writeFileSync(join(harness.rendererDir, 'index.html'), '<!doctype html><script type="module" src="/assets/app.js"></script>');
    writeFileSync(join(harness.rendererDir, 'assets', 'app.js'), 'console.log("outpost")');
    writeFileSync(join(harness.root, 'dist', 'secret.txt'), 'outside the renderer');
    harness.safeStorage = createFakeSafeStorage();
    harness.host = createFakeHost();
  });

  afterEach(async () => {
    for (const main of running.splice(0)) {
      await main.shutdown();
    }
    current.env = undefined;
    rmSync(harness.root, { recursive: true, force: true });
  });

  return harness;
}
