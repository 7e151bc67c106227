// electron/main.ts under a fake 'electron' (main-harness.ts): the window's security options and
// state, single instance, the app protocol and its CSP, the deny-by-default guards, the menu.
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { FakeWebContents, type FakeElectron } from './fake-electron.ts';
import { APP_PAGE, useMainHarness } from './main-harness.ts';

vi.mock('electron', async () => (await import('./main-harness.ts')).fakeElectronModule);

describe('Electron main process: window, protocol, guards, menu', () => {
  const t = useMainHarness();

  describe('window', () => {
    it('creates one window with every security option, loading the app from its own protocol', async () => {
      const { env, main } = await t.start();
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
      const { env } = await t.start({ isPackaged: true });
      const [window] = env.windows;
      expect(window.options.webPreferences.devTools).toBe(false);
      window.webContents.emit('devtools-opened');
      expect(window.webContents.devToolsClosed).toBe(1);
    });

    it('does the before-ready work before ready: single-instance lock, privileged scheme, sandbox', async () => {
      const { env } = await t.start();
      const ready = env.order.indexOf('whenReady');
      for (const step of ['requestSingleInstanceLock', 'registerSchemesAsPrivileged', 'enableSandbox', 'setPath:userData']) {
        expect(env.order.indexOf(step), step).toBeGreaterThanOrEqual(0);
        expect(env.order.indexOf(step), step).toBeLessThan(ready);
      }
      expect(env.order.indexOf('setPath:userData')).toBeLessThan(env.order.indexOf('requestSingleInstanceLock'));
      expect(env.privilegedSchemes).toEqual([{ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) }]);
      expect(env.paths.userData).toBe(join(t.root, 'appData', 'Outpost'));
    });

    it('quits at once when another instance holds the lock, and a second launch focuses the first window', async () => {
      const { env, main } = await t.start({ singleInstance: false });
      expect(main).toBeNull();
      expect(env.quit.count).toBe(1);
      expect(env.windows).toHaveLength(0);
      expect(t.host.record.options).toHaveLength(0);

      const first = await t.start();
      first.env.appEvents.emit('second-instance');
      expect(first.env.windows[0].focused).toBe(1);
    });

    it('remembers its size and position, and ignores garbage state', async () => {
      const first = await t.start({ displays: [{ x: 0, y: 0, width: 2560, height: 1400 }] });
      const window = first.env.windows[0];
      window.bounds = { x: 300, y: 120, width: 1500, height: 1000 };
      window.close();
      await first.main!.shutdown();

      const second = await t.start({ displays: [{ x: 0, y: 0, width: 2560, height: 1400 }] });
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
      const third = await t.start({ displays: [{ x: 0, y: 0, width: 2560, height: 1400 }] });
      expect(third.env.windows[0].bounds).toEqual({ x: 640, y: 300, width: 1280, height: 800 });
    });
  });

  describe('app protocol', () => {
    async function fetchApp(env: FakeElectron, url: string, method = 'GET'): Promise<Response> {
      return env.protocolHandlers.get('app')!(new Request(url, { method }));
    }

    it('serves the built renderer with a strict CSP on every response', async () => {
      const { env } = await t.start();
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
      const { env } = await t.start();
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
      symlinkSync(join(t.root, 'dist', 'secret.txt'), join(t.rendererDir, 'assets', 'link.txt'));
      const linked = await fetchApp(env, 'app://outpost/assets/link.txt');
      expect(linked.status).toBe(404);
      expect(await linked.text()).not.toContain('outside the renderer');
      expect((await fetchApp(env, APP_PAGE, 'POST')).status).toBe(405);
    });
  });

  describe('web guards', () => {
    it('denies navigation away from the app, window.open and <webview>', async () => {
      const { env } = await t.start();
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
      const { env } = await t.start();
      const later = new FakeWebContents();
      env.appEvents.emit('web-contents-created', {}, later);
      expect(later.fireCancellable('will-navigate', 'https://evil.example/')).toBe(true);
      expect(later.windowOpenHandler?.({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    });

    it('refuses every permission request and check, and every request to the network', async () => {
      const { env } = await t.start();
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

  describe('menu', () => {
    it('has the usual roles and About with the version; no developer items when packaged', async () => {
      const { env } = await t.start();
      const flatten = (items: unknown): Record<string, unknown>[] =>
        (items as Record<string, unknown>[]).flatMap((item) => [item, ...(item.submenu ? flatten(item.submenu) : [])]);
      const roles = flatten(env.menu.template).map((item) => item.role);
      expect(roles).toEqual(expect.arrayContaining(['editMenu', 'windowMenu', 'about', 'resetZoom', 'zoomIn', 'zoomOut', 'togglefullscreen', 'toggleDevTools']));
      const about = flatten(env.menu.template).find((item) => item.role === 'about');
      expect(about?.label).toContain('0.1.0');
      expect(env.module.app.aboutPanel).toMatchObject({ applicationName: 'Outpost', applicationVersion: '0.1.0' });
      await env.windows[0].close();

      const packaged = await t.start({ isPackaged: true });
      const packagedRoles = flatten(packaged.env.menu.template).map((item) => item.role);
      expect(packagedRoles).not.toContain('toggleDevTools');
      expect(packagedRoles).not.toContain('reload');
    });
  });

});
