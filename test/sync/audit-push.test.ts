// AuditEvents reach the remote once: batched, a lost answer gives no duplicate, a refused one stays
// queued with its reason.
import type { AuditEvent } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pushAuditEvents } from '../../electron/host/sync/push/audit-push.ts';
import { pushOutbox } from '../../electron/host/sync/push/push.ts';
import { createRemote, type Remote } from '../../electron/host/sync/remote/remote.ts';
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

const queued = () => (host.rawStore.db.prepare('SELECT count(*) AS n FROM audit_outbox WHERE pushed_at IS NULL').get() as { n: number }).n;

async function someEvents(n: number): Promise<string> {
  const created = await host.call('POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Audited' }] });
  for (let i = 1; i < n; i++) await host.call('GET', `Patient/${created.body.id}`);
  host.audit.flush();
  return created.body.id as string;
}

describe('AuditEvent push', () => {
  it('pushes every queued event in batch Bundles and marks them pushed; a second run sends nothing', async () => {
    const patientId = await someEvents(7);
    await pushOutbox({ db: host.rawStore.db, remote });
    const total = queued();
    expect(total).toBeGreaterThanOrEqual(7);
    const summary = await pushAuditEvents({ db: host.rawStore.db, remote, batchSize: 3 });
    expect(summary).toEqual({ pushed: total, failed: 0, failures: [] });
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
    expect(await pushAuditEvents({ db: host.rawStore.db, remote })).toEqual({ pushed: 0, failed: 0, failures: [] });
    expect(server.requests.length).toBe(before);
  });

  it('a batch whose answer was lost is not sent again: the events are found by their tag, no duplicates', async () => {
    await someEvents(4);
    const total = queued();
    server.inject({ fault: { type: 'drop', afterCommit: true }, match: (r) => !r.inBatch && r.method === 'POST' });
    const summary = await pushAuditEvents({ db: host.rawStore.db, remote, sleep: async () => undefined });
    expect(summary).toEqual({ pushed: total, failed: 0, failures: [] });
    const entries = server.requests.filter((r) => r.inBatch);
    expect(entries).toHaveLength(total);
    expect(entries.every((r) => r.headers['if-none-exist'] === undefined)).toBe(true);
    expect(server.requests.filter((r) => r.method === 'GET').map((r) => r.url)).toEqual([expect.stringMatching(/^AuditEvent\?_tag=[^&]+(%2C|,)/)]);
    expect(await remoteSearch(server, 'AuditEvent?_count=1000')).toHaveLength(total);
    expect(queued()).toBe(0);
  });

  it('an entry refused transiently goes again in the same run; refused every time it stays queued with its reason', async () => {
    await someEvents(5);
    const total = queued();
    server.inject({ fault: { type: 'status', status: 500 }, match: (r) => r.inBatch === true });
    expect(await pushAuditEvents({ db: host.rawStore.db, remote, sleep: async () => undefined })).toEqual({ pushed: total, failed: 0, failures: [] });
    expect(await remoteSearch(server, 'AuditEvent?_count=1000')).toHaveLength(total);

    await someEvents(3);
    const more = queued();
    // One event (the first sent) is refused on each of its three tries.
    let target: string | undefined;
    const tagOf = (body: unknown) => (body as AuditEvent | undefined)?.meta?.tag?.[0]?.code;
    server.inject({ fault: { type: 'status', status: 503 }, match: (r) => r.inBatch === true && (target ??= tagOf(r.body)) === tagOf(r.body), times: 3 });
    const first = await pushAuditEvents({ db: host.rawStore.db, remote, sleep: async () => undefined });
    expect(first).toEqual({
      pushed: more - 1,
      failed: 1,
      failures: [{ what: 'not pushed (next run)', reason: expect.stringContaining('503'), count: 1, examples: [expect.stringMatching(/^AuditEvent\//)] }],
    });
    expect(queued()).toBe(1);
    expect(await pushAuditEvents({ db: host.rawStore.db, remote })).toEqual({ pushed: 1, failed: 0, failures: [] });
    expect(await remoteSearch(server, 'AuditEvent?_count=1000')).toHaveLength(total + more);
  });
});
