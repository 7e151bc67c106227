// `npm run bench -- sync [--pull 100000] [--push 10000] [--json]`: sync's throughput against the loopback
// test server, each next to the bare HTTP transfer of the same Bundles measured in the same run:
//   pull  N resources (Patients, 49 Observations each) seeded on the paging test remote running in its own
//         process (test/helpers/fhir-paging.ts), one `outpost sync --pull-only`-like run into an empty
//         encrypted data folder; baseline: the same page URLs fetched again and parsed, nothing stored.
//   push  M local changes (Patients, and Observations referencing them) recorded in the outbox, one
//         push-only run to the router-backed test server (which validates and stores each entry);
//         baseline: the same request Bundles POSTed to a sink that only reads them; and the remote's
//         own share: the same Bundles replayed to a fresh router-backed server.
// Peak RSS is this process's (the pull's remote runs in its own process; the push's small one here).
// Then the same against the real Medplum server (sync-medplum.ts): the demo clinic plus 12 Synthea
// patients pushed under Medplum's default quota and with the quota off, and a tenant pull.
//   npm run bench -- sync [--pull 100000] [--push 10000] [--synthea 12] [--no-medplum | --medplum-only] [--json]
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Patient } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../../electron/host/fhir/definitions.ts';
import { createHost, type Host } from '../../electron/host/host.ts';
import { DEFAULT_PROJECT_ID } from '../../electron/host/db/project.ts';
import type { SyncRunSummary } from '../../shared/contract/sync.ts';
import { startFhirServer } from '../helpers/fhir-server.ts';
import { startPagingFhirServerProcess } from '../helpers/fhir-paging.ts';
import { DEFAULT_QUOTA, medplumPhase, type MedplumBenchResult } from './sync-medplum.ts';
import { createTempDir } from './sqlite.ts';
import { int, markdownTable, mib, peakRss, ratio } from './stats.ts';

const PULL_TARGET = 2_000;
const PUSH_TARGET = 1_000;
/** The issue's target: the demo clinic plus 12 Synthea patients pushed to an empty Medplum project. */
const MEDPLUM_PUSH_TARGET_S = 120;

function log(message: string): void {
  process.stderr.write(`[bench sync] ${message}\n`);
}

interface Recorded {
  method: string;
  url: string;
  body?: string;
}

/** Wall time with at least one request in flight (body read included). */
interface Waiting {
  seconds: number;
}

/** fetch that remembers each request (references only: no copies of bodies) and times the waiting. */
function recordingFetch(into: Recorded[], waiting: Waiting): typeof fetch {
  let inFlight = 0;
  let since = 0;
  return async (input, init) => {
    into.push({ method: init?.method ?? 'GET', url: String(input), body: typeof init?.body === 'string' ? init.body : undefined });
    if (inFlight++ === 0) since = performance.now();
    try {
      const res = await fetch(input, init);
      const text = await res.text();
      return new Response(text, { status: res.status, statusText: res.statusText, headers: res.headers });
    } finally {
      if (--inFlight === 0) waiting.seconds += (performance.now() - since) / 1000;
    }
  };
}

function openHost(dir: string, fetchFn: typeof fetch): Host {
  return createHost({ dataDir: dir, key: randomBytes(32).toString('hex'), audit: false, sync: { fetch: fetchFn } });
}

interface Args {
  pull: number;
  push: number;
  synthea: number;
  json: boolean;
  router: boolean;
  medplum: boolean;
}

function parseArgs(argv: string[]): Args {
  const out: Args = { pull: 100_000, push: 10_000, synthea: 12, json: false, router: true, medplum: true };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--json') out.json = true;
    else if (flag === '--no-medplum') out.medplum = false;
    else if (flag === '--medplum-only') out.router = false;
    else if (flag === '--pull' || flag === '--push' || flag === '--synthea') out[flag.slice(2) as 'pull' | 'push' | 'synthea'] = Number(argv[++i]);
    else throw new Error(`Unknown flag ${flag}. Usage: npm run bench -- sync [--pull 100000] [--push 10000] [--synthea 12] [--no-medplum | --medplum-only] [--json]`);
  }
  return out;
}

