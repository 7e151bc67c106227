// The Medplum part of `npm run bench -- sync`: sync against the real server (../shared/medplum-server,
// or the one OUTPOST_MEDPLUM_ENV names), each phase on a fresh tenant:
//   push, default quota   the demo clinic plus N more Synthea patients, from a fresh data folder, one
//                         push-only run (Medplum's default quota: 50,000 points a minute per membership,
//                         100 a write); next to the quota's own lower bound for the points it spent
//   push, quota off       the same clinic to a tenant whose quota is off (enableFhirQuota false, set by
//                         the super admin): the server's own write throughput, what bounds it then
//   tenant pull           the first tenant bootstrapped into an empty folder (`--tenant`), next to the
//                         same pages fetched again and parsed, nothing stored: the server's own limit
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Bundle } from '@medplum/fhirtypes';
import { createHost, type Host } from '../../electron/host/host.ts';
import { seedDemo } from '../../electron/host/seed/demo.ts';
import { DEMO_SYNTHEA_FILES, SYNTHEA_DIR } from '../../electron/host/seed/fixtures.ts';
import { DEFAULT_PROJECT_ID } from '../../electron/host/db/project.ts';
import { parseRateLimit, QUOTA_COST } from '../../electron/host/sync/remote/quota.ts';
import type { SyncRunSummary } from '../../shared/contract/sync.ts';
import { ensureKit, freshTenant, http, type KitEnv, type Tenant } from '../medplum/kit.ts';
import { createTempDir } from './sqlite.ts';

/** Medplum's default FHIR quota per membership and window. */
export const DEFAULT_QUOTA = 50_000;
const WINDOW_S = 60;

interface Recorded {
  method: string;
  url: string;
  /** Entries of a batch Bundle POSTed (0 for other requests). */
  entries: number;
}

function recordingFetch(into: Recorded[]): typeof fetch {
  return async (input, init) => {
    let entries = 0;
    if (init?.method === 'POST' && typeof init.body === 'string' && init.body.startsWith('{"resourceType":"Bundle"')) {
      entries = ((JSON.parse(init.body) as Bundle).entry ?? []).length;
    }
    into.push({ method: init?.method ?? 'GET', url: String(input), entries });
    return fetch(input, init);
  };
}

export interface MedplumPushResult {
  label: string;
  changes: number;
  pushed: number;
  keptLocal: number;
  held: number;
  seconds: number;
  quotaWaitSeconds: number;
  writes: number;
  searches: number;
  /** Quota points the run spent (writes 100, searches 20). */
  points: number;
  /** The least time the default quota allows for those points. */
  quotaBoundSeconds: number;
  errors: string[];
}

export interface MedplumPullResult {
  resources: number;
  seconds: number;
  bareSeconds: number;
  requests: number;
  errors: string[];
}

export interface MedplumBenchResult {
  medplumVersion: string;
  synthea: number;
  push: MedplumPushResult[];
  pull: MedplumPullResult;
}

/** The demo clinic plus `synthea` more Synthea patients, in a new encrypted data folder. */
async function clinicFolder(synthea: number, fetchFn: typeof fetch): Promise<{ host: Host; dispose(): void; changes: number }> {
  const temp = createTempDir('outpost-bench-medplum-');
  const host = createHost({ dataDir: temp.dir, key: randomBytes(32).toString('hex'), sync: { fetch: fetchFn } });
  await seedDemo(host);
  const extra = readdirSync(SYNTHEA_DIR)
    .filter((f) => f.endsWith('.json.gz') && !DEMO_SYNTHEA_FILES.includes(f) && !f.startsWith('hospitalInformation'))
    .sort()
    .slice(0, synthea);
  for (const file of extra) {
    host.rawStore.processBundle(JSON.parse(gunzipSync(readFileSync(join(SYNTHEA_DIR, file))).toString('utf8')) as Bundle, { project: DEFAULT_PROJECT_ID, validation: 'structure' });
  }
  const changes = host.rawStore.db.prepare("SELECT count(*) FROM sync_outbox WHERE state = 'pending'").pluck().get() as number;
  return { host, changes, dispose: () => (host.close(), temp.dispose()) };
}

