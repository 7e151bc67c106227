#!/usr/bin/env node
// `npm start` / `npm run start:web`: the desktop app when Electron can run here, browser mode otherwise.
//   node bin/launch.mjs [--web] [--data <dir>] [--port <n>] [--demo]
// Electron needs its binary (node_modules/electron fetches it at install time, which some machines
// cannot) and, on Linux, a display. Without either this says why in one line and starts browser mode:
// `outpost serve` (host + loopback HTTP on 127.0.0.1 serving the built renderer), which prints its URL.
// Whatever is stale in dist/ is rebuilt first (build/build.mjs --if-stale).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = 'Usage: npm start [-- --web] [--data <dir>] [--port <n>] [--demo]\n';

/**
 * Where Electron's binary would be: `require('electron')` from the repository resolves to its path,
 * or throws when the package or its download is missing. Undefined unless that file exists.
 */
export function findElectronBinary({ requireFrom = createRequire(path.join(REPO_ROOT, 'package.json')), exists = existsSync } = {}) {
  try {
    const binary = requireFrom('electron');
    return typeof binary === 'string' && exists(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a window can be shown: always on macOS and Windows, elsewhere only with an X or Wayland display. */
export function hasDisplay(platform, env) {
  return platform === 'darwin' || platform === 'win32' || Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

/**
 * The launch decision, pure: `{ mode: 'electron', binary }` or `{ mode: 'browser', reason }` where
 * reason is the one line to show (undefined when browser mode was asked for).
 */
export function decideLaunch({ forceWeb = false, electronBinary, platform, env }) {
  if (forceWeb) {
    return { mode: 'browser', reason: undefined };
  }
  if (!electronBinary) {
    return { mode: 'browser', reason: "Electron's binary is not installed (node_modules/electron has none), so Outpost starts in browser mode." };
  }
  if (!hasDisplay(platform, env)) {
    return { mode: 'browser', reason: 'No display (neither DISPLAY nor WAYLAND_DISPLAY is set), so Outpost starts in browser mode.' };
  }
  return { mode: 'electron', binary: electronBinary };
}

/** Arguments for `outpost serve` from the launcher's own options. */
export function serveArgs({ data, port, demo }) {
  return ['serve', ...(data ? ['--data', data] : []), ...(port !== undefined ? ['--port', port] : []), ...(demo ? ['--demo'] : [])];
}

function parse(argv) {
  return parseArgs({
    args: argv,
    strict: true,
    options: {
      web: { type: 'boolean' },
      data: { type: 'string' },
      port: { type: 'string' },
      demo: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
}

/**
 * Runs Electron to its end; resolves to its exit code. Ctrl+C reaches it directly (same process group),
 * so this process only keeps itself alive for it; a SIGTERM sent to this process alone is passed on.
 */
function runToEnd(child) {
  const ignore = () => {};
  const forward = () => child.kill('SIGTERM');
  process.on('SIGINT', ignore);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.once('error', (err) => {
      process.stderr.write(`outpost: ${err.message}\n`);
      resolve(1);
    });
    child.once('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

/** Rebuilds the parts of dist/ whose sources changed (or that were never built), saying so. */
async function buildStale(parts) {
  const { build, staleParts } = await import('../build/build.mjs');
  const stale = staleParts(parts);
  if (stale.length > 0) {
    process.stderr.write(`outpost: building ${stale.join(', ')} (dist/ is missing or older than the sources)\n`);
    await build({ parts: stale, log: (line) => process.stderr.write(`  ${line}\n`) });
  }
}

async function startElectron(binary, options) {
  await buildStale(['main', 'preload', 'renderer']);
  if (options.port !== undefined || options.demo) {
    process.stderr.write('outpost: --port and --demo apply to browser mode only (npm run start:web); the desktop app ignores them.\n');
  }
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE;
  if (options.data) {
    env.OUTPOST_DATA_DIR = path.resolve(options.data);
  }
  return runToEnd(spawn(binary, [path.join(REPO_ROOT, 'dist', 'electron', 'main.js')], { cwd: REPO_ROOT, env, stdio: 'inherit' }));
}

/** Browser mode in this process: `outpost serve` from the sources, as bin/outpost.mjs runs it. */
async function startBrowserMode(options) {
  await buildStale(['renderer']);
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../electron/host/cli/main.ts');
  return main(serveArgs(options));
}

export async function launch(argv) {
  let options;
  try {
    options = parse(argv);
  } catch (err) {
    process.stderr.write(`outpost: ${err.message}\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const decision = decideLaunch({
    forceWeb: options.web ?? false,
    electronBinary: options.web ? undefined : findElectronBinary(),
    platform: process.platform,
    env: process.env,
  });
  if (decision.reason) {
    process.stderr.write(`outpost: ${decision.reason}\n`);
  }
  return decision.mode === 'electron' ? startElectron(decision.binary, options) : startBrowserMode(options);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = await launch(process.argv.slice(2));
}
