// An import can be re-run. `outpost import` of Synthea fixtures is killed with SIGKILL 10 times at
// random points (each run is killed a random moment after it committed a Bundle of its own, so every
// kill lands inside the import, often inside a transaction), then run to its end: the export equals a
// clean import's, resource for resource (up to the ids the server assigned). Importing again is a
// no-op that says so (--force is tested in test/host/import-rerun.test.ts).
//
// Bounded for npm test: a seeded subset of 24 of the 46 fixture files (about 6,000 resources); the
// clean import and the exports run in-process (the same importer and exporter the commands call), the
// killed runs and the re-runs as the command. Set OUTPOST_IMPORT_KILL_FILES=all to run it on every
// fixture (by hand: about three times as long).
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportAs } from '../../electron/host/access/index.ts';
import { createHost, type Host } from '../../electron/host/host.ts';
import { readOrCreateDatabaseKey, databasePath } from '../../electron/host/paths.ts';
import { DEFAULT_PROJECT_ID } from '../../electron/host/db/project.ts';
import { openDatabase } from '../../electron/host/db/open.ts';
import { canonicalExport, exportDifference } from '../helpers/export-canon.ts';
import { tempDir } from '../host/helpers.ts';
import { repoRoot, syntheaFiles } from '../store/helpers.ts';

const SEED = Number(process.env.OUTPOST_IMPORT_KILL_SEED ?? 1414);
const KILLS = 10;
const bin = join(repoRoot, 'bin', 'outpost.mjs');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function seeded(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s % n;
  };
}

/** The fixture files of this run, copied to a folder of their own. */
function fixtureFolder(random: (n: number) => number): string {
  const all = [...syntheaFiles()];
  for (let i = all.length - 1; i > 0; i--) {
    const j = random(i + 1);
    [all[i], all[j]] = [all[j], all[i]];
  }
  const chosen = process.env.OUTPOST_IMPORT_KILL_FILES === 'all' ? all : all.slice(0, 24);
  const folder = tempDir('outpost-import-src-');
  dirs.push(folder);
  for (const file of chosen) copyFileSync(file, join(folder, basename(file)));
  return folder;
}

function outpost(args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 600_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function withHost<T>(dir: string, fn: (host: Host) => Promise<T>): Promise<T> {
  const host = createHost({ dataDir: dir, key: readOrCreateDatabaseKey(dir) });
  try {
    return await fn(host);
  } finally {
    host.close();
  }
}

/** `outpost export` of the folder's project, in canonical form. */
function exported(host: Host, folder: string): string[] {
  mkdirSync(folder);
  exportAs(host.access.system(DEFAULT_PROJECT_ID, { name: 'export' }), DEFAULT_PROJECT_ID, folder);
  return canonicalExport(folder);
}

function dataDir(): string {
  const dir = tempDir('outpost-import-kill-');
  dirs.push(dir);
  return dir;
}

/** Runs `outpost import`; once it has committed a Bundle of its own, kills it after `delayMs`. */
function importAndKill(dir: string, folder: string, delayMs: number): Promise<{ killed: boolean; output: string }> {
  return new Promise((resolve, reject) => {
    let db: ReturnType<typeof openDatabase> | undefined;
    const committedUnits = (): number => {
      try {
        db ??= openDatabase(databasePath(dir), readOrCreateDatabaseKey(dir));
        return db.prepare("SELECT count(*) FROM import_ledger WHERE kind = 'unit'").pluck().get() as number;
      } catch {
        db?.close();
        db = undefined;
        return -1; // not created yet
      }
    };
    const before = committedUnits();
    const child = spawn(process.execPath, [bin, 'import', folder, '--data', dir], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    let timer: NodeJS.Timeout | undefined;
    const poll = setInterval(() => {
      if (timer === undefined && committedUnits() > before) {
        timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    }, 20);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      db?.close();
      if (signal !== 'SIGKILL' && code !== 0) {
        reject(new Error(`import exited with ${code}: ${output}`));
        return;
      }
      resolve({ killed: signal === 'SIGKILL', output });
    });
  });
}

describe('outpost import, killed and run again', () => {
  it('10 SIGKILLs at random points, then a re-run: the export equals a clean import, resource for resource', async () => {
    const random = seeded(SEED);
    const folder = fixtureFolder(random);
    const context = `seed ${SEED} (OUTPOST_IMPORT_KILL_SEED)`;

    const clean = dataDir();
    const expected = await withHost(clean, async (host) => {
      const summary = await host.importer.importFiles(host.access.system(DEFAULT_PROJECT_ID, { name: 'clean import' }), [folder]);
      expect(summary.failures).toEqual([]);
      return exported(host, join(clean, 'export'));
    });
    expect(expected.length).toBeGreaterThan(1000);

    const crashed = dataDir();
    let kills = 0;
    for (let attempt = 0; attempt < KILLS + 5 && kills < KILLS; attempt++) {
      // Within 120 ms of a commit: about the time a Bundle of its own takes now (the import writes 1,000 to
      // 4,000 resources/s), so a kill often lands inside the next transaction, and ten kills find work left.
      const run = await importAndKill(crashed, folder, random(120));
      if (!run.killed) break; // it got to the end before the kill: nothing left to interrupt
      kills++;
    }
    expect(kills, context).toBe(KILLS);

    const rerun = outpost(['import', folder, '--data', crashed]);
    expect(rerun.code, `${context}: ${rerun.stderr}`).toBe(0);
    expect(rerun.stdout, context).toMatch(/skipped: (committed by an earlier run|imported before)/);
    const afterKills = await withHost(crashed, async (host) => exported(host, join(crashed, 'export')));
    expect(exportDifference(expected, afterKills), context).toBe('');

    // The same content again: nothing imported, and it says so; the store is as it was.
    const again = outpost(['import', folder, '--data', crashed]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^Imported 0 resources .*nothing new: these \d+ files were imported before/);
    const afterAgain = await withHost(crashed, async (host) => exported(host, join(crashed, 'export-again')));
    expect(exportDifference(expected, afterAgain)).toBe('');
  }, 600_000);
});
