// `npm run bench -- store`: ingest and search performance of the FHIR store at 200k resources, every
// number next to a baseline measured in the same run (machines are shared and noisy, so the ratios
// are what to read): raw better-sqlite3 inserts for ingest, hand-written SQL on a plain index table
// for each search (its floor), and @medplum/fhir-router's MemoryRepository for reference. Peak RSS
// comes from a child process holding only the store (probe.ts).
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryRepository } from '@medplum/fhir-router';
import type { Bundle } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../../electron/host/fhir/definitions.ts';
import { createStore } from '../../electron/host/store/index.ts';
import type { CallContext, Store } from '../../electron/host/store/types.ts';
import type { Db } from '../../electron/host/db/types.ts';
import { type BenchArgs, parseBenchArgs } from './args.ts';
import { type CaseParams, searchCases } from './cases.ts';
import { createFloorDb } from './floor.ts';
import { REPLAY_LEAN, REPLAY_SCHEMA, ingestRace, type StoreContestant } from './ingest.ts';
import { runProbe, spawnProbe } from './probe.ts';
import { createRandom, fixturesDir, loadTemplates, replicateBundles, resolveBundle, type Template } from './replicate.ts';
import { formatReport, type Report } from './report.ts';
import { createSampler, type Samples } from './samples.ts';
import { runMemoryRepository, runStoreAndFloor, runStoreOnly } from './searches.ts';
import { createTempDir, disposeOnSignal, fileSizes } from './sqlite.ts';
import { peakRss } from './stats.ts';

/** Time each search case may take on the lean schema (at least one repetition). */
const LEAN_SEARCH_BUDGET_MS = 5_000;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function log(message: string): void {
  process.stderr.write(`[bench store] ${message}\n`);
}

function drawParams(samples: Samples, reps: number, seed: number): CaseParams[][] {
  return searchCases.map((searchCase, i) => {
    const next = createRandom(seed + i);
    const pick = <T>(items: T[]): T => {
      if (items.length === 0) {
        throw new Error(`no data to draw "${searchCase.title}" from`);
      }
      return items[next() % items.length];
    };
    return Array.from({ length: reps }, () => searchCase.draw(samples, pick));
  });
}

async function memoryPhase(args: BenchArgs, templates: Template[], full: Samples): Promise<{ report: NonNullable<Report['memory']>; results: Awaited<ReturnType<typeof runMemoryRepository>> } | undefined> {
  if (args.memoryResources === 0) {
    return undefined;
  }
  log(`MemoryRepository: loading ${args.memoryResources} resources`);
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
  log(`MemoryRepository: loaded ${resources} in ${(ms / 1000).toFixed(1)} s; searching`);
  const results = await runMemoryRepository(repo, drawParams(subset ? sampler.samples() : full, args.reps, args.seed));
  return { report: { resources, seconds: ms / 1000, subset }, results };
}

/**
 * The store's search SQL pins the indexes its plans rely on (`INDEXED BY`); the lean schema has none
 * of them, so its connection prepares the same SQL without the hints and SQLite plans on its own.
 */
function withoutIndexHints(db: Db): void {
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => prepare(sql.replace(/\bINDEXED BY \w+/g, ''))) as Db['prepare'];
}

