// `npm run bench -- paths`: the paths users take, next to the core measured in the same run (shared
// machines are noisy: read the ratios). 200,000 generated Synthea resources by default; `--million`
// is the opt-in 1,000,000 run (about an hour and a half on a loaded 2-core machine).
//   write paths   `outpost import`, transaction Bundles through the HTTP and IPC doors, raced Bundle by
//                 Bundle against the store's processBundle (paths/ingest.ts); a tenant pull's page writer
//                 against the core on the same pages (paths/pull.ts); rates per 100k slice, so a large
//                 run shows each rate as the store grows;
//   searches      the ten clinic searches on the core store next to their hand-written SQL floor;
//   the app       the patient list and opening a chart through both doors (paths/requests.ts);
//   validation    full validation of REST writes next to the structural check and whole REST creates;
//   audit         the same requests with AuditEvents on and off (two copies of one data folder);
//   memory, size  peak RSS of a child process that is the app's host (paths/probe.ts), bytes per resource.
import { cpSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../../electron/host/fhir/definitions.ts';
import type { Db } from '../../electron/host/db/types.ts';
import { type CaseParams, searchCases } from './cases.ts';
import { createFloorDb } from './floor.ts';
import { createRandom, fixturesDir, loadTemplates, replicateBundles, resolveBundle } from './replicate.ts';
import { createSampler, type Samples } from './samples.ts';
import { runStoreAndFloor } from './searches.ts';
import { createTempDir, disposeOnSignal } from './sqlite.ts';
import { peakRss } from './stats.ts';
import { parsePathsArgs, type PathsArgs } from './paths/args.ts';
import { openHost, signIn } from './paths/door.ts';
import { race, setUpRace } from './paths/ingest.ts';
import { runProbe, spawnProbe } from './paths/probe.ts';
import { racePull } from './paths/pull.ts';
import { formatPathsReport, type PathsReport } from './paths/report.ts';
import { compareAudit, listAndChart, measureValidation } from './paths/requests.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where the store's size is read for "bytes per resource at 200k" (also inside a 1M run). */
const SIZE_MARK = 200_000;

function log(message: string): void {
  process.stderr.write(`[bench paths] ${new Date().toISOString().slice(11, 19)} ${message}\n`);
}

function drawParams(samples: Samples, reps: number, seed: number): CaseParams[][] {
  return searchCases.map((searchCase, i) => {
    const next = createRandom(seed + i);
    const pick = <T>(items: T[]): T => items[next() % items.length];
    return Array.from({ length: reps }, () => searchCase.draw(samples, pick));
  });
}

/** The logical size of a database (pages in use, WAL frames included), in bytes. */
function usedBytes(db: Db): number {
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  return (pages - free) * (db.pragma('page_size', { simple: true }) as number);
}

function mapper(ids: Map<string, string>): (ref: string) => string {
  return (ref) => {
    const mapped = ids.get(ref);
    if (mapped === undefined) throw new Error(`no id for ${ref}`);
    return mapped;
  };
}

export async function main(argv: string[]): Promise<void> {
  const args: PathsArgs = parsePathsArgs(argv);
  if (args.probeInput) {
    await runProbe(args.probeInput, repoRoot);
    return;
  }
  const startedAt = performance.now();
  loadFhirDefinitions();
  const templates = loadTemplates(fixturesDir(repoRoot));
  const bundles = () => replicateBundles(templates, { resources: args.resources, seed: args.seed });
  const tmp = createTempDir('outpost-bench-paths-');
  const stopDisposingOnSignal = disposeOnSignal(tmp);
  const key = randomBytes(32).toString('hex');
  const withDoors = !args.skip.has('doors');
  const report: PathsReport = { resources: 0, node: process.version, sizes: [], notes: [], load: [] };
  // The machine's 1-minute load at each phase: how shared it was while this ran.
  const loadNow = (phase: string): void => {
    report.load.push({ phase, load: Math.round(loadavg()[0] * 100) / 100 });
  };
  loadNow('start');
  try {
    // 1. The write paths, Bundle by Bundle.
    const setup = await setUpRace(tmp.dir, key);
    const contestants = withDoors ? setup.contestants : setup.contestants.slice(0, 3); // the core, the import and its file's reading
    const sampler = createSampler(createRandom(args.seed + 3));
    const validationSample: Resource[] = [];
    let seen = 0;
    const every = Math.max(1, Math.floor(args.resources / args.validationSample));
    log(`write paths: ${args.resources} resources, Bundle by Bundle through ${contestants.length} paths`);
    report.resources = await race(bundles(), contestants, log, (bundle: Bundle) => {
      for (const r of resolveBundle(bundle)) {
        sampler.offer(r);
        if (seen++ % every === 0 && validationSample.length < args.validationSample) validationSample.push(r);
      }
      if (seen >= SIZE_MARK && !report.sizes.some((s) => s.at === SIZE_MARK)) {
        report.sizes.push({ at: SIZE_MARK, core: usedBytes(setup.core.db), import: usedBytes(setup.hosts.import.rawStore.db) });
      }
    });
    report.ingest = contestants.map((c) => c.row);
    loadNow('after the write paths');
    report.sizes.push({ at: report.resources, core: usedBytes(setup.core.db), import: usedBytes(setup.hosts.import.rawStore.db) });
    const samples = sampler.samples();
    const params = drawParams(samples, args.reps, args.seed);

    // 2. The ten clinic searches on the core store, next to their floor.
    if (!args.skip.has('searches')) {
      log('floor tables');
      const floor = createFloorDb(path.join(tmp.dir, 'floor.db'), key);
      for (const { bundle } of bundles()) floor.add(resolveBundle(bundle));
      floor.finish();
      log(`searches: ${searchCases.length} x ${args.reps}, store and floor alternating`);
      report.searches = runStoreAndFloor(setup.core, floor.db, params, mapper(setup.coreIds));
      floor.close();
      rmSync(path.join(tmp.dir, 'floor.db'), { force: true });
    }

    // 3. The app's patient list and charts, through both doors.
    if (withDoors && !args.skip.has('chart')) {
      log('patient list and charts through the doors');
      report.doors = [
        await listAndChart(setup.doors.http, samples, mapper(setup.doorIds.http), args.requests),
        await listAndChart(setup.doors.ipc, samples, mapper(setup.doorIds.ipc), args.requests),
      ];
    }

    // 4. Validation of REST writes, on the HTTP host.
    if (withDoors && !args.skip.has('validation')) {
      log(`validation: ${validationSample.length} resources`);
      report.validation = await measureValidation(setup.hosts.http, await signIn(setup.hosts.http), validationSample);
    }
    const httpIds = setup.doorIds.http;
    await setup.close();

    // 5. Audit on and off: the HTTP host's folder and a copy of it.
    if (withDoors && !args.skip.has('audit')) {
      log('audit on / off: copying the data folder');
      cpSync(path.join(tmp.dir, 'http'), path.join(tmp.dir, 'http-audit-off'), { recursive: true });
      const on = openHost(path.join(tmp.dir, 'http'), key, true);
      const off = openHost(path.join(tmp.dir, 'http-audit-off'), key, false);
      try {
        log('audit on / off: requests');
        report.audit = await compareAudit({ host: on, token: await signIn(on) }, { host: off, token: await signIn(off) }, samples, params, mapper(httpIds), args.requests);
      } finally {
        on.close();
        off.close();
      }
    }
    rmSync(path.join(tmp.dir, 'http-audit-off'), { recursive: true, force: true });

    // 6. The tenant pull's write path (its own databases).
    if (!args.skip.has('pull')) {
      log('tenant pull write path vs the core, page by page');
      report.pull = racePull(bundles(), tmp.dir, key, log).rows;
    }

    // 7. Peak RSS of the app's host, alone in a child process.
    report.rssMain = peakRss();
    if (!args.skip.has('probe')) {
      log('RSS probe: a child process importing everything, then serving the list, charts and searches');
      report.probe = spawnProbe(repoRoot, tmp.dir, { resources: args.resources, seed: args.seed, key, samples, params: params.map((p) => p.slice(0, 30)) }, log);
    }
    loadNow('end');
    report.totalSeconds = (performance.now() - startedAt) / 1000;
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatPathsReport(report)}\n`);
  } finally {
    stopDisposingOnSignal();
    if (args.keep) log(`kept ${tmp.dir}`);
    else tmp.dispose();
  }
}
