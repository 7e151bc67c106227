// AuditEvents reach the remote once: batched, a lost answer gives no duplicate, a refused one stays queued.
import type { AuditEvent } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pushAuditEvents } from '../../electron/host/sync/audit-push.ts';
import { pushOutbox } from '../../electron/host/sync/push.ts';
import { createRemote, type Remote } from '../../electron/host/sync/remote.ts';
import { startFhirServer, type TestFhirServer } from '../helpers/fhir-server.ts';
import { makeHost, type TestHost } from '../host/helpers.ts';
import { remoteSearch } from './workstation.ts';

let server: TestFhirServer;
let host: TestHost;
let remote: Remote;

beforeEach(async () => {
  server = await startFhirServer();
  host = makeHost({ audit: true });
  remote = createRemote({ baseUrl: server.baseUrl, token: server.token, sleep: async () => undefined });
});
afterEach(async () => {
  host.dispose();
  await server.close();
});

const queued = () => (host.store.db.prepare('SELECT count(*) AS n FROM audit_outbox WHERE pushed_at IS NULL').get() as { n: number }).n;

async function someEvents(n: number): Promise<string> {
  const created = await host.call('POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Audited' }] });
  for (let i = 1; i < n; i++) await host.call('GET', `Patient/${created.body.id}`);
  host.audit.flush();
  return created.body.id as string;
}

describe('AuditEvent push', () => {
  it('pushes every queued event in batch Bundles and marks them pushed; a second run sends nothing', async () => {
    const patientId = await someEvents(7);
    await pushOutbox({ db: host.store.db, remote });
    const total = queued();
    expect(total).toBeGreaterThanOrEqual(7);
    const summary = await pushAuditEvents({ db: host.store.db, remote, batchSize: 3 });
    expect(summary).toEqual({ pushed: total, failed: 0 });
    expect(queued()).toBe(0);
    expect(server.requests.filter((r) => !r.inBatch && r.method === 'POST' && r.url === '')).toHaveLength(1 + Math.ceil(total / 3));
    const events = await remoteSearch<AuditEvent>(server, 'AuditEvent?_count=1000');
    expect(events).toHaveLength(total);
    // References name the remote's ids once the resource is there.
    const remotePatient = (await remoteSearch<{ id: string; resourceType: 'Patient' }>(server, 'Patient'))[0];
    const reads = events.filter((e) => e.action === 'R' && e.entity?.[0]?.what);
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((e) => e.entity?.[0]?.what?.reference === `Patient/${remotePatient.id}`)).toBe(true);
    expect(patientId).not.toBe(remotePatient.id);
    const before = server.requests.length;
    expect(await pushAuditEvents({ db: host.store.db, remote })).toEqual({ pushed: 0, failed: 0 });
    expect(server.requests.length).toBe(before);
  });

  it('a batch whose answer was lost is sent again without duplicates (tag + If-None-Exist)', async () => {
    await someEvents(4);
    const total = queued();
    server.inject({ fault: { type: 'drop', afterCommit: true }, match: (r) => !r.inBatch && r.method === 'POST' });
    const summary = await pushAuditEvents({ db: host.store.db, remote });
    expect(summary).toEqual({ pushed: total, failed: 0 });
    expect(await remoteSearch(server, 'AuditEvent?_count=1000')).toHaveLength(total);
    const entries = server.requests.filter((r) => r.inBatch);
    expect(entries).toHaveLength(2 * total);
    expect(entries.every((r) => String(r.headers['if-none-exist']).startsWith('_tag='))).toBe(true);
  });

  it('a refused entry stays queued for the next run; the others are marked pushed', async () => {
    await someEvents(5);
    const total = queued();
    server.inject({ fault: { type: 'status', status: 500 }, match: (r) => r.inBatch === true });
    const first = await pushAuditEvents({ db: host.store.db, remote });
    expect(first).toEqual({ pushed: total - 1, failed: 1 });
    expect(queued()).toBe(1);
    expect(await pushAuditEvents({ db: host.store.db, remote })).toEqual({ pushed: 1, failed: 0 });
    expect(await remoteSearch(server, 'AuditEvent?_count=1000')).toHaveLength(total);
  });
});