async function pushRun(label: string, tenant: Tenant, synthea: number, log: (m: string) => void): Promise<MedplumPushResult> {
  const requests: Recorded[] = [];
  const clinic = await clinicFolder(synthea, recordingFetch(requests));
  try {
    clinic.host.sync.config.set(DEFAULT_PROJECT_ID, { baseUrl: tenant.env.fhirUrl, clientId: tenant.clientId, clientSecret: tenant.clientSecret });
    log(`push (${label}): ${clinic.changes} changes`);
    let lastLog = 0;
    const stop = clinic.host.sync.runner.onProgress((p) => {
      if (Date.now() - lastLog > 30_000) {
        lastLog = Date.now();
        log(`push (${label}): ${p.phase} ${p.done}/${p.total ?? '?'}`);
      }
    });
    const started = performance.now();
    const summary = (await clinic.host.sync.runner.run({ project: DEFAULT_PROJECT_ID, pushOnly: true })) as SyncRunSummary;
    const seconds = (performance.now() - started) / 1000;
    stop();
    const fhir = requests.filter((r) => r.url.includes('/fhir/R4/'));
    const writes = fhir.reduce((n, r) => n + r.entries, 0);
    const searches = fhir.filter((r) => r.method === 'GET' && r.url.includes('?')).length;
    const points = writes * QUOTA_COST.write + searches * QUOTA_COST.search;
    log(`push (${label}): ${summary.pushed} in ${seconds.toFixed(0)} s, waited ${(summary.quotaWaitMs / 1000).toFixed(0)} s for the quota${summary.errors.length ? `; ${summary.errors.slice(0, 3).join('; ')}` : ''}`);
    return {
      label,
      changes: clinic.changes,
      pushed: summary.pushed,
      keptLocal: summary.keptLocal,
      held: summary.held + summary.quarantined,
      seconds,
      quotaWaitSeconds: summary.quotaWaitMs / 1000,
      writes,
      searches,
      points,
      quotaBoundSeconds: (Math.ceil(points / DEFAULT_QUOTA) - 1) * WINDOW_S,
      errors: summary.errors,
    };
  } finally {
    clinic.dispose();
  }
}

/** Waits until the client's quota window has reset (a pull measured on a spent window would measure the wait). */
async function freshWindow(env: KitEnv, tenant: Tenant): Promise<void> {
  const probe = await http(env, 'GET', 'fhir/R4/Patient?_count=1', { token: await tenant.clientToken() });
  const announced = parseRateLimit(probe.headers.get('ratelimit'));
  if (announced) await new Promise((r) => setTimeout(r, announced.resetMs + 1_000));
}

async function pullRun(env: KitEnv, tenant: Tenant, log: (m: string) => void): Promise<MedplumPullResult> {
  await freshWindow(env, tenant);
  const requests: Recorded[] = [];
  const temp = createTempDir('outpost-bench-medplum-pull-');
  const host = createHost({ dataDir: temp.dir, key: randomBytes(32).toString('hex'), sync: { fetch: recordingFetch(requests) } });
  try {
    host.sync.config.set(DEFAULT_PROJECT_ID, { baseUrl: env.fhirUrl, clientId: tenant.clientId, clientSecret: tenant.clientSecret });
    log('tenant pull: running');
    const started = performance.now();
    const summary = (await host.sync.runner.run({ project: DEFAULT_PROJECT_ID, tenant: true, pullOnly: true })) as SyncRunSummary;
    const seconds = (performance.now() - started) / 1000;
    log(`tenant pull: ${summary.pulled} in ${seconds.toFixed(1)} s${summary.errors.length ? `; ${summary.errors.slice(0, 3).join('; ')}` : ''}`);
    // The server's own limit: the same page URLs (searches, counts, CapabilityStatement) fetched again, one
    // after the other as the pull does, and parsed; nothing stored.
    const gets = requests.filter((r) => r.method === 'GET' && r.url.includes('/fhir/R4/'));
    await freshWindow(env, tenant);
    const token = await tenant.clientToken();
    const bareStart = performance.now();
    for (const r of gets) {
      const res = await fetch(r.url, { headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json' } });
      JSON.parse(await res.text());
    }
    const bareSeconds = (performance.now() - bareStart) / 1000;
    return { resources: summary.pulled, seconds, bareSeconds, requests: gets.length, errors: summary.errors };
  } finally {
    host.close();
    temp.dispose();
  }
}

export async function medplumPhase(options: { synthea: number; log: (m: string) => void }): Promise<MedplumBenchResult> {
  const kit = await ensureKit(options.log);
  try {
    const env = JSON.parse(readFileSync(kit.envFile, 'utf8')) as KitEnv;
    const quota = await freshTenant(env, 'bench-quota');
    const push = [await pushRun('default quota', quota, options.synthea, options.log)];
    const unmetered = await freshTenant(env, 'bench-no-quota');
    await unmetered.setSystemSettings([{ name: 'enableFhirQuota', valueBoolean: false }]);
    push.push(await pushRun('quota off', unmetered, options.synthea, options.log));
    const pull = await pullRun(env, quota, options.log);
    return { medplumVersion: env.medplumVersion, synthea: options.synthea, push, pull };
  } finally {
    kit.release();
  }
}
