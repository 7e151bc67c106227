// The sync runner against the loopback FHIR server: a run pushes the outbox; one run at a time in one
// process and across two store instances on one file (the lock row); a crashed holder's lock is taken
// over; progress reaches the emit hook; client credentials are fetched once and refreshed after a 401;
// the background loop syncs when the remote answers and stops with the host.
import type { Patient } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_PROJECT_ID } from '../../electron/host/db/project.ts';
import { createRunLock } from '../../electron/host/sync/run-lock.ts';
import type { SyncRunSummary } from '../../shared/contract/sync.ts';
import { startFhirServer, type TestFhirServer } from '../helpers/fhir-server.ts';
import { createMedplumAuth } from '../helpers/medplum-auth.ts';
import { makeHost, patient, tempDir, type TestHost } from '../host/helpers.ts';

let server: TestFhirServer;
const hosts: TestHost[] = [];

function host(options: Parameters<typeof makeHost>[0] = {}): TestHost {
  const h = makeHost({ ...options, sync: { runner: { remoteOptions: { baseDelayMs: 1, maxTries: 2 } }, ...options.sync } });
  hosts.push(h);
  return h;
}

async function remotePatients(): Promise<number> {
  const res = await fetch(`${server.baseUrl}Patient?_count=1000`, { headers: { authorization: `Bearer ${server.token}` } });
  return ((await res.json()) as { entry?: unknown[] }).entry?.length ?? 0;
}

beforeEach(async () => {
  server = await startFhirServer();
});
afterEach(async () => {
  for (const h of hosts.splice(0)) h.dispose();
  await server.close();
});

