// The RSS probe of `npm run bench -- paths`: a child process that is what the app's host process would
// be (heap growth limited as its entry points do, the FHIR definitions, one host) imports the whole
// data set with `outpost import`'s importer, then serves the patient list, charts and the ten clinic
// searches through host.handle as a signed-in administrator. Its peak RSS is the host's, free of the
// baselines and the other contestants' page caches in the parent.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import { DEFAULT_PROJECT_ID } from '../../../electron/host/db/project.ts';
import { loadFhirDefinitions } from '../../../electron/host/fhir/definitions.ts';
import { limitHeapGrowth } from '../../../electron/host/process-memory.ts';
import { type CaseParams, searchCases } from '../cases.ts';
import { fixturesDir, loadTemplates, replicateBundles } from '../replicate.ts';
import { MRN_SYSTEM, type Samples } from '../samples.ts';
import { runProbeChild } from '../probe.ts';
import { createTempDir, fileSizes } from '../sqlite.ts';
import { peakRss } from '../stats.ts';
import { openHost, seedAdmin, signIn, type Door } from './door.ts';
import { listAndChart, type DoorReadings } from './requests.ts';

export interface ProbeInput {
  resources: number;
  seed: number;
  key: string;
  samples: Samples;
  params: CaseParams[][];
}

export interface ProbeResult {
  resources: number;
  importSeconds: number;
  rssBeforeHost: number;
  peakRss: number;
  end: { rss: number; heapTotal: number; heapUsed: number; external: number };
  databaseBytes: number;
  readings: DoorReadings;
}

/** The door without a transport: host.handle itself (what both the IPC and HTTP adapters call). */
function handleDoor(host: ReturnType<typeof openHost>, token: string): Door {
  return {
    name: 'host.handle',
    async send(method, p, body) {
      const res = await host.handle({ method, path: p, headers: { authorization: `Bearer ${token}` }, body });
      return { status: res.status, body: res.body };
    },
    close: async () => undefined,
  };
}

/** Child side: `bench paths --probe <input.json>`; prints one JSON line. */
export async function runProbe(inputFile: string, repoRoot: string): Promise<void> {
  const input = JSON.parse(readFileSync(inputFile, 'utf8')) as ProbeInput;
  limitHeapGrowth();
  loadFhirDefinitions();
  const templates = loadTemplates(fixturesDir(repoRoot));
  const rssBeforeHost = peakRss();
  const tmp = createTempDir('outpost-bench-paths-probe-');
  try {
    const host = openHost(path.join(tmp.dir, 'data'), input.key);
    await seedAdmin(host);
    const repo = host.access.system(DEFAULT_PROJECT_ID, { name: 'outpost import (CLI)' });
    const file = path.join(tmp.dir, 'unit.json');
    let seconds = 0;
    let resources = 0;
    for (const { bundle } of replicateBundles(templates, { resources: input.resources, seed: input.seed })) {
      writeFileSync(file, JSON.stringify(bundle));
      const t0 = performance.now();
      const summary = await host.importer.importFiles(repo, [file]);
      seconds += (performance.now() - t0) / 1000;
      resources += summary.resources;
    }
    const token = await signIn(host);
    // The import gave every resource a fresh id: the sampled patients are found again by their MRN
    // (references to other types stay as generated, so those searches run and find nothing).
    const ids = new Map<string, string>();
    for (const p of input.samples.patients.slice(0, 40)) {
      const found = await host.handle({ method: 'GET', path: `/fhir/R4/Patient?identifier=${encodeURIComponent(`${MRN_SYSTEM}|${p.mrn}`)}&_elements=id`, headers: { authorization: `Bearer ${token}` } });
      const id = (found.body as Bundle).entry?.[0]?.resource?.id;
      if (id) ids.set(p.ref, `Patient/${id}`);
    }
    const mapRef = (ref: string): string => ids.get(ref) ?? ref;
    const readings = await listAndChart(handleDoor(host, token), input.samples, mapRef, 30);
    for (const [c, searchCase] of searchCases.entries()) {
      for (const p of input.params[c].slice(0, 30)) {
        const { type, query } = searchCase.query(p, mapRef);
        await host.handle({ method: 'GET', path: `/fhir/R4/${type}?${query}`, headers: { authorization: `Bearer ${token}` } });
      }
    }
    const { rss, heapTotal, heapUsed, external } = process.memoryUsage();
    const dbFile = path.join(tmp.dir, 'data', 'outpost.db');
    host.close();
    const sizes = fileSizes(dbFile);
    const result: ProbeResult = { resources, importSeconds: seconds, rssBeforeHost, peakRss: peakRss(), end: { rss, heapTotal, heapUsed, external }, databaseBytes: sizes.db + sizes.wal, readings };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    tmp.dispose();
  }
}

/** Parent side: runs the probe in a child process (undefined when it failed). */
export function spawnProbe(repoRoot: string, dir: string, input: ProbeInput, log: (m: string) => void): ProbeResult | undefined {
  const line = runProbeChild({ repoRoot, bench: 'paths', input, inputFile: path.join(dir, 'paths-probe-input.json'), log });
  return line === undefined ? undefined : (JSON.parse(line) as ProbeResult);
}
