// Push scenarios against a real FHIR router over HTTP: offline changes land once, in dependency order,
// with references rewritten; failures hold only what they must; conflicts never overwrite the remote.
import type { Bundle, Encounter, Observation, Patient, Provenance, Resource } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStore, type Store } from '../../electron/host/store/index.ts';
import { createOutbox, outboxCounts, syncMigrations } from '../../electron/host/sync/index.ts';
import { pushOutbox } from '../../electron/host/sync/push/push.ts';
import { OUTPOST_ID_SYSTEM } from '../../electron/host/sync/references.ts';
import { createRemote, type Remote } from '../../electron/host/sync/remote/remote.ts';
import { startFhirServer, type TestFhirServer } from '../helpers/fhir-server.ts';

let server: TestFhirServer;
let store: Store;
let remote: Remote;
let sleeps: number[];

beforeEach(async () => {
  server = await startFhirServer();
  const outbox = createOutbox();
  store = createStore({ path: ':memory:', defaultProject: 'p1', migrations: [...syncMigrations], onChange: outbox.onChange });
  sleeps = [];
  remote = createRemote({ baseUrl: server.baseUrl, token: server.token, sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 });
});
afterEach(async () => {
  store.close();
  await server.close();
});

async function remoteSearch<T extends Resource>(query: string): Promise<T[]> {
  const res = await fetch(server.baseUrl + query, { headers: { authorization: `Bearer ${server.token}` } });
  const bundle = (await res.json()) as Bundle<T>;
  return (bundle.entry ?? []).map((e) => e.resource as T);
}

function remoteIdOf(type: string, localId: string): string | undefined {
  return (store.db.prepare('SELECT remote_id FROM sync_id_map WHERE type = ? AND local_id = ?').get(type, localId) as { remote_id: string } | undefined)?.remote_id;
}

const patient = (family: string): Patient => ({ resourceType: 'Patient', name: [{ family }] });

