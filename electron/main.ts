// Electron main process: thin wiring of the shell (electron/shell) around the host (electron/host).
// One window loading the built renderer from the app's own protocol, deny-by-default web policies, one
// IPC request channel and one event channel, the database key in the OS keychain, auto-lock. The host
// itself runs in its own process (host-process.ts, started with utilityProcess): main checks each IPC
// request and hands it over a port (shell/host-client.ts), so SQLite never blocks a window.
// This file and preload.ts are the only ones that import 'electron'; everything they call is plain Node.
import {
  BrowserWindow,
  Menu,
  app,
  dialog,
  ipcMain,
  powerMonitor,
  protocol,
  safeStorage,
  screen,
  session,
  utilityProcess,
  type MenuItemConstructorOptions,
  type WebContents,
} from 'electron';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REQUEST_CHANNEL, type EmitBridgeEvent, type LockReason } from '../shared/contract/bridge.ts';
import { isFhirError, toErrorResponse } from '../shared/errors.ts';
import { installCrashGuard, type CrashSource } from './host/crash-guard.ts';
import { ensureDataDir } from './host/paths.ts';
import { APP_ENTRY_URL, APP_SCHEME, APP_SCHEME_PRIVILEGES, createAppProtocolHandler, isAppUrl } from './shell/app-protocol.ts';
import { startAutoLock, type AutoLock } from './shell/auto-lock.ts';
import { createEventBroadcaster } from './shell/events.ts';
import { startHostProcess, utilityProcessHandle, type HostCrash } from './shell/host-client.ts';
import type { HostFactory, ShellHost } from './shell/host-types.ts';
import { createIpcRequestHandler } from './shell/ipc-request.ts';
import { loadOrCreateDatabaseKey } from './shell/key-storage.ts';
import { safeStorageSealer } from './shell/secret-sealer.ts';
import { aboutPanelOptions, buildMenuTemplate } from './shell/menu.ts';
import { denyPermissionCheck, denyPermissionRequest, denyWindowOpen, shouldBlockNavigation } from './shell/web-guards.ts';
import { secureWebPreferences } from './shell/window-options.ts';
import { MIN_SIZE, WINDOW_STATE_FILE, loadWindowState, saveWindowState, type Rect } from './shell/window-state.ts';

export const PRODUCT_NAME = 'Outpost';

/** Schemes the renderer's network stack may never reach: it only talks to app:// and the IPC door. */
const BLOCKED_URL_PATTERNS = ['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*', 'ftp://*/*', 'file://*/*'];

export interface MainOptions {
  /** Builds the host; by default the real one in its own process (`hostEntry`), a fake in tests. */
  createHost?: HostFactory;
  /** The host process's entry. Default: `host-process.js` beside the built main. */
  hostEntry?: string;
  /** Built renderer folder (index.html). Default: `../renderer` beside the built main's folder. */
  rendererDir?: string;
  /** Built preload script. Default: `preload.cjs` beside the built main. */
  preloadPath?: string;
  /** Data folder (userData); default: `<appData>/Outpost`. The real start takes $OUTPOST_DATA_DIR (`npm start -- --data <dir>`). */
  dataDir?: string;
  /** Idle seconds before auto-lock (0 disables). */
  idleLockSeconds?: number;
  /** Locks every session; default: the host's `lockAllSessions` when it has one. */
  lockSessions?: (host: ShellHost) => void | Promise<void>;
  log?: (message: string) => void;
  /** Where uncaught exceptions and unhandled rejections are heard: `process` (a stand-in in tests). */
  crashSource?: CrashSource;
}

export interface MainProcess {
  readonly window: BrowserWindow;
  readonly host: ShellHost;
  readonly emit: EmitBridgeEvent;
  readonly dataDir: string;
  /** Stops auto-lock, removes the IPC handler and closes the host (also run on 'will-quit', which waits for it). */
  shutdown(): Promise<void>;
}

function builtFolder(): string {
  return dirname(fileURLToPath(import.meta.url));
}

/** Primary display first: a window with no valid saved state is centred there. */
function currentWorkAreas(): Rect[] {
  const primary = screen.getPrimaryDisplay();
  return [primary, ...screen.getAllDisplays().filter((d) => d.id !== primary.id)].map((d) => d.workArea);
}

