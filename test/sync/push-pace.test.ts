// Push at the server's pace (issue 15): a Medplum-like quota (RateLimit header, 429 without Retry-After)
// is read and waited out within the run; a 409 on a create is the server's contention, retried, never
// a conflict; what Medplum would refuse by design (AccessPolicy criteria with chains or _has) and what
// the workstation invented for itself stay local without being reported as failures.
import type { AccessPolicy, Patient, Practitioner } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStore, type Store } from '../../electron/host/store/index.ts';
import { createOutbox, outboxCounts, syncMigrations } from '../../electron/host/sync/index.ts';
import { keepLocalOnly } from '../../electron/host/sync/local-only.ts';
import { pushOutbox } from '../../electron/host/sync/push/push.ts';
import { createRemote, type Remote } from '../../electron/host/sync/remote/remote.ts';
import { startFhirServer, type TestFhirServer } from '../helpers/fhir-server.ts';
import { remoteSearch } from './workstation.ts';

let server: TestFhirServer;
let store: Store;
let remote: Remote;

beforeEach(async () => {
  server = await startFhirServer();
  const outbox = createOutbox();
  store = createStore({ path: ':memory:', defaultProject: 'p1', migrations: [...syncMigrations], onChange: outbox.onChange });
  remote = createRemote({ baseUrl: server.baseUrl, token: server.token });
});
afterEach(async () => {
  store.close();
  await server.close();
});

const patient = (family: string): Patient => ({ resourceType: 'Patient', name: [{ family }] });

