// Synthea R4 fixtures: 46 transaction Bundles (13,612 resources, urn:uuid references) kept beside the
// checkout in ../shared/fixtures/synthea-r4 (CI has shared/ there too).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Bundle } from '@medplum/fhirtypes';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixturesDir = path.resolve(repoRoot, '..', 'shared', 'fixtures');
export const syntheaDir = path.join(fixturesDir, 'synthea-r4');

/** File names of the Synthea bundles, sorted (deterministic order). */
export function syntheaFiles(): string[] {
  return readdirSync(syntheaDir)
    .filter((f) => f.endsWith('.json.gz'))
    .sort();
}

export function readSyntheaBundle(file: string): Bundle {
  return JSON.parse(gunzipSync(readFileSync(path.join(syntheaDir, file))).toString('utf8')) as Bundle;
}

/** The first `limit` bundles (all by default), in file name order. */
export function readSyntheaBundles(limit?: number): Bundle[] {
  return syntheaFiles()
    .slice(0, limit)
    .map(readSyntheaBundle);
}