export async function main(argv: string[]): Promise<void> {
  const args = parseBenchArgs(argv);
  if (args.probeInput) {
    runProbe(args.probeInput, repoRoot);
    return;
  }
  const startedAt = performance.now();
  loadFhirDefinitions();
  const templates = loadTemplates(fixturesDir(repoRoot));
  const bundles = (): Generator<{ bundle: Bundle }> => replicateBundles(templates, { resources: args.resources, seed: args.seed });
  const tmp = createTempDir('outpost-bench-');
  const stopDisposingOnSignal = disposeOnSignal(tmp);
  // A random 256-bit key, as the app keeps one in the OS keychain.
  const key = randomBytes(32).toString('hex');
  try {
    // The importer's path (structural validation) is the headline; full validation (the REST path,
    // @medplum/core's validateResource with FHIRPath invariants) and an unencrypted file run beside it.
    const structure: CallContext = { validation: 'structure' };
    const storeFile = path.join(tmp.dir, 'store.db');
    // backgroundCheckpoint: as the host opens the app's database (host.ts).
    const store = createStore({ path: storeFile, key, backgroundCheckpoint: true });
    const idMap = new Map<string, string>();
    const contestants: StoreContestant[] = [{ path: 'store processBundle, encrypted, structural validation', store, ctx: structure, idMap }];
    const extraStores: Store[] = [];
    const leanFile = path.join(tmp.dir, 'replay-lean.db');
    const plainIdMap = new Map<string, string>();
    if (args.fullValidation) {
      const full = createStore({ path: path.join(tmp.dir, 'store-full.db'), key, backgroundCheckpoint: true });
      extraStores.push(full);
      contestants.push({ path: 'store processBundle, encrypted, full validation', store: full, ctx: { validation: 'full' } });
    }
    if (args.plain) {
      const plain = createStore({ path: path.join(tmp.dir, 'store-plain.db'), backgroundCheckpoint: true });
      extraStores.push(plain);
      contestants.push({
        path: 'store processBundle, plain, structural validation',
        store: plain,
        ctx: structure,
        idMap: plainIdMap,
        // What the plain store's JavaScript could at best reach: its own SQL writes without it (replay.ts).
        replays: [
          { path: REPLAY_SCHEMA, file: path.join(tmp.dir, 'replay.db') },
          { path: REPLAY_LEAN, file: leanFile, lean: true },
        ],
      });
    }
    log(`ingest race: ${args.resources} resources, Bundle by Bundle into ${3 + contestants.length} databases`);
    const ingest = ingestRace(bundles(), {
      rawBareFile: path.join(tmp.dir, 'raw-bare.db'),
      rawPlainFile: path.join(tmp.dir, 'raw-plain.db'),
      rawEncryptedFile: path.join(tmp.dir, 'raw-encrypted.db'),
      key,
      stores: contestants,
      log,
    });
    extraStores.forEach((s) => s.close());
    const storeSize = fileSizes(storeFile);

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
    const floorSize = fileSizes(floorFile);

    log(`searches: ${searchCases.length} x ${args.reps} repetitions, store and floor alternating`);
    const params = drawParams(samples, args.reps, args.seed);
    const mapRef = (ref: string): string => {
      const mapped = idMap.get(ref);
      if (mapped === undefined) {
        throw new Error(`no store id for ${ref}`);
      }
      return mapped;
    };
    const cases = runStoreAndFloor(store, floor.db, params, mapRef);
    store.close();
    let lean: Report['lean'];
    if (args.plain) {
      // The lean ceiling's database holds the plain store's rows without the secondary indexes: what
      // would its searches cost? (Budgeted: without those indexes some searches scan.)
      log('searches on the lean schema (the lean ceiling replay database)');
      const leanStore = createStore({ path: leanFile });
      withoutIndexHints(leanStore.db);
      lean = runStoreOnly(leanStore, params, (ref) => plainIdMap.get(ref) ?? ref, LEAN_SEARCH_BUDGET_MS);
      leanStore.close();
    }
    floor.close();
    const storeSizeClosed = fileSizes(storeFile);
    const rssMain = peakRss();

    let probe;
    if (args.rssProbe) {
      log('RSS probe: a child process ingesting into and searching a store alone');
      probe = spawnProbe(repoRoot, tmp.dir, { resources: args.resources, seed: args.seed, key, params }, args.probeMaxOldSpace, log);
    }

    const memory = await memoryPhase(args, templates, samples);
    memory?.results.forEach((m, i) => {
      cases[i].memory = m;
    });
    const report: Report = {
      resources: ingest[0].resources,
      bundles: ingest[0].bundles,
      node: process.version,
      ingest,
      floorSeconds,
      cases,
      lean,
      memory: memory?.report,
      storeSize,
      storeSizeClosed,
      floorSize,
      probe,
      rssMain,
      rssOverall: peakRss(),
      totalSeconds: (performance.now() - startedAt) / 1000,
    };
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
  } finally {
    stopDisposingOnSignal();
    if (args.keep) {
      log(`kept ${tmp.dir}`);
    } else {
      tmp.dispose();
    }
  }
}
