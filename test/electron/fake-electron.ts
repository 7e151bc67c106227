// A fake of the parts of Electron that electron/main.ts uses, recording what main asks of it, so the
// main process can run in plain Node under vi.mock('electron'). Electron's binary cannot be installed on
// the machines that test Outpost.
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { FakeSafeStorage } from './fake-safe-storage.ts';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export class FakeWebContents extends EventEmitter {
  url = '';
  readonly sent: unknown[][] = [];
  windowOpenHandler?: (details: { url: string }) => { action: string };
  devToolsClosed = 0;
  destroyed = false;
  send(channel: string, ...args: unknown[]): void {
    this.sent.push([channel, ...args]);
  }
  getURL(): string {
    return this.url;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }
  closeDevTools(): void {
    this.devToolsClosed++;
  }
  /** Fires a cancellable event the way Electron does; returns whether a listener prevented it. */
  fireCancellable(name: string, url?: string): boolean {
    let prevented = false;
    const event = { url, preventDefault: () => (prevented = true) };
    this.emit(name, event, url);
    return prevented;
  }
}

export interface FakeElectronOptions {
  appData: string;
  safeStorage: FakeSafeStorage;
  isPackaged?: boolean;
  singleInstance?: boolean;
  displays?: Rect[];
}

export type FakeElectron = ReturnType<typeof createFakeElectron>;