function medplumReport(m: MedplumBenchResult): string {
  const pushRows = m.push.map((r) => [
    `push, ${r.label}`,
    `${int(r.pushed)} of ${int(r.changes)}${r.keptLocal ? ` (${r.keptLocal} kept local)` : ''}${r.held ? `, ${r.held} held` : ''}`,
    `${r.seconds.toFixed(0)} s`,
    `${(r.pushed / r.seconds).toFixed(1)}/s`,
    `${r.quotaWaitSeconds.toFixed(0)} s`,
    `${int(r.points)} points (${int(r.writes)} writes, ${int(r.searches)} searches)`,
    r.label === 'default quota' ? `>= ${r.quotaBoundSeconds} s` : '-',
    r.label === 'default quota' ? `${MEDPLUM_PUSH_TARGET_S} s ${r.seconds <= MEDPLUM_PUSH_TARGET_S ? 'met' : 'MISSED'}` : '',
  ]);
  const pull = m.pull;
  const rate = pull.resources / pull.seconds;
  const serverRate = pull.resources / pull.bareSeconds;
  const target = Math.min(PULL_TARGET, serverRate);
  const errors = [...m.push.flatMap((r) => r.errors), ...pull.errors];
  return (
    `\n## Against Medplum ${m.medplumVersion} (../shared/medplum-server), demo clinic + ${m.synthea} Synthea patients\n\n` +
    markdownTable(['', 'resources', 'time', 'rate', 'waiting for the quota', 'quota spent', 'default-quota bound', 'target'], pushRows) +
    '\n\n' +
    markdownTable(
      ['', 'resources', 'time', 'rate', 'server alone (same pages, parsed, not stored)', 'target'],
      [[
        'tenant pull',
        int(pull.resources),
        `${pull.seconds.toFixed(1)} s`,
        `${int(rate)}/s`,
        `${pull.bareSeconds.toFixed(1)} s = ${int(serverRate)}/s (${int(pull.requests)} requests)`,
        `min(2,000/s, server ${int(serverRate)}/s) ${rate >= target * 0.95 ? 'met' : 'MISSED'}`,
      ]],
    ) +
    `\n\nThe default quota is ${int(DEFAULT_QUOTA)} points a minute per membership and a write costs 100: a push spending P points cannot end before ` +
    `(ceil(P / 50,000) - 1) minutes. With the quota off the push runs at the server's own write rate.\n` +
    (errors.length ? `\nErrors: ${errors.slice(0, 6).join('; ')}\n` : '')
  );
}


async function pullPhase(count: number) {
  log(`pull: seeding ${int(count)} resources on the paging test remote (its own process)`);
  const server = await startPagingFhirServerProcess(count);
  const temp = createTempDir('outpost-bench-sync-pull-');
  const requests: Recorded[] = [];
  const waiting: Waiting = { seconds: 0 };
  const host = openHost(temp.dir, recordingFetch(requests, waiting));
  try {
    host.sync.config.set(DEFAULT_PROJECT_ID, { baseUrl: server.baseUrl, token: server.token });
    log('pull: running');
    // Time per progress phase (pull pages vs reconcile), to tell where a slow pull spends it.
    const phases: Record<string, number> = {};
    let phase = { name: 'start', at: performance.now() };
    const stop = host.sync.runner.onProgress((p) => {
      const now = performance.now();
      phases[phase.name] = (phases[phase.name] ?? 0) + (now - phase.at) / 1000;
      phase = { name: p.phase, at: now };
    });
    const started = performance.now();
    const summary = (await host.sync.runner.run({ pullOnly: true })) as SyncRunSummary;
    const seconds = (performance.now() - started) / 1000;
    stop();
    log(`pull: seconds by phase ${JSON.stringify(Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, Math.round(v * 10) / 10])))}`);
    log(`pull: ${int(summary.pulled)} in ${seconds.toFixed(1)} s${summary.errors.length ? `; errors: ${summary.errors.slice(0, 3).join('; ')}` : ''}`);
    // Baseline: the same GETs again, parsed, nothing stored.
    const gets = requests.filter((r) => r.method === 'GET');
    const bareStart = performance.now();
    let bytes = 0;
    for (const r of gets) {
      const res = await fetch(r.url, { headers: { authorization: `Bearer ${server.token}`, accept: 'application/fhir+json' } });
      const text = await res.text();
      bytes += text.length;
      JSON.parse(text);
    }
    const bareSeconds = (performance.now() - bareStart) / 1000;
    return { resources: summary.pulled, seconds, bareSeconds, waitingSeconds: waiting.seconds, requests: gets.length, bytes, errors: summary.errors };
  } finally {
    host.close();
    temp.dispose();
    server.close();
  }
}

