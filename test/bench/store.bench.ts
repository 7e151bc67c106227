// `npm run bench -- store`: ingest and search performance of the FHIR store at 200k resources, every
// number next to a baseline measured in the same run (machines are shared and noisy, so the ratios
// are what to read): raw better-sqlite3 inserts for ingest, hand-written SQL on a plain index table
// for each search (its floor), and @medplum/fhir-router's MemoryRepository for reference.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryRepository } from '@medplum/fhir-router';
import type { Bundle } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../../electron/host/fhir/definitions.ts';
import { createStore } from '../../electron/host/store/index.ts';
import type { Store } from '../../electron/host/store/types.ts';
import { parseBenchArgs, type BenchArgs } from './args.ts';
import { bundleHits, type CaseParams, type Hits, memorySearch, searchCases } from './cases.ts';
import { createFloorDb } from './floor.ts';
import { type IngestResult, rawIngest } from './raw.ts';
import { createRandom, fixturesDir, loadTemplates, replicateBundles, resolveBundle, type Template } from './replicate.ts';
import { createSampler, type Samples } from './samples.ts';
import { createTempDir, fileSizes } from './sqlite.ts';
import { type CaseResult, formatReport, type IngestRow, type Report } from './report.ts';
import { peakRss, percentile } from './stats.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Types whose generated -> store id mapping the searches need (small: patients and encounters). */
const MAPPED_TYPES = new Set(['Patient', 'Encounter']);

function log(message: string): void {
  process.stderr.write(`[bench store] ${message}\n`);
}

interface StoreIngest extends IngestResult {
  failedBundles: number;
}

function storeIngest(store: Store, bundles: Iterable<{ bundle: Bundle }>, idMap?: Map<string, string>): StoreIngest {
  let resources = 0;
  let count = 0;
  let failedBundles = 0;
  let ms = 0;
  for (const { bundle } of bundles) {
    const entries = bundle.entry ?? [];
    const generated = entries.map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);
    const start = performance.now();
    let response: Bundle;
    try {
      response = store.processBundle(bundle);
    } catch (err) {
      failedBundles++;
      if (failedBundles <= 3) {
        log(`transaction failed: ${(err as Error).message}`);
      }
      continue;
    } finally {
      ms += performance.now() - start;
    }
    resources += entries.length;
    count++;
    if (idMap) {
      response.entry?.forEach((e, i) => {
        const type = generated[i].slice(0, generated[i].indexOf('/'));
        const location = e.response?.location;
        if (MAPPED_TYPES.has(type) && location) {
          const [t, id] = location.split('/');
          idMap.set(generated[i], `${t}/${id}`);
        }
      });
    }
  }
  return { resources, bundles: count, seconds: ms / 1000, failedBundles };
}

function pickerFor(seed: number): <T>(items: T[]) => T {
  const next = createRandom(seed);
  return <T>(items: T[]): T => {
    if (items.length === 0) {
      throw new Error('no sample to draw from');
    }
    return items[next() % items.length];
  };
}

function drawParams(samples: Samples, reps: number, seed: number): CaseParams[][] {
  return searchCases.map((c, i) => {
    const pick = pickerFor(seed + i);
    return Array.from({ length: reps }, () => c.draw(samples, pick));
  });
}

function sameHits(a: Hits, b: Hits): boolean {
  return a.matches === b.matches && a.included === b.included;
}

async function runMemoryRepository(args: BenchArgs, templates: Template[], full: Samples, results: CaseResult[]): Promise<{ resources: number; seconds: number } | undefined> {
  if (args.memoryResources === 0) {
    return undefined;
  }
  log(`loading ${args.memoryResources} resources into MemoryRepository`);
  const repo = new MemoryRepository();
  const subset = args.memoryResources < args.resources;
  const sampler = createSampler(createRandom(args.seed + 7));
  let resources = 0;
  let ms = 0;
  for (const { bundle } of replicateBundles(templates, { resources: args.memoryResources, seed: args.seed })) {
    const resolved = resolveBundle(bundle);
    const start = performance.now();
    for (const resource of resolved) {
      await repo.createResource(resource);
    }
    ms += performance.now() - start;
    resources += resolved.length;
    if (subset) {
      resolved.forEach((r) => sampler.offer(r));
    }
  }
  log(`MemoryRepository loaded ${resources} in ${(ms / 1000).toFixed(1)} s; searching`);
  const params = drawParams(subset ? sampler.samples() : full, args.reps, args.seed);
  // A scan of 90k Observations takes seconds: each search gets a time budget (at least one repetition).
  const budgetMs = 4000;
  for (let c = 0; c < searchCases.length; c++) {
    const searchCase = searchCases[c];
    const times: number[] = [];
    let hits = 0;
    const started = performance.now();
    for (let rep = 0; rep < params[c].length && (rep < 1 || performance.now() - started < budgetMs); rep++) {
      const p = params[c][rep];
      const t0 = performance.now();
      const h = searchCase.memory
        ? await searchCase.memory(repo, p)
        : await memorySearch(repo, searchCase.query(p, (ref) => ref).type, searchCase.query(p, (ref) => ref).query);
      times.push(performance.now() - t0);
      hits += h.matches + h.included;
    }
    results[c].memory = { p50: percentile(times, 50), reps: times.length, hits: hits / times.length };
  }
  return { resources, seconds: ms / 1000 };
}

