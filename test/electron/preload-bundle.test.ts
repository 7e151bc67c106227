// The preload as it will ship: bundled to one CommonJS file (sandboxed preloads cannot be ES modules
// and may require only 'electron'), then run in a bare VM context standing in for Electron's preload
// sandbox. It must need nothing but 'electron' and still expose exactly request and on.
import path from 'node:path';
import vm from 'node:vm';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { REQUEST_CHANNEL } from '../../shared/contract/bridge.ts';
import { repoRoot } from '../helpers/fixtures.ts';

async function bundlePreload(): Promise<string> {
  const result = await build({
    entryPoints: [path.join(repoRoot, 'electron', 'preload.ts')],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['electron'],
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

describe('preload bundle', () => {
  it("requires nothing but 'electron' and stays small (no zod, no host code)", async () => {
    const code = await bundlePreload();
    const required = new Set([...code.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]));
    expect([...required]).toEqual(['electron']);
    expect(code.length).toBeLessThan(16 * 1024);
    expect(code).not.toMatch(/better-sqlite3|node:fs|process\.env/);
  });

  it('runs in a sandbox-like context and exposes exactly window.outpost.request and .on', async () => {
    const code = await bundlePreload();
    const exposed = new Map<string, Record<string, unknown>>();
    const invoked: unknown[][] = [];
    const fakeElectron = {
      contextBridge: { exposeInMainWorld: (name: string, api: Record<string, unknown>) => exposed.set(name, api) },
      ipcRenderer: {
        invoke: async (...args: unknown[]) => {
          invoked.push(args);
          return { status: 200, headers: {} };
        },
        on: () => {},
        removeListener: () => {},
      },
    };
    const sandboxRequire = (name: string) => {
      if (name === 'electron') {
        return fakeElectron;
      }
      throw new Error(`module not found in the preload sandbox: ${name}`);
    };
    const module = { exports: {} };
    vm.runInNewContext(code, { require: sandboxRequire, module, exports: module.exports });
    expect([...exposed.keys()]).toEqual(['outpost']);
    const api = exposed.get('outpost')!;
    expect(Object.keys(api).sort()).toEqual(['on', 'request']);
    await (api.request as (e: unknown) => Promise<unknown>)({ method: 'GET', path: '/fhir/R4/metadata', headers: {} });
    expect(invoked).toEqual([[REQUEST_CHANNEL, { method: 'GET', path: '/fhir/R4/metadata', headers: {} }]]);
  });
});