async function pushPhase(count: number) {
  const server = await startFhirServer();
  const temp = createTempDir('outpost-bench-sync-push-');
  const requests: Recorded[] = [];
  const waiting: Waiting = { seconds: 0 };
  const host = openHost(temp.dir, recordingFetch(requests, waiting));
  try {
    log(`push: recording ${int(count)} local changes`);
    const patients = Math.max(1, Math.floor(count / 5));
    const ids: string[] = [];
    host.rawStore.db.transaction(() => {
      for (let i = 0; i < patients; i++) {
        const created = host.rawStore.create<Patient>({ resourceType: 'Patient', name: [{ family: `Bench${i}`, given: ['Sync'] }], gender: i % 2 ? 'female' : 'male', birthDate: '1980-01-01' });
        ids.push(created.resource.id!);
      }
      for (let i = 0; i < count - patients; i++) {
        host.rawStore.create({
          resourceType: 'Observation',
          status: 'final',
          code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
          subject: { reference: `Patient/${ids[i % ids.length]}` },
          effectiveDateTime: '2026-11-27T10:00:00Z',
          valueQuantity: { value: 60 + (i % 40), unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
        });
      }
    })();
    host.sync.config.set(DEFAULT_PROJECT_ID, { baseUrl: server.baseUrl, token: server.token });
    log('push: running');
    const started = performance.now();
    const summary = (await host.sync.runner.run({ pushOnly: true })) as SyncRunSummary;
    const seconds = (performance.now() - started) / 1000;
    log(`push: ${int(summary.pushed)} in ${seconds.toFixed(1)} s${summary.errors.length ? `; errors: ${summary.errors.slice(0, 3).join('; ')}` : ''}`);
    // Baseline: the same request bodies to a sink that reads them and answers a fixed small JSON.
    const posts = requests.filter((r) => r.method !== 'GET' && r.body !== undefined);
    const sink = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('{"resourceType":"Bundle","type":"batch-response"}'));
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/fhir/R4/`;
    const bareStart = performance.now();
    let bytes = 0;
    for (const r of posts) {
      bytes += r.body!.length;
      await (await fetch(sinkUrl, { method: r.method, body: r.body, headers: { 'content-type': 'application/fhir+json' } })).text();
    }
    const bareSeconds = (performance.now() - bareStart) / 1000;
    sink.close();
    // The remote's own share: the same Bundles replayed, one after the other, to a fresh router-backed
    // test server (validation, If-None-Exist searches and stores of MemoryRepository, no Outpost code).
    const fresh = await startFhirServer();
    const replayStart = performance.now();
    for (const r of posts) {
      const url = fresh.baseUrl + r.url.slice(server.baseUrl.length);
      await (await fetch(url, { method: r.method, body: r.body, headers: { authorization: `Bearer ${fresh.token}`, 'content-type': 'application/fhir+json' } })).text();
    }
    const remoteSeconds = (performance.now() - replayStart) / 1000;
    await fresh.close();
    return { resources: summary.pushed, seconds, bareSeconds, remoteSeconds, waitingSeconds: waiting.seconds, requests: posts.length, bytes, errors: summary.errors, held: summary.held };
  } finally {
    host.close();
    temp.dispose();
    await server.close();
  }
}

export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  loadFhirDefinitions();
  const runMedplum = async (): Promise<MedplumBenchResult | string | undefined> => {
    if (!args.medplum) return undefined;
    try {
      return await medplumPhase({ synthea: args.synthea, log });
    } catch (err) {
      // No kit here (or it would not start): the loopback rows still stand.
      return `The Medplum part did not run: ${(err as Error).message}`;
    }
  };
  const medplumText = (m: MedplumBenchResult | string | undefined) => (m === undefined ? '' : typeof m === 'string' ? `\n${m}\n` : medplumReport(m));
  if (!args.router) {
    const medplum = await runMedplum();
    process.stdout.write(args.json ? JSON.stringify({ medplum }, null, 2) + '\n' : `# Sync benchmark (node ${process.version})\n` + medplumText(medplum));
    return;
  }
  const push = await pushPhase(args.push);
  const pull = await pullPhase(args.pull);
  const rss = peakRss();
  const medplum = await runMedplum();
  const row = (name: string, r: { resources: number; seconds: number; bareSeconds: number; requests: number; bytes: number }, target: number) => {
    const perSecond = r.resources / r.seconds;
    return [
      name,
      int(r.resources),
      `${r.seconds.toFixed(1)} s`,
      `${int(perSecond)}/s`,
      `${int(target)}/s ${perSecond >= target ? 'met' : 'MISSED'}`,
      `${r.bareSeconds.toFixed(2)} s (${int(r.requests)} requests, ${mib(r.bytes)})`,
      ratio(r.seconds / r.bareSeconds),
    ];
  };
  if (args.json) {
    process.stdout.write(JSON.stringify({ push, pull, peakRssBytes: rss, medplum }, null, 2) + '\n');
    return;
  }
  process.stdout.write(
    `# Sync benchmark (node ${process.version})\n\n` +
      markdownTable(['', 'resources', 'time', 'rate', 'target', 'bare HTTP transfer of the same Bundles', 'sync / bare'], [row('push', push, PUSH_TARGET), row('pull', pull, PULL_TARGET)]) +
      `\n\nWaiting on the remote (at least one request in flight): push ${push.waitingSeconds.toFixed(1)} s of ${push.seconds.toFixed(1)} s, ` +
      `pull ${pull.waitingSeconds.toFixed(1)} s of ${pull.seconds.toFixed(1)} s. ` +
      `The push's test remote alone takes ${push.remoteSeconds.toFixed(1)} s for the same Bundles (replayed one by one to a fresh router-backed server).\n` +
      `\nPeak RSS (this process: Outpost, and the push phase's test remote): ${mib(rss)}\n` +
      (push.errors.length || pull.errors.length ? `\nErrors: ${[...push.errors, ...pull.errors].slice(0, 5).join('; ')}\n` : '') +
      medplumText(medplum),
  );
}