/** Every web contents (the window, and any that might ever be created) gets the same guards. */
function hardenWebContents(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (shouldBlockNavigation(url)) {
      event.preventDefault();
    }
  });
  contents.on('will-redirect', (event, url) => {
    if (shouldBlockNavigation(url)) {
      event.preventDefault();
    }
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(denyWindowOpen);
}

function hardenSession(): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler(denyPermissionRequest);
  ses.setPermissionCheckHandler(denyPermissionCheck);
  ses.setDevicePermissionHandler(denyPermissionCheck);
  ses.webRequest.onBeforeRequest({ urls: BLOCKED_URL_PATTERNS }, (_details, callback) => callback({ cancel: true }));
}

function createMainWindow(dataDir: string, preloadPath: string): BrowserWindow {
  const stateFile = join(dataDir, WINDOW_STATE_FILE);
  const state = loadWindowState(stateFile, currentWorkAreas());
  const window = new BrowserWindow({
    ...state.bounds,
    minWidth: MIN_SIZE.width,
    minHeight: MIN_SIZE.height,
    show: false,
    title: PRODUCT_NAME,
    webPreferences: secureWebPreferences(preloadPath, { devTools: !app.isPackaged }),
  });
  if (state.maximized) {
    window.maximize();
  }
  window.once('ready-to-show', () => window.show());
  const save = () => saveWindowState(stateFile, { bounds: window.getNormalBounds(), maximized: window.isMaximized() });
  // Saved when it closes, and shortly after it stops moving, so a crash does not forget it either.
  let pending: ReturnType<typeof setTimeout> | undefined;
  const saveSoon = () => {
    clearTimeout(pending);
    pending = setTimeout(() => !window.isDestroyed() && save(), 1_000);
    pending.unref?.();
  };
  window.on('resize', saveSoon);
  window.on('move', saveSoon);
  window.on('close', () => {
    clearTimeout(pending);
    save();
  });
  if (app.isPackaged) {
    // devTools: false already refuses to open them; this also closes any opened by a stray shortcut.
    window.webContents.on('devtools-opened', () => window.webContents.closeDevTools());
  }
  void window.loadURL(APP_ENTRY_URL);
  return window;
}

/**
 * Starts the desktop app. The parts that must happen before `ready` (single-instance lock, privileged
 * scheme, sandbox, userData path) run synchronously on call; the rest after `app.whenReady()`.
 * Resolves null when another instance already runs (this one quits and focuses that one's window).
 */