describe('sync runner', () => {
  it('a run pushes local changes, pulls remote ones and records when it finished', async () => {
    const h = host();
    h.sync.config.set(DEFAULT_PROJECT_ID, { baseUrl: server.baseUrl, token: server.token });
    for (const name of ['Ada', 'Bea', 'Cy']) await h.call('POST', 'Patient', patient(name));
    await server.repo.createResource(patient('Remote') as Patient);
    const summary = (await h.sync.runner.run()) as SyncRunSummary;
    expect(summary).toMatchObject({ project: DEFAULT_PROJECT_ID, pushed: 3, held: 0, conflicts: 0, errors: [], skipped: [] });
    expect(summary.pulled).toBeGreaterThanOrEqual(1);
    expect(await remotePatients()).toBe(4);
    const local = await h.call('GET', 'Patient?family=Remote');
    expect(local.body.entry).toHaveLength(1);
    const status = h.sync.runner.status(DEFAULT_PROJECT_ID);
    expect(status).toMatchObject({ online: true, running: false, lastSync: summary.finishedAt });
    expect(status.lastResult?.pushed).toBe(3);
  });

  it('two runs started at once: one runs, the other is told a sync is already running', async () => {
    const h = host();
    h.sync.config.set(DEFAULT_PROJECT_ID, { baseUrl: server.baseUrl, token: server.token });
    await h.call('POST', 'Patient', patient('Slow'));
    server.inject({ fault: { type: 'slow', ms: 300 } });
    const [first, second] = await Promise.all([h.sync.runner.run(), h.sync.runner.run()]);
    expect(first).toMatchObject({ pushed: 1 });
    expect(second).toEqual({ alreadyRunning: true, project: DEFAULT_PROJECT_ID });
    expect(await remotePatients()).toBe(1);
  });

  it('the lock holds across two store instances on one file, and frees when the run ends', async () => {
    const dataDir = tempDir();
    const a = host({ dataDir });
    const b = host({ dataDir });
    a.sync.config.set(DEFAULT_PROJECT_ID, { baseUrl: server.baseUrl, token: server.token });
    await a.call('POST', 'Patient', patient('Shared'));
    server.inject({ fault: { type: 'slow', ms: 300 } });
    const running = a.sync.runner.run();
    await new Promise((r) => setTimeout(r, 50));
    expect(b.sync.runner.status(DEFAULT_PROJECT_ID).running).toBe(true);
    expect(await b.sync.runner.run()).toEqual({ alreadyRunning: true, project: DEFAULT_PROJECT_ID });
    expect(await running).toMatchObject({ pushed: 1 });
    expect(await b.sync.runner.run()).toMatchObject({ pushed: 0, errors: [] });
    expect(await remotePatients()).toBe(1);
  });

  it('a lock left by a crashed process is taken over; a live holder elsewhere is respected until it expires', async () => {
    const h = host();
    h.sync.config.set(DEFAULT_PROJECT_ID, { baseUrl: server.baseUrl, token: server.token });
    const db = h.rawStore.db;
    const put = db.prepare('INSERT OR REPLACE INTO sync_lock (name, owner, pid, host, expires_at) VALUES (?, ?, ?, ?, ?)');
    // Same machine, a pid that does not exist, not yet expired: the holder crashed.
    put.run('sync', 'gone', 2 ** 22 + 12345, createRunLock(db).owner.split(':')[0], Date.now() + 60_000);
    expect(await h.sync.runner.run()).toMatchObject({ errors: [] });
    // Another machine's lock, alive: refused; once expired: taken over.
    put.run('sync', 'elsewhere', 1, 'other-machine', Date.now() + 60_000);
    expect(await h.sync.runner.run()).toEqual({ alreadyRunning: true, project: DEFAULT_PROJECT_ID });
    put.run('sync', 'elsewhere', 1, 'other-machine', Date.now() - 1);
    expect(await h.sync.runner.run()).toMatchObject({ errors: [] });
    expect(db.prepare('SELECT count(*) FROM sync_lock').pluck().get()).toBe(0);
  });

  it('progress reaches the emit hook as sync-progress events', async () => {
    const events: { event: string; payload: { phase: string; done: number; total?: number } }[] = [];
    const h = host({ emit: (event, payload) => void events.push({ event, payload: payload as never }) });
    h.sync.config.set(DEFAULT_PROJECT_ID, { baseUrl: server.baseUrl, token: server.token });
    await h.call('POST', 'Patient', patient('Progress'));
    await h.sync.runner.run();
    expect(events.every((e) => e.event === 'sync-progress')).toBe(true);
    expect(events.map((e) => e.payload.phase)).toEqual(expect.arrayContaining(['start', 'push', 'done']));
    expect(events.find((e) => e.payload.phase === 'push' && e.payload.done === 1)?.payload.total).toBe(1);
  });

  it('client credentials: one token request for several runs, a new token after the remote stops accepting it', async () => {
    await server.close();
    const auth = createMedplumAuth({ clients: [{ id: 'outpost-ws', secret: 's3cr3t-client' }] });
    server = await startFhirServer({ token: 'not-this-one', ...auth });
    const h = host();
    h.sync.config.set(DEFAULT_PROJECT_ID, { baseUrl: server.baseUrl, clientId: 'outpost-ws', clientSecret: 's3cr3t-client' });
    await h.call('POST', 'Patient', patient('One'));
    expect(await h.sync.runner.run()).toMatchObject({ pushed: 1, errors: [] });
    await h.call('POST', 'Patient', patient('Two'));
    expect(await h.sync.runner.run()).toMatchObject({ pushed: 1, errors: [] });
    expect(auth.calls.filter((c) => c.path === '/oauth2/token')).toHaveLength(1);
    await h.call('POST', 'Patient', patient('Three'));
    auth.expireAll();
    expect(await h.sync.runner.run()).toMatchObject({ pushed: 1, errors: [] });
    expect(auth.calls.filter((c) => c.path === '/oauth2/token')).toEqual([
      { path: '/oauth2/token', grant: 'client_credentials', status: 200 },
      { path: '/oauth2/token', grant: 'client_credentials', status: 200 },
    ]);
    // Wrong secret: the run reports it, in words without the secret.
    h.sync.config.set(DEFAULT_PROJECT_ID, { baseUrl: server.baseUrl, clientId: 'outpost-ws', clientSecret: 'wrong-secret' });
    await h.call('POST', 'Patient', patient('Four'));
    const refused = (await h.sync.runner.run()) as SyncRunSummary;
    expect(refused.unauthorized).toBe(true);
    expect(JSON.stringify(refused)).not.toContain('wrong-secret');
  });

  it('closing the host stops a run in flight: it ends with what it managed, never an unhandled failure', async () => {
    const h = host();
    h.sync.config.set(DEFAULT_PROJECT_ID, { baseUrl: server.baseUrl, token: server.token });
    await h.call('POST', 'Patient', patient('Closing'));
    server.inject({ fault: { type: 'slow', ms: 300 } });
    const running = h.sync.runner.run();
    await new Promise((r) => setTimeout(r, 50));
    h.close();
    const result = (await running) as SyncRunSummary;
    expect(result.errors).toContain('Stopped before the end');
  });

  it('background sync runs when the remote answers, backs off while it does not, and stops with the host', async () => {
    // As the app and browser mode start it: background on, from the host's options.
    const h = host({ sync: { background: { initialDelayMs: 50, intervalMs: 60_000 } } });
    h.sync.config.set(DEFAULT_PROJECT_ID, { baseUrl: server.baseUrl, token: server.token });
    await h.call('POST', 'Patient', patient('Background'));
    for (let i = 0; i < 100 && !h.sync.runner.status(DEFAULT_PROJECT_ID).lastSync; i++) await new Promise((r) => setTimeout(r, 20));
    expect(h.sync.runner.status(DEFAULT_PROJECT_ID)).toMatchObject({ online: true, lastResult: { pushed: 1 } });
    expect(await remotePatients()).toBe(1);
    // A UI host pulls in short pages (one short write transaction each).
    expect(server.requests.some((r) => r.url.startsWith('Patient?') && r.url.includes('_count=250'))).toBe(true);
    h.sync.runner.stop();

    // Offline: the probe fails, nothing runs, the status says offline.
    const offline = host();
    offline.sync.config.set(DEFAULT_PROJECT_ID, { baseUrl: 'http://127.0.0.1:9/fhir/R4/', token: 't' });
    offline.sync.runner.startBackground({ initialDelayMs: 1, offlineRetryMs: 10 });
    await new Promise((r) => setTimeout(r, 150));
    expect(offline.sync.runner.status(DEFAULT_PROJECT_ID)).toMatchObject({ online: false, running: false });
    expect(offline.sync.runner.status(DEFAULT_PROJECT_ID).lastSync).toBeUndefined();
  });
});
