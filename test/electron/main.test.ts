// electron/main.ts under a fake 'electron' (see fake-electron.ts) with a fake host: the window's
// security options, the app protocol and its CSP, the deny-by-default guards, the IPC door, events,
// auto-lock, menu, window state, the keychain key and the plain-database migration at start-up.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EVENT_CHANNEL, REQUEST_CHANNEL } from '../../shared/contract/bridge.ts';
import { MAX_BODY_BYTES, type HostRequest, type HostResponse } from '../../shared/contract/host.ts';
import type { HostFactory, ShellHostOptions } from '../../electron/shell/host-types.ts';
import { FakeWebContents, createFakeElectron, type FakeElectron } from './fake-electron.ts';
import { createFakeSafeStorage, type FakeSafeStorage } from './fake-safe-storage.ts';

const h = vi.hoisted(() => ({ env: undefined as unknown as FakeElectron }));

vi.mock('electron', () => ({
  get app() {
    return h.env.module.app;
  },
  get BrowserWindow() {
    return h.env.module.BrowserWindow;
  },
  get ipcMain() {
    return h.env.module.ipcMain;
  },
  get protocol() {
    return h.env.module.protocol;
  },
  get session() {
    return h.env.module.session;
  },
  get screen() {
    return h.env.module.screen;
  },
  get powerMonitor() {
    return h.env.module.powerMonitor;
  },
  get Menu() {
    return h.env.module.Menu;
  },
  get dialog() {
    return h.env.module.dialog;
  },
  get safeStorage() {
    return h.env.module.safeStorage;
  },
}));

const { startMainProcess, PRODUCT_NAME } = await import('../../electron/main.ts');

const APP_PAGE = 'app://outpost/index.html';
const OK_BODY = { resourceType: 'Bundle', type: 'searchset', total: 0 };