export async function startMainProcess(options: MainOptions = {}): Promise<MainProcess | null> {
  const log = options.log ?? ((message: string) => console.log(message));
  // Nothing main's own work throws (a window event, a menu, a host that answers late) ends the app.
  const guard = installCrashGuard({ log, source: options.crashSource });
  // A fixed folder name, whatever package.json's name: ~/.config/Outpost, %APPDATA%\Outpost, ...
  // Set first: the single-instance lock lives in the userData folder.
  app.setPath('userData', options.dataDir ? resolve(options.dataDir) : join(app.getPath('appData'), PRODUCT_NAME));
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return null;
  }
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: APP_SCHEME_PRIVILEGES }]);
  app.enableSandbox();
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));

  // The window exists only after ready; a second instance started before then has nothing to focus.
  const windows: { main?: BrowserWindow } = {};
  app.on('second-instance', () => {
    const window = windows.main;
    if (window && !window.isDestroyed()) {
      if (window.isMinimized()) {
        window.restore();
      }
      window.focus();
    }
  });
  app.on('window-all-closed', () => app.quit());

  await app.whenReady();

  const dataDir = ensureDataDir(app.getPath('userData'));
  const { key, protection, created } = loadOrCreateDatabaseKey({ dataDir, safeStorage });
  if (protection === 'key-file') {
    log('Outpost: no OS keychain is available; the database key is kept in a 0600 key file beside the data.');
  }
  if (created) {
    log('Outpost: created a new database key.');
  }

  hardenSession();
  protocol.handle(APP_SCHEME, createAppProtocolHandler({ rootDir: options.rendererDir ?? join(builtFolder(), '..', 'renderer') }));

  const emit = createEventBroadcaster(
    () => BrowserWindow.getAllWindows().map((w) => w.webContents),
    isAppUrl,
  );
  // Sync runs in the background while the app is open; its secrets are sealed with a key derived from
  // the keychain's database key (secrets sealed by safeStorage itself before are unsealed here once).
  const legacySealer = safeStorageSealer(safeStorage);
  const hostInItsOwnProcess: HostFactory = (hostOptions) =>
    startHostProcess({
      spawn: () => utilityProcessHandle(utilityProcess.fork(options.hostEntry ?? join(builtFolder(), 'host-process.js'), [], { serviceName: `${PRODUCT_NAME} host` })),
      start: { dataDir: hostOptions.dataDir, key: hostOptions.key, keychain: hostOptions.keychain, sync: hostOptions.sync },
      emit: hostOptions.emit,
      log,
      unsealLegacy: legacySealer ? (sealed) => legacySealer.unseal(sealed).toString('utf8') : undefined,
      onCrash: (crash) => tellAboutHostCrash(crash, windows.main, log),
    });
  const host = await (options.createHost ?? hostInItsOwnProcess)({ dataDir, key, keychain: protection === 'os-keychain', emit, sync: { background: true } });
  const handleRequest = createIpcRequestHandler(() => host, guard);
  ipcMain.handle(REQUEST_CHANNEL, (event, envelope: unknown) => handleRequest({ senderUrl: event.senderFrame?.url }, envelope));

  const version = app.getVersion();
  app.setAboutPanelOptions(aboutPanelOptions({ productName: PRODUCT_NAME, version }));
  const template = buildMenuTemplate({ productName: PRODUCT_NAME, version, platform: process.platform, isPackaged: app.isPackaged });
  Menu.setApplicationMenu(Menu.buildFromTemplate(template as MenuItemConstructorOptions[]));

  const lockSessions = options.lockSessions ?? ((h: ShellHost) => h.lockAllSessions?.());
  const autoLock: AutoLock = startAutoLock({
    powerMonitor,
    idleSeconds: options.idleLockSeconds,
    lock: async (reason: LockReason) => {
      await lockSessions(host);
      emit('lock', { reason });
    },
    onError: (err) => log(`Outpost: auto-lock failed: ${JSON.stringify(toErrorResponse(err).outcome)}`),
  });

  const window = createMainWindow(dataDir, options.preloadPath ?? join(builtFolder(), 'preload.cjs'));

  windows.main = window;

  let closing: Promise<void> | undefined;
  let closed = false;
  const shutdown = () =>
    (closing ??= (async () => {
      try {
        autoLock.stop();
        ipcMain.removeHandler(REQUEST_CHANNEL);
        await host.close();
      } finally {
        guard.uninstall();
        closed = true;
      }
    })());
  // Quitting waits for the host to close its database (its process checkpoints and ends), then quits.
  app.on('will-quit', (event?: { preventDefault(): void }) => {
    if (!closed) {
      event?.preventDefault();
      void shutdown()
        .catch((err: unknown) => log(`Outpost: closing the host failed: ${err instanceof Error ? err.message : String(err)}`))
        .finally(() => app.quit());
    }
  });

  return { window, host, emit, dataDir, shutdown };
}

/**
 * The host process ended unasked: the person hears it, because what they were doing at that moment may
 * not have been saved. Restarted: a warning beside the window. Down for good: an error, and the app quits.
 */
function tellAboutHostCrash(crash: HostCrash, window: BrowserWindow | undefined, log: (message: string) => void): void {
  if (crash.restarting) {
    const box = {
      type: 'warning' as const,
      title: PRODUCT_NAME,
      message: `${PRODUCT_NAME}'s data service stopped unexpectedly and was started again.`,
      detail: 'What you were doing at that moment may not have been saved: check it before you go on.',
    };
    const shown = window && !window.isDestroyed() ? dialog.showMessageBox(window, box) : dialog.showMessageBox(box);
    shown.catch((err: unknown) => log(`Outpost: could not show the restart notice: ${err instanceof Error ? err.message : String(err)}`));
    return;
  }
  dialog.showErrorBox(
    `${PRODUCT_NAME} stopped working`,
    `${PRODUCT_NAME}'s data service stopped several times in a row, so ${PRODUCT_NAME} will close. Start it again; if this happens again, tell whoever looks after this computer.`,
  );
  app.quit();
}

/** The real start: only when this file runs inside Electron's main process (never under tests). */
if (process.versions.electron !== undefined && process.type === 'browser') {
  startMainProcess({ dataDir: process.env.OUTPOST_DATA_DIR || undefined }).catch((err: unknown) => {
    // Shown to the person at this machine (never to the renderer), so the real reason is fine to show.
    console.error(err);
    const text = isFhirError(err)
      ? (err.outcome.issue?.[0]?.details?.text ?? 'Outpost could not start')
      : err instanceof Error
        ? err.message
        : String(err);
    dialog.showErrorBox(`${PRODUCT_NAME} could not start`, text);
    app.exit(1);
  });
}
