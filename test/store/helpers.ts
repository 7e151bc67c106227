// Shared helpers of the store tests: temporary folders, the Synthea fixtures, row counts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import type { Bundle } from '@medplum/fhirtypes';
import type { Db } from '../../electron/host/db/types.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixturesDir = path.resolve(repoRoot, '..', 'shared', 'fixtures', 'synthea-r4');

export function tempDir(prefix = 'outpost-store-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function syntheaFiles(): string[] {
  return fs
    .readdirSync(fixturesDir)
    .filter((f) => f.endsWith('.json.gz'))
    .sort()
    .map((f) => path.join(fixturesDir, f));
}

export function readBundle(file: string): Bundle {
  return JSON.parse(zlib.gunzipSync(fs.readFileSync(file)).toString('utf8')) as Bundle;
}

/** The smallest Synthea Bundles first: quick tests need only one or two. */
export function smallestSyntheaBundles(n: number): Bundle[] {
  return syntheaFiles()
    .map((f) => ({ f, size: fs.statSync(f).size }))
    .sort((a, b) => a.size - b.size)
    .slice(0, n)
    .map(({ f }) => readBundle(f));
}

/** Row counts of every table of the store (core and search indexes): "nothing changed" is equality. */
export function rowCounts(db: Db): Record<string, number> {
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as { name: string }[];
  const out: Record<string, number> = {};
  for (const { name } of tables) {
    out[name] = (db.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n;
  }
  return out;
}

/** A clock that advances one second per reading, so versions have distinct, ordered lastUpdated. */
export function steppingClock(start = Date.parse('2024-01-01T00:00:00Z')): () => Date {
  let t = start;
  return () => new Date((t += 1000));
}
