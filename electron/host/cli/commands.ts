// The commands of `outpost`: each opens the data folder, does its work and returns an exit code.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setupNeeded } from '../admin/index.ts';
import { installCrashGuard } from '../crash-guard.ts';
import { createHost, openDataHost, openSyncHost, type DataHost, type Host, type HostOptions, type SyncHost } from '../host.ts';
import { startHttpServer } from '../http.ts';
import { ensureDataDir, readOrCreateDatabaseKey } from '../paths.ts';
import { exportAs } from '../access/index.ts';
import { DEFAULT_PROJECT_ID } from '../db/project.ts';
import { describeImport } from '../transfer/import.ts';
import { createProgressBar } from './progress.ts';

export interface CliIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM): ends `serve`. Called only by serve. */
  waitForStop: () => Promise<void>;
}

/** How the command line opens a data folder: its key lives in outpost.key (mode 0600); what the host has to say goes to stderr. */
function folderOptions(dataDir: string, io: Pick<CliIo, 'stderr'>): { dataDir: string; key: string; log: (message: string) => void } {
  ensureDataDir(dataDir);
  return { dataDir, key: readOrCreateDatabaseKey(dataDir), log: (message) => io.stderr.write(`${message}\n`) };
}

/** The whole host of a data folder (browser mode): every part and the door. */
export function openHost(dataDir: string, io: Pick<CliIo, 'stderr'>, extra: Partial<HostOptions> = {}): Host {
  return createHost({
    ...extra,
    ...folderOptions(dataDir, io),
    onUnexpectedError: (err) => io.stderr.write(`outpost: internal error: ${(err as Error)?.stack ?? String(err)}\n`),
  });
}

/** The data folder with accounts and the importer, no sync and no routes: import, export, seed, review, unlock. */
export function openData(dataDir: string, io: Pick<CliIo, 'stderr'>): DataHost {
  return openDataHost(folderOptions(dataDir, io));
}

/** The data folder and sync: `outpost sync`. */
export function openSync(dataDir: string, io: Pick<CliIo, 'stderr'>): SyncHost {
  return openSyncHost(folderOptions(dataDir, io));
}

/**
 * The built renderer (`npm run build`) that browser mode serves beside the API: $OUTPOST_RENDERER_DIR
 * when set, else dist/renderer of the package this code runs from (the sources run by tsx, or
 * dist/host/cli.js).
 */
export function builtRendererDir(from: string = fileURLToPath(import.meta.url), env: NodeJS.ProcessEnv = process.env): string {
  if (env.OUTPOST_RENDERER_DIR) {
    return resolve(env.OUTPOST_RENDERER_DIR);
  }
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) {
      return join(dir, 'dist', 'renderer');
    }
    if (dir === dirname(dir)) {
      return join(dirname(from), 'renderer');
    }
  }
}

/**
 * `outpost serve`; `extra` host options are for tests that plant faults behind the same server.
 * `backgroundSync: false` (`--manual-sync`) syncs only when asked (Sync now, `outpost sync`).
 */
export async function serveCommand(dataDir: string, port: number, io: CliIo, extra: Partial<HostOptions> = {}, { backgroundSync = true } = {}): Promise<number> {
  // Nothing a request causes, and nothing that fails in the background (audit, sync), ends the server.
  const guard = installCrashGuard({ log: (message) => io.stderr.write(`${message}\n`) });
  // Browser mode syncs in the background like the app (when a remote is configured), unless told not to.
  const host = openHost(dataDir, io, { sync: { background: backgroundSync }, ...extra });
  try {
    const rendererDir = builtRendererDir();
    // The host authenticates every API request itself (Medplum's login flow, sessions): the adapter's
    // own start-up token, which stood in for login before it existed, is no longer asked for.
    const server = await startHttpServer(host, { port, hostname: '127.0.0.1', rendererDir, requireToken: false, guard });
    io.stdout.write(
      `Outpost is serving ${server.url}/fhir/R4/\n` +
        (existsSync(join(rendererDir, 'index.html')) ? `Open ${server.url}/ in a browser for the app\n` : '') +
        `Data folder: ${dataDir}\n` +
        (setupNeeded(host.auth.directory) ? `First run: open the app to set up the first project and its admin (POST /outpost/setup)\n` : '') +
        `API requests need a session: sign in with POST /auth/login (Medplum's flow; MedplumClient works)\n`
    );
    await io.waitForStop();
    await server.close();
    return 0;
  } finally {
    host.close();
    guard.uninstall();
  }
}

export async function importCommand(dataDir: string, paths: string[], io: CliIo, options: { force?: boolean } = {}): Promise<number> {
  const host = openData(dataDir, io);
  try {
    const bar = io.stderr.isTTY ? createProgressBar(io.stderr) : undefined;
    // A direct command acts as the host's system context: through the enforcement point, audited as system.
    const summary = await host.importer.importFiles(host.access.system(DEFAULT_PROJECT_ID, { name: 'outpost import (CLI)' }), paths, { onProgress: bar?.update, force: options.force });
    bar?.done();
    for (const failure of summary.failures.slice(0, 20)) {
      io.stderr.write(`outpost: ${failure.file}: ${failure.message}\n`);
    }
    io.stdout.write(`${describeImport(summary)}\n`);
    return summary.failures.length ? 1 : 0;
  } finally {
    host.close();
  }
}

export function exportCommand(dataDir: string, folder: string, io: CliIo): number {
  const host = openData(dataDir, io);
  try {
    const summary = exportAs(host.access.system(DEFAULT_PROJECT_ID, { name: 'outpost export (CLI)' }), DEFAULT_PROJECT_ID, folder);
    for (const [type, count] of Object.entries(summary.counts)) {
      io.stdout.write(`${join(folder, `${type}.ndjson`)}\t${count}\n`);
    }
    io.stdout.write(`Exported ${summary.resources} resources of ${Object.keys(summary.counts).length} types in ${summary.seconds.toFixed(1)} s\n`);
    return 0;
  } finally {
    host.close();
  }
}