export async function main(argv: string[]): Promise<void> {
  const args = parseBenchArgs(argv);
  const startedAt = performance.now();
  loadFhirDefinitions();
  const templates = loadTemplates(fixturesDir(repoRoot));
  const bundles = (): Generator<{ bundle: Bundle }> => replicateBundles(templates, { resources: args.resources, seed: args.seed });
  const tmp = createTempDir('outpost-bench-');
  const key = randomBytes(32).toString('hex');
  const ingest: IngestRow[] = [];
  try {
    log(`raw better-sqlite3 baseline (${args.resources} resources)`);
    const rawPlain = rawIngest(path.join(tmp.dir, 'raw-plain.db'), undefined, bundles());
    ingest.push({ path: 'raw better-sqlite3, plain', ...rawPlain });
    const rawEncrypted = rawIngest(path.join(tmp.dir, 'raw-encrypted.db'), key, bundles());
    ingest.push({ path: 'raw better-sqlite3, encrypted', ...rawEncrypted });

    const rssBeforeStore = peakRss();
    const storeFile = path.join(tmp.dir, 'store.db');
    log('store ingest, encrypted');
    const store = createStore({ path: storeFile, key });
    const idMap = new Map<string, string>();
    const encrypted = storeIngest(store, bundles(), idMap);
    ingest.push({ path: 'store processBundle, encrypted', ...encrypted });
    const storeSize = fileSizes(storeFile);

    if (args.plain) {
      log('store ingest, plain');
      const plainFile = path.join(tmp.dir, 'store-plain.db');
      const plainStore = createStore({ path: plainFile });
      ingest.push({ path: 'store processBundle, plain', ...storeIngest(plainStore, bundles()) });
      plainStore.close();
    }

    log('floor tables');
    const floorFile = path.join(tmp.dir, 'floor.db');
    const floor = createFloorDb(floorFile, key);
    const sampler = createSampler(createRandom(args.seed + 3));
    const floorStart = performance.now();
    for (const { bundle } of bundles()) {
      const resolved = resolveBundle(bundle);
      resolved.forEach((r) => sampler.offer(r));
      floor.add(resolved);
    }
    floor.finish();
    const floorSeconds = (performance.now() - floorStart) / 1000;
    const samples = sampler.samples();

    log(`searches: ${searchCases.length} x ${args.reps} repetitions, store and floor alternating`);
    const params = drawParams(samples, args.reps, args.seed);
    const mapRef = (ref: string): string => {
      const mapped = idMap.get(ref);
      if (mapped === undefined) {
        throw new Error(`no store id for ${ref}`);
      }
      return mapped;
    };
    const results: CaseResult[] = [];
    for (let c = 0; c < searchCases.length; c++) {
      const searchCase = searchCases[c];
      const floorQuery = searchCase.floor(floor.db);
      const storeTimes: number[] = [];
      const floorTimes: number[] = [];
      let storeHits = 0;
      let floorHits = 0;
      let mismatches = 0;
      let errors = 0;
      let firstError: string | undefined;
      const warmup = Math.min(10, params[c].length);
      for (let rep = -warmup; rep < params[c].length; rep++) {
        const p = params[c][rep < 0 ? rep + warmup : rep];
        const { type, query } = searchCase.query(p, mapRef);
        const runStore = (): Hits | undefined => {
          const t0 = performance.now();
          try {
            const h = bundleHits(store.search(type, query));
            if (rep >= 0) storeTimes.push(performance.now() - t0);
            return h;
          } catch (err) {
            if (rep >= 0) errors++;
            firstError ??= `${type}?${query}: ${(err as Error).message}`;
            return undefined;
          }
        };
        const runFloor = (): Hits => {
          const t0 = performance.now();
          const h = floorQuery(p);
          if (rep >= 0) floorTimes.push(performance.now() - t0);
          return h;
        };
        // Alternate which goes first so neither always finds the caches the other warmed.
        let s: Hits | undefined;
        let f: Hits;
        if (rep % 2 === 0) {
          s = runStore();
          f = runFloor();
        } else {
          f = runFloor();
          s = runStore();
        }
        if (rep >= 0) {
          floorHits += f.matches + f.included;
          if (s) {
            storeHits += s.matches + s.included;
            if (!sameHits(s, f)) mismatches++;
          }
        }
      }
      results.push({
        title: searchCase.title,
        shape: searchCase.shape,
        singleHit: searchCase.singleHit ?? false,
        store: { p50: percentile(storeTimes, 50), p99: percentile(storeTimes, 99), hits: storeHits / Math.max(1, storeTimes.length) },
        floor: { p50: percentile(floorTimes, 50), p99: percentile(floorTimes, 99), hits: floorHits / Math.max(1, floorTimes.length) },
        reps: floorTimes.length,
        mismatches,
        errors,
        firstError,
      });
    }
    const floorSize = fileSizes(floorFile);
    const rssAfterStore = peakRss();
    store.close();
    floor.close();

    const memory = await runMemoryRepository(args, templates, samples, results);
    const report: Report = {
      resources: rawPlain.resources,
      bundles: rawPlain.bundles,
      node: process.version,
      ingest,
      floorSeconds,
      cases: results,
      memory: memory ? { ...memory, subset: memory.resources < rawPlain.resources } : undefined,
      storeSize,
      floorSize,
      rssBeforeStore,
      rssAfterStore,
      rssOverall: peakRss(),
      totalSeconds: (performance.now() - startedAt) / 1000,
    };
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
  } finally {
    if (args.keep) {
      log(`kept ${tmp.dir}`);
    } else {
      tmp.dispose();
    }
  }
}