describe('push', () => {
  it('Observation, Encounter, Patient created offline (in that order) land Patient first with references rewritten', async () => {
    store.update<Observation>({ resourceType: 'Observation', id: 'obs-1', status: 'final', code: { text: 'pulse' }, subject: { reference: 'Patient/pat-1' }, encounter: { reference: 'Encounter/enc-1' } });
    store.update<Encounter>({ resourceType: 'Encounter', id: 'enc-1', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/pat-1' } });
    store.update<Patient>({ ...patient('Offline'), id: 'pat-1' });
    const summary = await pushOutbox({ db: store.db, remote });
    expect(summary).toMatchObject({ pushed: 3, held: 0, conflicts: 0, retryLater: 0 });
    const posts = server.requests.filter((r) => r.method === 'POST' && r.inBatch).map((r) => r.url);
    expect(posts).toEqual(['Patient', 'Encounter', 'Observation']);
    const patId = remoteIdOf('Patient', 'pat-1');
    const encId = remoteIdOf('Encounter', 'enc-1');
    const [obs] = await remoteSearch<Observation>(`Observation?identifier=${encodeURIComponent(`${OUTPOST_ID_SYSTEM}|obs-1`)}`);
    expect(obs.subject?.reference).toBe(`Patient/${patId}`);
    expect(obs.encounter?.reference).toBe(`Encounter/${encId}`);
    expect(outboxCounts(store.db)).toEqual({ pending: 0, held: 0, conflict: 0, quarantined: 0 });
    // The local store keeps its own ids and references.
    expect(store.read<Observation>('Observation', 'obs-1').subject?.reference).toBe('Patient/pat-1');
  });

  it('a connection dropped after the server committed: the retry looks it up by its Outpost identifier and does not send it again', async () => {
    const local = store.create(patient('Dropped')).resource;
    server.inject({ fault: { type: 'drop', afterCommit: true }, match: (r) => r.method === 'POST' });
    const summary = await pushOutbox({ db: store.db, remote, sleep: async () => undefined });
    expect(summary).toMatchObject({ pushed: 1, retryLater: 0, failures: [] });
    // A first try is a plain create (no If-None-Exist: Medplum charges 40 more points for one).
    const creates = server.requests.filter((r) => r.method === 'POST' && r.inBatch);
    expect(creates).toHaveLength(1);
    expect(creates[0].headers['if-none-exist']).toBeUndefined();
    expect(server.requests.filter((r) => r.method === 'GET').map((r) => r.url)).toEqual([
      `Patient?identifier=${encodeURIComponent(`${OUTPOST_ID_SYSTEM}|${local.id}`)}&_count=100`,
    ]);
    const found = await remoteSearch<Patient>(`Patient?identifier=${encodeURIComponent(`${OUTPOST_ID_SYSTEM}|${local.id}`)}`);
    expect(found).toHaveLength(1);
    expect(remoteIdOf('Patient', local.id as string)).toBe(found[0].id);
  });

  it('a type without identifier (Provenance) is made idempotent by a tag: a dropped answer gives no duplicate', async () => {
    const pat = store.create(patient('Tagged')).resource;
    const prov = store.create<Provenance>({ resourceType: 'Provenance', target: [{ reference: `Patient/${pat.id}` }], recorded: '2026-01-01T00:00:00Z', agent: [{ who: { display: 'Nurse' } }] }).resource;
    server.inject({ fault: { type: 'drop', afterCommit: true }, match: (r) => r.method === 'POST' && r.url === 'Provenance' });
    expect((await pushOutbox({ db: store.db, remote, sleep: async () => undefined })).pushed).toBe(2);
    expect(server.requests.filter((r) => r.method === 'POST' && r.url === 'Provenance')).toHaveLength(1);
    expect(server.requests.filter((r) => r.method === 'GET').map((r) => r.url)).toEqual([`Provenance?_tag=${encodeURIComponent(`${OUTPOST_ID_SYSTEM}|${prov.id}`)}&_count=100`]);
    const found = await remoteSearch<Provenance>(`Provenance?_tag=${encodeURIComponent(`${OUTPOST_ID_SYSTEM}|${prov.id}`)}`);
    expect(found).toHaveLength(1);
    expect(await remoteSearch<Provenance>('Provenance')).toHaveLength(1);
    expect(found[0].meta?.tag).toContainEqual({ system: OUTPOST_ID_SYSTEM, code: prov.id });
    expect(found[0].target[0].reference).toBe(`Patient/${remoteIdOf('Patient', pat.id as string)}`);
  });

  it('a create then delete offline sends nothing', async () => {
    const local = store.create(patient('Gone')).resource;
    store.delete('Patient', local.id as string);
    const summary = await pushOutbox({ db: store.db, remote });
    expect(summary.pushed).toBe(0);
    expect(server.requests).toHaveLength(0);
  });

  it('one refused resource among many: the rest land, it and its dependents are held with the reason', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(store.create(patient(i === 4 ? 'Refused' : `Ok${i}`)).resource.id as string);
    store.create<Encounter>({ resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${ids[4]}` } });
    server.inject({
      fault: { type: 'status', status: 422 },
      match: (r) => (r.body as Patient | undefined)?.name?.[0]?.family === 'Refused',
    });
    const summary = await pushOutbox({ db: store.db, remote });
    expect(summary).toMatchObject({ pushed: 9, held: 2 });
    expect(await remoteSearch<Patient>('Patient?_count=100')).toHaveLength(9);
    const held = store.db.prepare("SELECT type, last_error FROM sync_outbox WHERE state = 'held' ORDER BY seq").all() as { type: string; last_error: string }[];
    expect(held.map((h) => h.type)).toEqual(['Patient', 'Encounter']);
    expect(held[0].last_error).toContain('422');
    expect(held[1].last_error).toContain(`Patient/${ids[4]}`);
  });

  it('an update against a version changed remotely is a conflict record; the remote is untouched', async () => {
    const local = store.create(patient('Base')).resource;
    await pushOutbox({ db: store.db, remote });
    const remoteId = remoteIdOf('Patient', local.id as string) as string;
    // Someone else edits it on the server.
    const theirs = (await server.repo.readResource<Patient>('Patient', remoteId));
    await server.repo.updateResource<Patient>({ ...theirs, gender: 'female' });
    store.update<Patient>({ ...store.read<Patient>('Patient', local.id as string), gender: 'male' });
    const summary = await pushOutbox({ db: store.db, remote });
    expect(summary).toMatchObject({ pushed: 0, conflicts: 1 });
    expect((await server.repo.readResource<Patient>('Patient', remoteId)).gender).toBe('female');
    expect(outboxCounts(store.db).conflict).toBe(1);
    // A conflict is not retried by the next run.
    const before = server.requests.length;
    await pushOutbox({ db: store.db, remote });
    expect(server.requests.length).toBe(before);
  });

  it('updates and deletes of pushed resources carry If-Match and land', async () => {
    const local = store.create(patient('Edit')).resource;
    await pushOutbox({ db: store.db, remote });
    const remoteId = remoteIdOf('Patient', local.id as string) as string;
    store.update<Patient>({ ...store.read<Patient>('Patient', local.id as string), gender: 'other' });
    expect((await pushOutbox({ db: store.db, remote })).pushed).toBe(1);
    const put = server.requests.find((r) => r.method === 'PUT');
    expect(put?.headers['if-match']).toMatch(/^W\/".+"$/);
    expect((await server.repo.readResource<Patient>('Patient', remoteId)).gender).toBe('other');
    store.delete('Patient', local.id as string);
    expect((await pushOutbox({ db: store.db, remote })).pushed).toBe(1);
    await expect(server.repo.readResource('Patient', remoteId)).rejects.toThrow();
  });

  it('500 and 429 are retried with backoff honouring Retry-After; when they persist the row waits for a later run', async () => {
    store.create(patient('Busy'));
    // The 500 answers the batch of creates (sent again after a backoff round, once a lookup shows it did
    // not land); the 429 answers that lookup (the remote waits what Retry-After says).
    server.inject({ fault: { type: 'status', status: 500 } });
    server.inject({ fault: { type: 'status', status: 429, retryAfterSeconds: 7 } });
    const sleep = async (ms: number) => void sleeps.push(ms);
    const summary = await pushOutbox({ db: store.db, remote, sleep, random: () => 0.5 });
    expect(summary.pushed).toBe(1);
    expect(sleeps).toEqual([125, 7000]);
    expect(await remoteSearch<Patient>('Patient')).toHaveLength(1);

    store.create(patient('Down'));
    server.inject({ fault: { type: 'status', status: 503 }, times: 10 });
    const later = await pushOutbox({ db: store.db, remote, sleep, clock: () => new Date(1_000_000) });
    expect(later).toMatchObject({ pushed: 0, retryLater: 1 });
    expect(later.failures).toEqual([{ what: 'left for a later run', reason: expect.stringContaining('503'), count: 1, examples: [expect.stringMatching(/^Patient\//)] }]);
    const row = store.db.prepare('SELECT state, next_attempt_at FROM sync_outbox').get() as { state: string; next_attempt_at: number };
    expect(row.state).toBe('pending');
    expect(row.next_attempt_at).toBeGreaterThan(1_000_000);
  });
});
