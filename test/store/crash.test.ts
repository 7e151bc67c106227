// Crash safety: a child process importing large transaction Bundles is killed with SIGKILL at random
// moments (one chain of kills on a plain file, one on an encrypted one); after each kill the database
// passes `PRAGMA integrity_check`, and every Bundle the child started is either wholly stored
// (resources and their history) or wholly absent.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../electron/host/db/open.ts';
import { readBundle, repoRoot, syntheaFiles, tempDir } from './helpers.ts';

const TRIALS_PER_CHAIN = 10;
const CHAINS = 2; // two database files killed in parallel: 20 trials
/** One chain plain, one encrypted: SQLCipher pages and WAL must survive kills too. */
const KEYS = [undefined, 'crash-test key'];
const MAX_DELAY_MS = 2000;

const bundleFiles = syntheaFiles()
  .map((f) => ({ f, size: fs.statSync(f).size }))
  .sort((a, b) => b.size - a.size)
  .slice(3, 6) // large (about 500 entries each), but a few fit between two kills
  .map(({ f }) => f);
const entryCounts = bundleFiles.map((f) => readBundle(f).entry?.length ?? 0);
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

interface Trial {
  /** Bundles the child reported committed. */
  committed: number;
  /** Whether the kill landed inside a Bundle's transaction (begun, commit not reported). */
  inFlight: boolean;
}

/**
 * Starts the child, waits until `armOn` appears in its output (its store is open, or its first Bundle
 * committed), lets it work for `delayMs`, then SIGKILLs it. Arming some trials on a commit keeps the
 * test meaningful on a slow or loaded machine, where a first Bundle can take longer than any delay.
 */
function runAndKill(file: string, key: string | undefined, prefix: string, delayMs: number, armOn: 'ready' | 'committed'): Promise<Trial> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test', 'store', 'crash-child.ts'), file, key ?? '-', prefix, ...bundleFiles], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (timer === undefined && out.includes(armOn)) {
        timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') {
        reject(new Error(`child exited by itself (code ${code}): ${err.slice(0, 2000)}`));
        return;
      }
      const committed = (out.match(/committed/g) ?? []).length;
      resolve({ committed, inFlight: (out.match(/begin/g) ?? []).length > committed });
    });
  });
}

/** Checks the database after a kill; returns how many Bundles are stored. */
function check(file: string, key: string | undefined): number {
  const db = openDatabase(file, key);
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const tables = db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'resource'`).get() as { n: number };
    if (tables.n === 0) {
      return 0; // killed before the first migration committed
    }
    const groups = db
      .prepare(
        `SELECT json_extract(r.content, '$.meta.source') AS source, count(*) AS n,
                sum((SELECT count(*) FROM resource_history h WHERE h.rid = r.rid)) AS versions
           FROM resource r GROUP BY source`,
      )
      .all() as { source: string; n: number; versions: number }[];
    for (const g of groups) {
      const k = Number(g.source.split('-').pop());
      const expected = entryCounts[k % entryCounts.length];
      expect(g.n, `Bundle ${g.source}`).toBe(expected);
      expect(g.versions, `history of Bundle ${g.source}`).toBe(expected);
    }
    return groups.length;
  } finally {
    db.close();
  }
}

describe('crash safety', () => {
  it(`keeps every Bundle whole across ${TRIALS_PER_CHAIN * CHAINS} SIGKILLs`, { timeout: 240_000 }, async () => {
    expect(entryCounts.every((n) => n > 100)).toBe(true);
    const chains = Array.from({ length: CHAINS }, async (_, c) => {
      const dir = tempDir('outpost-crash-');
      dirs.push(dir);
      const file = path.join(dir, 'store.db');
      let stored = 0;
      let committedByChild = 0;
      let inFlightKills = 0;
      for (let t = 0; t < TRIALS_PER_CHAIN; t++) {
        const delay = Math.floor(Math.random() * MAX_DELAY_MS);
        const trial = await runAndKill(file, KEYS[c % KEYS.length], `c${c}t${t}`, delay, t % 2 === 0 ? 'ready' : 'committed');
        committedByChild += trial.committed;
        inFlightKills += trial.inFlight ? 1 : 0;
        const now = check(file, KEYS[c % KEYS.length]);
        // Whatever the child reported committed is there (and perhaps one more it had no time to report).
        expect(now).toBeGreaterThanOrEqual(committedByChild);
        expect(now).toBeGreaterThanOrEqual(stored);
        stored = now;
      }
      return { stored, inFlightKills };
    });
    const results = await Promise.all(chains);
    // The test is only meaningful if the children did real work between kills, and some kills
    // landed in the middle of a Bundle's transaction.
    expect(results.reduce((a, r) => a + r.stored, 0)).toBeGreaterThan(0);
    expect(results.reduce((a, r) => a + r.inFlightKills, 0)).toBeGreaterThan(0);
  });
});
