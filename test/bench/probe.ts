// The RSS probe: a child process that holds only what the app would (FHIR definitions, the store, a
// Bundle at a time) ingests the same data into an encrypted store the way the importer does
// (structural validation) and runs the same searches, so its peak RSS is the store's, free of the
// baselines' page caches and of MemoryRepository.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadFhirDefinitions } from '../../electron/host/fhir/definitions.ts';
import { limitHeapGrowth } from '../../electron/host/process-memory.ts';
import { createStore } from '../../electron/host/store/index.ts';
import type { CaseParams } from './cases.ts';
import { storeProcess } from './ingest.ts';
import { fixturesDir, loadTemplates, replicateBundles } from './replicate.ts';
import { runStoreOnly } from './searches.ts';
import { createTempDir } from './sqlite.ts';
import { peakRss } from './stats.ts';

export interface ProbeInput {
  resources: number;
  seed: number;
  key: string;
  params: CaseParams[][];
}

export interface ProbeResult {
  resources: number;
  ingestSeconds: number;
  failedBundles: number;
  storeP50: number[];
  peakRss: number;
  rssBeforeStore: number;
  /** process.memoryUsage() after the searches, before closing the store: where the RSS is. */
  end: { rss: number; heapTotal: number; heapUsed: number; external: number };
  /** The V8 old-space cap the probe ran with (MB; 0 = node's default). */
  maxOldSpaceMb?: number;
}

/** Child side: `bench store --probe <input.json>`; prints one JSON line. */
export function runProbe(inputFile: string, repoRoot: string): void {
  const input = JSON.parse(readFileSync(inputFile, 'utf8')) as ProbeInput;
  limitHeapGrowth(); // as the app's and the CLI's entry points do
  loadFhirDefinitions();
  const templates = loadTemplates(fixturesDir(repoRoot));
  const rssBeforeStore = peakRss();
  const tmp = createTempDir('outpost-bench-probe-');
  try {
    const store = createStore({ path: path.join(tmp.dir, 'store.db'), key: input.key, backgroundCheckpoint: true });
    const idMap = new Map<string, string>();
    let ms = 0;
    let resources = 0;
    let failedBundles = 0;
    for (const { bundle } of replicateBundles(templates, { resources: input.resources, seed: input.seed })) {
      const count = bundle.entry?.length ?? 0;
      try {
        ms += storeProcess(store, bundle, { validation: 'structure' }, idMap);
        resources += count;
      } catch {
        failedBundles++;
      }
    }
    const storeP50 = runStoreOnly(store, input.params, (ref) => idMap.get(ref) ?? ref).map((r) => r.p50);
    const { rss, heapTotal, heapUsed, external } = process.memoryUsage();
    store.close();
    const result: ProbeResult = {
      resources,
      ingestSeconds: ms / 1000,
      failedBundles,
      storeP50,
      peakRss: peakRss(),
      rssBeforeStore,
      end: { rss, heapTotal, heapUsed, external },
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    tmp.dispose();
  }
}

/** Parent side: runs the probe in a child process and returns its result (undefined when it failed). */
export function spawnProbe(repoRoot: string, dir: string, input: ProbeInput, maxOldSpaceMb: number, log: (m: string) => void): ProbeResult | undefined {
  const v8Flags = maxOldSpaceMb > 0 ? [`--max-old-space-size=${maxOldSpaceMb}`] : [];
  const line = runProbeChild({ repoRoot, bench: 'store', input, inputFile: path.join(dir, 'probe-input.json'), v8Flags, log });
  return line === undefined ? undefined : { ...(JSON.parse(line) as ProbeResult), maxOldSpaceMb };
}

/**
 * Runs `bench <bench> --probe <inputFile>` in a child process (a bench's RSS probe, alone in its
 * process) with `input` written to the file; returns the last line it printed, or undefined (logged)
 * when it failed.
 */
export function runProbeChild(options: { repoRoot: string; bench: string; input: unknown; inputFile: string; v8Flags?: string[]; log: (m: string) => void }): string | undefined {
  writeFileSync(options.inputFile, JSON.stringify(options.input));
  const child = spawnSync(process.execPath, [...(options.v8Flags ?? []), path.join(options.repoRoot, 'bin', 'bench.mjs'), options.bench, '--probe', options.inputFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  if (child.status !== 0) {
    options.log(`RSS probe failed (exit ${child.status})`);
    return undefined;
  }
  return child.stdout.trim().split('\n').pop() ?? '';
}