describe('push at the server pace', () => {
  it('a quota of 20 writes a window: 50 creates land in one run, waiting for the resets it announces, no duplicates', async () => {
    for (let i = 0; i < 50; i++) store.create(patient(`Paced${i}`));
    server.setQuota({ points: 2_000, windowMs: 1_500 });
    const started = Date.now();
    const summary = await pushOutbox({ db: store.db, remote });
    expect(summary).toMatchObject({ pushed: 50, retryLater: 0, held: 0, conflicts: 0, failures: [] });
    // The first Bundle ran into the quota (nothing was announced yet); after that every Bundle fit.
    expect(server.throttled).toBe(30);
    expect(remote.pacer.snapshot().waits).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * 1_500);
    server.setQuota(undefined);
    expect(await remoteSearch(server, 'Patient?_count=1000')).toHaveLength(50);
    expect(outboxCounts(store.db).pending).toBe(0);
  });

  it('a quota the server announces but does not enforce (Medplum with enableFhirQuota false) is not waited for', async () => {
    for (let i = 0; i < 50; i++) store.create(patient(`Unmetered${i}`));
    server.setQuota({ points: 2_000, windowMs: 60_000, enforced: false });
    // Bundles of 10: after the first two the announced window is spent (r=0) for the next minute.
    const summary = await pushOutbox({ db: store.db, remote, batchSize: 10 });
    expect(summary).toMatchObject({ pushed: 50, retryLater: 0, held: 0, failures: [] });
    expect(remote.pacer.snapshot()).toMatchObject({ waits: 0, waitedMs: 0, remaining: 0 });
    expect(server.throttled).toBe(0);
    expect(await remoteSearch(server, 'Patient?_count=1000')).toHaveLength(50);
  });

  it('a window that resets further away than the push may wait leaves the rest for a later run, with the reason', async () => {
    for (let i = 0; i < 5; i++) store.create(patient(`Slow${i}`));
    server.setQuota({ points: 200, windowMs: 60_000 });
    remote = createRemote({ baseUrl: server.baseUrl, token: server.token, maxQuotaWaitMs: 1_000 });
    const summary = await pushOutbox({ db: store.db, remote });
    expect(summary).toMatchObject({ pushed: 2, retryLater: 3 });
    expect(summary.failures).toEqual([{ what: 'left for a later run', reason: expect.stringMatching(/quota is spent for another \d+ s/), count: 3, examples: expect.any(Array) }]);
    const rows = store.db.prepare("SELECT last_error, next_attempt_at FROM sync_outbox WHERE state = 'pending'").all() as { last_error: string; next_attempt_at: number }[];
    expect(rows).toHaveLength(3);
    // Not tried again before the window resets.
    expect(rows.every((r) => r.next_attempt_at > Date.now() + 50_000)).toBe(true);
  });

  it('a 409 on a create (the server serializing two writers) is sent again; no conflict record, no duplicate', async () => {
    const ids = [1, 2, 3].map((i) => store.create(patient(`Contended${i}`)).resource.id as string);
    server.inject({ fault: { type: 'status', status: 409 }, match: (r) => r.inBatch === true && r.method === 'POST', times: 2 });
    const summary = await pushOutbox({ db: store.db, remote, sleep: async () => undefined });
    expect(summary).toMatchObject({ pushed: 3, conflicts: 0, held: 0, retryLater: 0 });
    expect(outboxCounts(store.db)).toEqual({ pending: 0, held: 0, conflict: 0, quarantined: 0 });
    expect(store.db.prepare('SELECT count(*) AS n FROM sync_conflict').get()).toEqual({ n: 0 });
    const remotePatients = await remoteSearch<Patient>(server, 'Patient?_count=100');
    expect(remotePatients.map((p) => p.name?.[0]?.family).sort()).toEqual(['Contended1', 'Contended2', 'Contended3']);
    expect(ids).toHaveLength(3);
  });

  it('a 409 on every try of a create leaves it for a later run with the reason, never a conflict', async () => {
    store.create(patient('AlwaysContended'));
    server.inject({ fault: { type: 'status', status: 409 }, match: (r) => r.inBatch === true, times: 3 });
    const summary = await pushOutbox({ db: store.db, remote, sleep: async () => undefined });
    expect(summary).toMatchObject({ pushed: 0, conflicts: 0, retryLater: 1 });
    expect(summary.failures[0]).toMatchObject({ what: 'left for a later run', reason: expect.stringContaining('409') });
    expect(outboxCounts(store.db)).toMatchObject({ pending: 1, conflict: 0 });
  });

  it('an AccessPolicy with chained or _has criteria stays local (kept, not held, not an error); a plain one is pushed', async () => {
    const portable = store.create<AccessPolicy>({ resourceType: 'AccessPolicy', name: 'Front desk', resource: [{ resourceType: 'Patient', criteria: 'Patient?active=true' }] }).resource;
    store.create<AccessPolicy>({ resourceType: 'AccessPolicy', name: 'Nurse', resource: [{ resourceType: 'Patient', criteria: 'Patient?_has:CareTeam:patient:participant=%profile' }] });
    store.create<AccessPolicy>({ resourceType: 'AccessPolicy', name: 'Lab', resource: [{ resourceType: 'Observation', criteria: 'Observation?subject:Patient.name=Smith' }] });
    const summary = await pushOutbox({ db: store.db, remote });
    expect(summary).toMatchObject({ pushed: 1, keptLocal: 2, held: 0, quarantined: 0, retryLater: 0, failures: [] });
    expect(outboxCounts(store.db)).toEqual({ pending: 0, held: 0, conflict: 0, quarantined: 0 });
    const sent = server.requests.filter((r) => r.inBatch).map((r) => (r.body as AccessPolicy).name);
    expect(sent).toEqual(['Front desk']);
    expect((await remoteSearch<AccessPolicy>(server, 'AccessPolicy')).map((p) => p.id)).toEqual([expect.any(String)]);
    expect(portable.id).toBeDefined();
  });

  it("the local owner's profile kept local is never pushed, not even after an edit", async () => {
    const owner = store.create<Practitioner>({ resourceType: 'Practitioner', name: [{ family: 'Owner' }] }).resource;
    keepLocalOnly(store.db, { type: 'Practitioner', id: owner.id as string, project: 'p1', reason: 'local owner' }, Date.now());
    store.create(patient('Shared'));
    expect(await pushOutbox({ db: store.db, remote })).toMatchObject({ pushed: 1, keptLocal: 0 });
    store.update<Practitioner>({ ...store.read<Practitioner>('Practitioner', owner.id as string), gender: 'female' });
    expect(await pushOutbox({ db: store.db, remote })).toMatchObject({ pushed: 0, keptLocal: 1 });
    expect(await remoteSearch(server, 'Practitioner')).toHaveLength(0);
    expect(outboxCounts(store.db).pending).toBe(0);
  });

  it('Bundles stay under the remote\'s body limit (Medplum: 1 MB); one it still refuses as too large is sent in halves, nothing held', async () => {
    const note = 'x'.repeat(30_000);
    const big = (family: string): Patient => ({ ...patient(family), text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${note}</div>` } });
    await server.close();
    server = await startFhirServer({ maxBodyBytes: 1_048_576 });
    remote = createRemote({ baseUrl: server.baseUrl, token: server.token });
    for (let i = 0; i < 60; i++) store.create(big(`Large${i}`));
    expect(await pushOutbox({ db: store.db, remote })).toMatchObject({ pushed: 60, held: 0, failures: [] });
    const bundles = server.requests.filter((r) => r.method === 'POST' && !r.inBatch);
    expect(bundles.length).toBeGreaterThanOrEqual(2);
    expect(bundles.every((r) => r.outcome === 200)).toBe(true);

    // A remote with a smaller limit than Outpost assumes: the refused Bundles are halved until they pass.
    await server.close();
    server = await startFhirServer({ maxBodyBytes: 200_000 });
    remote = createRemote({ baseUrl: server.baseUrl, token: server.token });
    for (let i = 0; i < 20; i++) store.create(big(`Larger${i}`));
    expect(await pushOutbox({ db: store.db, remote, sleep: async () => undefined })).toMatchObject({ pushed: 20, held: 0, retryLater: 0, failures: [] });
    expect(server.requests.some((r) => r.outcome === 400)).toBe(true);
    expect(await remoteSearch(server, 'Patient?_count=100')).toHaveLength(20);
  });
});