function createFakeHost() {
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

describe('Electron main process', () => {
  let root: string;
  let rendererDir: string;
  let safeStorage: FakeSafeStorage;
  let host: ReturnType<typeof createFakeHost>;
  const running: { shutdown(): Promise<void> }[] = [];

  function useElectron(overrides: Partial<Parameters<typeof createFakeElectron>[0]> = {}): FakeElectron {
    h.env = createFakeElectron({ appData: join(root, 'appData'), safeStorage, ...overrides });
    return h.env;
  }

  async function start(overrides: Partial<Parameters<typeof createFakeElectron>[0]> = {}, fakeHost = host) {
    const env = useElectron(overrides);
    const main = await startMainProcess({ createHost: fakeHost.factory, rendererDir, preloadPath: '/built/electron/preload.cjs', idleLockSeconds: 0, log: () => {} });
    if (main) {
      running.push(main);
    }
    return { env, main };
  }

  async function invoke(env: FakeElectron, senderUrl: string | null, envelope: unknown): Promise<HostResponse> {
    const handler = env.ipcHandlers.get(REQUEST_CHANNEL)!;
    const senderFrame = senderUrl === null ? null : { url: senderUrl };
    return (await handler({ senderFrame, sender: {} }, envelope)) as HostResponse;
  }

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'outpost-main-'));
    rendererDir = join(root, 'dist', 'renderer');
    mkdirSync(join(rendererDir, 'assets'), { recursive: true });
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><script type="module" src="/assets/app.js"></script>');
    writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log("outpost")');
    writeFileSync(join(root, 'dist', 'secret.txt'), 'outside the renderer');
    safeStorage = createFakeSafeStorage();
    host = createFakeHost();
  });

  afterEach(async () => {
    for (const main of running.splice(0)) {
      await main.shutdown();
    }
    rmSync(root, { recursive: true, force: true });
  });

  describe('window', () => {
    it('creates one window with every security option, loading the app from its own protocol', async () => {
      const { env, main } = await start();
      expect(env.windows).toHaveLength(1);
      const [window] = env.windows;
      expect(main!.window).toBe(window);
      expect(window.options.webPreferences).toMatchObject({
        preload: '/built/electron/preload.cjs',
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        webviewTag: false,
        experimentalFeatures: false,
        devTools: true,
      });
      expect(window.options.webPreferences).not.toHaveProperty('enableRemoteModule');
      expect(window.webContents.getURL()).toBe(APP_PAGE);
      expect(window.options.show).toBe(false);
      window.emit('ready-to-show');
      expect(window.shown).toBe(true);
    });

    it('has no developer tools in a packaged build', async () => {
      const { env } = await start({ isPackaged: true });
      const [window] = env.windows;
      expect(window.options.webPreferences.devTools).toBe(false);
      window.webContents.emit('devtools-opened');
      expect(window.webContents.devToolsClosed).toBe(1);
    });

    it('does the before-ready work before ready: single-instance lock, privileged scheme, sandbox', async () => {
      const { env } = await start();
      const ready = env.order.indexOf('whenReady');
      for (const step of ['requestSingleInstanceLock', 'registerSchemesAsPrivileged', 'enableSandbox', 'setPath:userData']) {
        expect(env.order.indexOf(step), step).toBeGreaterThanOrEqual(0);
        expect(env.order.indexOf(step), step).toBeLessThan(ready);
      }
      expect(env.order.indexOf('setPath:userData')).toBeLessThan(env.order.indexOf('requestSingleInstanceLock'));
      expect(env.privilegedSchemes).toEqual([{ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) }]);
      expect(env.paths.userData).toBe(join(root, 'appData', PRODUCT_NAME));
    });

    it('quits at once when another instance holds the lock, and a second launch focuses the first window', async () => {
      const { env, main } = await start({ singleInstance: false });
      expect(main).toBeNull();
      expect(env.quit.count).toBe(1);
      expect(env.windows).toHaveLength(0);
      expect(host.record.options).toHaveLength(0);

      const first = await start();
      first.env.appEvents.emit('second-instance');
      expect(first.env.windows[0].focused).toBe(1);
    });

    it('remembers its size and position, and ignores garbage state', async () => {
      const first = await start({ displays: [{ x: 0, y: 0, width: 2560, height: 1400 }] });
      const window = first.env.windows[0];
      window.bounds = { x: 300, y: 120, width: 1500, height: 1000 };
      window.close();
      await first.main!.shutdown();

      const second = await start({ displays: [{ x: 0, y: 0, width: 2560, height: 1400 }] });
      expect(second.env.windows[0].bounds).toEqual({ x: 300, y: 120, width: 1500, height: 1000 });
      await second.main!.shutdown();

      // Moving the window saves its place shortly after, without waiting for it to close.
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      try {
        second.env.windows[0].bounds = { x: 10, y: 20, width: 900, height: 700 };
        second.env.windows[0].emit('move');
        second.env.windows[0].emit('resize');
        vi.advanceTimersByTime(1_000);
      } finally {
        vi.useRealTimers();
      }
      expect(JSON.parse(readFileSync(join(second.env.paths.userData, 'window-state.json'), 'utf8'))).toEqual({
        bounds: { x: 10, y: 20, width: 900, height: 700 },
        maximized: false,
      });

      writeFileSync(join(second.env.paths.userData, 'window-state.json'), '{"bounds":{"x":"<script>","y":1e99}}');
      const third = await start({ displays: [{ x: 0, y: 0, width: 2560, height: 1400 }] });
      expect(third.env.windows[0].bounds).toEqual({ x: 640, y: 300, width: 1280, height: 800 });
    });
  });

  describe('app protocol', () => {
    async function fetchApp(env: FakeElectron, url: string, method = 'GET'): Promise<Response> {
      return env.protocolHandlers.get('app')!(new Request(url, { method }));
    }

    it('serves the built renderer with a strict CSP on every response', async () => {
      const { env } = await start();
      for (const url of [APP_PAGE, 'app://outpost/', 'app://outpost/assets/app.js', 'app://outpost/missing.js', 'app://outpost/patients/123']) {
        const response = await fetchApp(env, url);
        const csp = response.headers.get('content-security-policy') ?? '';
        expect(csp, url).toContain("default-src 'none'");
        expect(csp, url).toContain("script-src 'self'");
        expect(csp, url).toContain("object-src 'none'");
        expect(csp, url).toContain("frame-ancestors 'none'");
        expect(csp, url).not.toMatch(/unsafe-eval|unsafe-inline|https?:|\*/);
        expect(response.headers.get('x-content-type-options'), url).toBe('nosniff');
      }
      const page = await fetchApp(env, APP_PAGE);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await page.text()).toContain('/assets/app.js');
      const script = await fetchApp(env, 'app://outpost/assets/app.js');
      expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
      // A client-side route (no extension) falls back to the page; a missing file does not.
      expect(await (await fetchApp(env, 'app://outpost/patients/123')).text()).toContain('<!doctype html>');
      expect((await fetchApp(env, 'app://outpost/missing.js')).status).toBe(404);
    });

    it('refuses to leave the renderer folder and to serve other hosts or methods', async () => {
      const { env } = await start();
      for (const url of [
        'app://outpost/../secret.txt',
        'app://outpost/%2e%2e/secret.txt',
        'app://outpost/%2e%2e%2fsecret.txt',
        'app://outpost/assets/..%2f..%2fsecret.txt',
        'app://outpost/..%5csecret.txt',
        'app://outpost/index.html%00.js',
        'app://evil/index.html',
      ]) {
        const response = await fetchApp(env, url);
        const text = await response.text();
        expect(text, url).not.toContain('outside the renderer');
        expect([200, 404], url).toContain(response.status);
        if (response.status === 200) {
          expect(text, url).toContain('<!doctype html>'); // normalised back inside: the page, never the secret
        }
      }
      expect((await fetchApp(env, 'app://evil/index.html')).status).toBe(404);
      // A symlink inside the renderer folder that leads out of it is not followed.
      symlinkSync(join(root, 'dist', 'secret.txt'), join(rendererDir, 'assets', 'link.txt'));
      const linked = await fetchApp(env, 'app://outpost/assets/link.txt');
      expect(linked.status).toBe(404);
      expect(await linked.text()).not.toContain('outside the renderer');
      expect((await fetchApp(env, APP_PAGE, 'POST')).status).toBe(405);
    });
  });

  describe('web guards', () => {
    it('denies navigation away from the app, window.open and <webview>', async () => {
      const { env } = await start();
      const contents: FakeWebContents = env.windows[0].webContents;
      expect(contents.fireCancellable('will-navigate', 'https://evil.example/')).toBe(true);
      expect(contents.fireCancellable('will-navigate', 'file:///etc/passwd')).toBe(true);
      expect(contents.fireCancellable('will-navigate', 'app://other/index.html')).toBe(true);
      expect(contents.fireCancellable('will-redirect', 'http://127.0.0.1:8080/')).toBe(true);
      expect(contents.fireCancellable('will-navigate', 'app://outpost/index.html')).toBe(false);
      expect(contents.fireCancellable('will-attach-webview')).toBe(true);
      expect(contents.windowOpenHandler?.({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
      expect(contents.windowOpenHandler?.({ url: APP_PAGE })).toEqual({ action: 'deny' });
    });

    it('guards every web contents created later too', async () => {
      const { env } = await start();
      const later = new FakeWebContents();
      env.appEvents.emit('web-contents-created', {}, later);
      expect(later.fireCancellable('will-navigate', 'https://evil.example/')).toBe(true);
      expect(later.windowOpenHandler?.({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    });

    it('refuses every permission request and check, and every request to the network', async () => {
      const { env } = await start();
      const { permissionRequest, permissionCheck, devicePermission, beforeRequest } = env.sessionHandlers;
      for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fullscreen']) {
        const granted: boolean[] = [];
        permissionRequest!({}, permission, (answer) => granted.push(answer));
        expect(granted, permission).toEqual([false]);
        expect(permissionCheck!({}, permission, APP_PAGE, {}), permission).toBe(false);
      }
      expect(devicePermission!({ deviceType: 'usb', origin: APP_PAGE })).toBe(false);
      expect(beforeRequest!.filter.urls).toEqual(expect.arrayContaining(['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*', 'file://*/*']));
      const answers: { cancel?: boolean }[] = [];
      beforeRequest!.handler({ url: 'https://tracker.example/' }, (answer) => answers.push(answer));
      expect(answers).toEqual([{ cancel: true }]);
    });
  });

  describe('IPC', () => {
    it('registers exactly one request channel', async () => {
      const { env } = await start();
      expect([...env.ipcHandlers.keys()]).toEqual([REQUEST_CHANNEL]);
    });

    it('passes a valid request from the app to host.handle and brings its reply back', async () => {
      const { env } = await start();
      const envelope = { method: 'GET', path: '/fhir/R4/Patient?name=smith', headers: { accept: 'application/fhir+json' } };
      const reply = await invoke(env, APP_PAGE, envelope);
      expect(host.record.handled).toEqual([envelope]);
      expect(reply).toEqual({ status: 200, headers: { 'content-type': 'application/fhir+json' }, body: OK_BODY });
      expect(structuredClone(reply)).toEqual(reply);

      const post = { method: 'POST', path: '/fhir/R4/Patient', headers: { 'content-type': 'application/fhir+json' }, body: '{"resourceType":"Patient"}' };
      await invoke(env, 'app://outpost/patients/new', post);
      expect(host.record.handled[1]).toEqual(post);

      // Header names reach the host lower-cased, as the host contract says.
      await invoke(env, APP_PAGE, { method: 'GET', path: '/fhir/R4/Patient', headers: { Authorization: 'Bearer t', 'If-None-Match': 'W/"1"' } });
      expect(host.record.handled[2].headers).toEqual({ authorization: 'Bearer t', 'if-none-match': 'W/"1"' });
      await invoke(env, APP_PAGE, { method: 'GET', path: '/fhir/R4/metadata' });
      expect(host.record.handled[3]).toEqual({ method: 'GET', path: '/fhir/R4/metadata', headers: {} });
    });

    it('refuses requests from any other origin without reaching the host', async () => {
      const { env } = await start();
      const envelope = { method: 'GET', path: '/fhir/R4/Patient', headers: {} };
      for (const sender of ['https://evil.example/', 'http://127.0.0.1:8103/', 'file:///tmp/x.html', 'app://evil/index.html', 'app://user:pw@outpost/', 'about:blank', '', null]) {
        const reply = await invoke(env, sender, envelope);
        expect(reply.status, String(sender)).toBe(403);
        expect(reply.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'forbidden' }] });
      }
      expect(host.record.handled).toEqual([]);
    });

    it('refuses envelopes that fail validation without reaching the host', async () => {
      const { env } = await start();
      const invalid: unknown[] = [
        undefined,
        null,
        'GET /fhir/R4/Patient',
        [],
        {},
        { method: 'TRACE', path: '/fhir/R4/Patient', headers: {} },
        { method: 'get', path: '/fhir/R4/Patient', headers: {} },
        { method: 'GET', path: 'fhir/R4/Patient', headers: {} },
        { method: 'GET', path: '', headers: {} },
        { method: 'GET', path: '/' + 'a'.repeat(17 * 1024), headers: {} },
        { method: 'GET', path: '/fhir/R4/Patient', headers: { 'x-bad\r\ninjected': 'x' } },
        { method: 'GET', path: '/fhir/R4/Patient', headers: { 'x-bad': 42 } },
        { method: 'GET', path: '/fhir/R4/Patient', headers: { 'bad header': 'x' } },
        { method: 'GET', path: '/fhir/R4/Patient', headers: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`x-${i}`, 'v'])) },
        { method: 'GET', path: '/fhir/R4/Patient', headers: { 'x-big': 'v'.repeat(17 * 1024) } },
        { method: 'POST', path: '/fhir/R4/Patient', headers: {}, body: { resourceType: 'Patient' } },
        { method: 'GET', path: '/fhir/R4/Patient', headers: {}, __proto__: { polluted: true }, extra: 'field' },
      ];
      for (const envelope of invalid) {
        const reply = await invoke(env, APP_PAGE, envelope);
        expect(reply.status, JSON.stringify(envelope)).toBe(400);
        expect(reply.headers['content-type']).toContain('fhir+json');
        expect(reply.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid' }] });
      }
      expect(host.record.handled).toEqual([]);
    });

    it('refuses a body over the size limit without reaching the host', async () => {
      const { env } = await start();
      const body = 'x'.repeat(MAX_BODY_BYTES + 1);
      const reply = await invoke(env, APP_PAGE, { method: 'POST', path: '/fhir/R4/Binary', headers: {}, body });
      expect(reply.status).toBe(413);
      expect(reply.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'too-costly' }] });
      // Multi-byte characters count as the bytes they take, not as string length.
      const wide = 'é'.repeat(MAX_BODY_BYTES / 2 + 1);
      expect((await invoke(env, APP_PAGE, { method: 'POST', path: '/fhir/R4/Binary', headers: {}, body: wide })).status).toBe(413);
      expect(host.record.handled).toEqual([]);
    });

    it('answers a host failure with a 500 OperationOutcome that leaks nothing', async () => {
      host.record.reply = async () => {
        throw new Error('SQLITE_CORRUPT at /home/someone/secret/path.db');
      };
      const { env } = await start();
      const reply = await invoke(env, APP_PAGE, { method: 'GET', path: '/fhir/R4/Patient', headers: {} });
      expect(reply.status).toBe(500);
      expect(JSON.stringify(reply)).not.toContain('secret');
      expect(reply.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'exception' }] });
    });

    it('sends host events to the window on the event channel', async () => {
      const { env } = await start();
      const emit = host.record.options[0].emit!;
      emit('sync-progress', { phase: 'pull', done: 5, total: 20 });
      emit('role-change', { membershipId: 'm-2' });
      expect(env.windows[0].webContents.sent).toEqual([
        [EVENT_CHANNEL, { event: 'sync-progress', payload: { phase: 'pull', done: 5, total: 20 } }],
        [EVENT_CHANNEL, { event: 'role-change', payload: { membershipId: 'm-2' } }],
      ]);
      env.windows[0].close();
      emit('lock', { reason: 'manual' }); // no window left: nothing to send to, nothing thrown
    });
  });

  describe('with the real host', () => {
    it('answers FHIR requests over IPC from an encrypted database in userData', async () => {
      const env = useElectron();
      const main = await startMainProcess({ rendererDir, preloadPath: '/built/electron/preload.cjs', idleLockSeconds: 0, log: () => {} });
      running.push(main!);
      const metadata = await invoke(env, APP_PAGE, { method: 'GET', path: '/fhir/R4/metadata', headers: {} });
      expect(metadata.status).toBe(200);
      expect(metadata.body).toMatchObject({ resourceType: 'CapabilityStatement' });
      const created = await invoke(env, APP_PAGE, {
        method: 'POST',
        path: '/fhir/R4/Patient',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Canarysson' }] }),
      });
      expect(created.status).toBe(201);
      const found = await invoke(env, APP_PAGE, { method: 'GET', path: '/fhir/R4/Patient?family=Canarysson', headers: {} });
      expect(found.body).toMatchObject({ resourceType: 'Bundle', entry: [{ resource: { name: [{ family: 'Canarysson' }] } }] });
      const bad = await invoke(env, APP_PAGE, { method: 'POST', path: '/fhir/R4/Patient', headers: {}, body: '{not json' });
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ resourceType: 'OperationOutcome' });
      await main!.shutdown();
      const bytes = readFileSync(join(env.paths.userData, 'outpost.db'));
      expect(bytes.subarray(0, 15).toString('latin1')).not.toBe('SQLite format 3');
      expect(bytes.includes('Canarysson')).toBe(false);
    });
  });

  describe('auto-lock', () => {
    it('locks every session and tells the renderer on screen lock and suspend', async () => {
      const { env } = await start();
      env.powerMonitor.emit('lock-screen');
      env.powerMonitor.emit('suspend');
      await new Promise((resolve) => setImmediate(resolve));
      expect(host.record.locked).toBe(2);
      expect(env.windows[0].webContents.sent).toEqual([
        [EVENT_CHANNEL, { event: 'lock', payload: { reason: 'lock-screen' } }],
        [EVENT_CHANNEL, { event: 'lock', payload: { reason: 'suspend' } }],
      ]);
    });

    it('stops listening when the app quits, and closes the host', async () => {
      const { env } = await start();
      env.appEvents.emit('will-quit');
      await new Promise((resolve) => setImmediate(resolve));
      expect(host.record.closed).toBe(1);
      expect(env.ipcHandlers.size).toBe(0);
      env.powerMonitor.emit('lock-screen');
      await new Promise((resolve) => setImmediate(resolve));
      expect(host.record.locked).toBe(0);
    });
  });

  describe('menu', () => {
    it('has the usual roles and About with the version; no developer items when packaged', async () => {
      const { env } = await start();
      const flatten = (items: unknown): Record<string, unknown>[] =>
        (items as Record<string, unknown>[]).flatMap((item) => [item, ...(item.submenu ? flatten(item.submenu) : [])]);
      const roles = flatten(env.menu.template).map((item) => item.role);
      expect(roles).toEqual(expect.arrayContaining(['editMenu', 'windowMenu', 'about', 'resetZoom', 'zoomIn', 'zoomOut', 'togglefullscreen', 'toggleDevTools']));
      const about = flatten(env.menu.template).find((item) => item.role === 'about');
      expect(about?.label).toContain('0.1.0');
      expect(env.module.app.aboutPanel).toMatchObject({ applicationName: 'Outpost', applicationVersion: '0.1.0' });
      await env.windows[0].close();

      const packaged = await start({ isPackaged: true });
      const packagedRoles = flatten(packaged.env.menu.template).map((item) => item.role);
      expect(packagedRoles).not.toContain('toggleDevTools');
      expect(packagedRoles).not.toContain('reload');
    });
  });

  describe('database key and encryption at rest', () => {
    it('creates the key once in the OS keychain and gives the same key to the host on every start', async () => {
      const first = await start();
      await first.main!.shutdown();
      const second = await start();
      expect(host.record.options.map((o) => o.dataDir)).toEqual([second.env.paths.userData, second.env.paths.userData]);
      const [a, b] = host.record.options.map((o) => o.key);
      expect(a).toMatch(/^[0-9a-f]{64}$/);
      expect(b).toBe(a);
      expect(safeStorage.encryptCalls).toBe(1);
      expect(existsSync(join(second.env.paths.userData, 'outpost.key.sealed'))).toBe(true);
      expect(existsSync(join(second.env.paths.userData, 'outpost.key'))).toBe(false);
    });

    it('refuses to start, opening nothing, when the keychain cannot unseal the key (a copied data folder)', async () => {
      const first = await start();
      await first.main!.shutdown();
      safeStorage = createFakeSafeStorage(); // another user's or machine's keychain
      await expect(start()).rejects.toThrow(/could not unlock the database key/);
      expect(host.record.options).toHaveLength(1);
      expect(h.env.windows).toHaveLength(0);
      expect(h.env.ipcHandlers.size).toBe(0);
    });

    it('encrypts a plain database from an earlier version before the host opens it', async () => {
      const userData = join(root, 'appData', PRODUCT_NAME);
      mkdirSync(userData, { recursive: true });
      const plain = new Database(join(userData, 'outpost.db'));
      plain.exec("CREATE TABLE notes(text); INSERT INTO notes VALUES ('canary-note-1'), ('canary-note-2')");
      plain.close();

      await start();
      const bytes = readFileSync(join(userData, 'outpost.db'));
      expect(bytes.subarray(0, 15).toString('latin1')).not.toBe('SQLite format 3');
      expect(bytes.includes('canary-note')).toBe(false);
      const key = host.record.options[0].key!;
      const reopened = new Database(join(userData, 'outpost.db'));
      reopened.pragma(`cipher = 'sqlcipher'`);
      reopened.pragma('legacy = 4');
      reopened.pragma(`hexkey = '${Buffer.from(key, 'utf8').toString('hex')}'`);
      expect(reopened.prepare('SELECT text FROM notes ORDER BY text').pluck().all()).toEqual(['canary-note-1', 'canary-note-2']);
      reopened.close();
    });
  });
});