export function createFakeElectron(options: FakeElectronOptions) {
  const order: string[] = [];
  const appEvents = new EventEmitter();
  const paths: Record<string, string> = { appData: options.appData, userData: join(options.appData, 'outpost') };
  const windows: FakeBrowserWindow[] = [];
  const displays = options.displays ?? [{ x: 0, y: 0, width: 1920, height: 1050 }];
  const quit = { count: 0 };

  const app = {
    isPackaged: options.isPackaged ?? false,
    requestSingleInstanceLock: () => {
      order.push('requestSingleInstanceLock');
      return options.singleInstance ?? true;
    },
    quit: () => void quit.count++,
    exit: () => void quit.count++,
    getPath: (name: string) => {
      if (!(name in paths)) {
        throw new Error(`unknown path ${name}`);
      }
      return paths[name];
    },
    setPath: (name: string, value: string) => {
      order.push(`setPath:${name}`);
      paths[name] = value;
    },
    enableSandbox: () => void order.push('enableSandbox'),
    on: (event: string, listener: (...args: unknown[]) => void) => appEvents.on(event, listener),
    whenReady: async () => {
      order.push('whenReady');
    },
    getVersion: () => '0.1.0',
    aboutPanel: undefined as unknown,
    setAboutPanelOptions: (panel: unknown) => void (app.aboutPanel = panel),
  };

  class FakeBrowserWindow extends EventEmitter {
    static getAllWindows(): FakeBrowserWindow[] {
      return windows.filter((w) => !w.destroyed);
    }
    readonly options: Record<string, unknown> & { webPreferences: Record<string, unknown> };
    readonly webContents = new FakeWebContents();
    bounds: Rect;
    maximized = false;
    destroyed = false;
    shown = false;
    focused = 0;
    constructor(windowOptions: FakeBrowserWindow['options']) {
      super();
      this.options = windowOptions;
      const { x, y, width, height } = windowOptions as unknown as Rect;
      this.bounds = { x, y, width, height };
      windows.push(this);
      appEvents.emit('web-contents-created', {}, this.webContents);
    }
    async loadURL(url: string): Promise<void> {
      this.webContents.url = url;
    }
    maximize(): void {
      this.maximized = true;
    }
    isMaximized(): boolean {
      return this.maximized;
    }
    getNormalBounds(): Rect {
      return { ...this.bounds };
    }
    show(): void {
      this.shown = true;
    }
    isDestroyed(): boolean {
      return this.destroyed;
    }
    isMinimized(): boolean {
      return false;
    }
    restore(): void {}
    focus(): void {
      this.focused++;
    }
    /** What a person closing the window does: 'close' then gone. */
    close(): void {
      this.emit('close', { preventDefault() {} });
      this.destroyed = true;
      this.webContents.destroyed = true;
    }
  }

  const ipcHandlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();
  const ipcMain = {
    handle: (channel: string, handler: (event: unknown, ...args: unknown[]) => unknown) => {
      if (ipcHandlers.has(channel)) {
        throw new Error(`Attempted to register a second handler for '${channel}'`);
      }
      ipcHandlers.set(channel, handler);
    },
    removeHandler: (channel: string) => void ipcHandlers.delete(channel),
    on: () => {
      throw new Error('main must not listen with ipcMain.on');
    },
  };

  const privilegedSchemes: { scheme: string; privileges: Record<string, boolean> }[] = [];
  const protocolHandlers = new Map<string, (request: Request) => Promise<Response>>();
  const protocol = {
    registerSchemesAsPrivileged: (schemes: typeof privilegedSchemes) => {
      order.push('registerSchemesAsPrivileged');
      privilegedSchemes.push(...schemes);
    },
    handle: (scheme: string, handler: (request: Request) => Promise<Response>) => void protocolHandlers.set(scheme, handler),
  };

  const sessionHandlers: {
    permissionRequest?: (wc: unknown, permission: string, callback: (granted: boolean) => void, details?: unknown) => void;
    permissionCheck?: (...args: unknown[]) => boolean;
    devicePermission?: (...args: unknown[]) => boolean;
    beforeRequest?: { filter: { urls: string[] }; handler: (details: { url: string }, callback: (response: { cancel?: boolean }) => void) => void };
  } = {};
  const session = {
    defaultSession: {
      setPermissionRequestHandler: (h: typeof sessionHandlers.permissionRequest) => void (sessionHandlers.permissionRequest = h),
      setPermissionCheckHandler: (h: typeof sessionHandlers.permissionCheck) => void (sessionHandlers.permissionCheck = h),
      setDevicePermissionHandler: (h: typeof sessionHandlers.devicePermission) => void (sessionHandlers.devicePermission = h),
      webRequest: {
        onBeforeRequest: (filter: { urls: string[] }, handler: NonNullable<typeof sessionHandlers.beforeRequest>['handler']) =>
          void (sessionHandlers.beforeRequest = { filter, handler }),
      },
    },
  };

  const screen = {
    getPrimaryDisplay: () => ({ id: 0, workArea: displays[0] }),
    getAllDisplays: () => displays.map((workArea, id) => ({ id, workArea })),
  };

  const powerMonitor = Object.assign(new EventEmitter(), { idle: 0, getSystemIdleTime: () => powerMonitor.idle });

  const menu = { template: undefined as unknown };
  const Menu = {
    buildFromTemplate: (template: unknown) => ({ template }),
    setApplicationMenu: (built: { template: unknown }) => void (menu.template = built.template),
  };

  const errorBoxes: string[][] = [];
  const messageBoxes: { window?: unknown; options: { type?: string; message: string; detail?: string } }[] = [];
  const dialog = {
    showErrorBox: (title: string, content: string) => void errorBoxes.push([title, content]),
    showMessageBox: async (...args: unknown[]) => {
      const [window, options] = args.length > 1 ? args : [undefined, args[0]];
      messageBoxes.push({ window, options: options as (typeof messageBoxes)[number]['options'] });
      return { response: 0, checkboxChecked: false };
    },
  };

  // utilityProcess.fork as a Node child process over Node's IPC channel (structured clone, as Electron's
  // port): the host process entry runs for real. A .ts entry runs through tsx.
  const forks: { modulePath: string; args: string[]; options: Record<string, unknown>; child: ChildProcess }[] = [];
  const utilityProcess = {
    fork(modulePath: string, args: string[] = [], options: Record<string, unknown> = {}) {
      const child = fork(modulePath, args, {
        execArgv: modulePath.endsWith('.ts') ? ['--import', 'tsx'] : [],
        serialization: 'advanced',
        env: { ...process.env, OUTPOST_HOST_PROCESS: '1' },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      forks.push({ modulePath, args, options, child });
      const events = new EventEmitter();
      child.on('message', (message) => events.emit('message', message));
      child.on('exit', (code) => events.emit('exit', code ?? -1));
      return {
        pid: child.pid,
        postMessage: (message: unknown) => void (child.connected && child.send(message as never)),
        on: (event: string, listener: (...args: unknown[]) => void) => events.on(event, listener),
        kill: () => child.kill(),
      };
    },
  };

  return {
    module: {
      app,
      BrowserWindow: FakeBrowserWindow,
      ipcMain,
      protocol,
      session,
      screen,
      powerMonitor,
      Menu,
      dialog,
      utilityProcess,
      safeStorage: options.safeStorage,
    },
    order,
    appEvents,
    windows,
    quit,
    ipcHandlers,
    privilegedSchemes,
    protocolHandlers,
    sessionHandlers,
    powerMonitor,
    menu,
    errorBoxes,
    messageBoxes,
    forks,
    paths,
  };
}
