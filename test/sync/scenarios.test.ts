// Issue 6 push scenarios against the loopback FHIR router, each as a user would notice it.
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { AuditEvent, Encounter, Observation, Patient } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pushAuditEvents } from '../../electron/host/sync/push/audit-push.ts';
import { outboxCounts } from '../../electron/host/sync/index.ts';
import { OUTPOST_ID_SYSTEM } from '../../electron/host/sync/references.ts';
import { LOCAL_AUTHOR_EXTENSION } from '../../electron/host/sync/provenance.ts';
import { createRemote } from '../../electron/host/sync/remote/remote.ts';
import { startFhirServer, type TestFhirServer } from '../helpers/fhir-server.ts';
import { makeHost, tempDir, type TestHost } from '../host/helpers.ts';
import { remoteSearch, workstation, type Workstation } from './workstation.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
let server: TestFhirServer;
let ws: Workstation | undefined;
let host: TestHost | undefined;

beforeEach(async () => {
  server = await startFhirServer();
});
afterEach(async () => {
  ws?.store.close();
  ws = undefined;
  host?.dispose();
  host = undefined;
  await server.close();
});

const patient = (family: string): Patient => ({ resourceType: 'Patient', name: [{ family }] });
const count = async (type: string) => (await remoteSearch(server, `${type}?_count=1000`)).length;

describe('push scenarios', () => {
  it('killed after the server committed, before the local acknowledgement: a fresh process pushes again without duplicates', async () => {
    const file = path.join(tempDir('outpost-sync-kill-'), 'outpost.db');
    ws = workstation(server, file);
    const pats = [1, 2, 3].map((i) => ws!.store.create(patient(`Killed${i}`)).resource.id as string);
    ws.store.create<Encounter>({ resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${pats[0]}` } });
    ws.store.close();
    const out = await new Promise<{ signal: string | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test', 'sync', 'push-child.ts'), file, server.baseUrl, server.token], { cwd: repoRoot });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.on('exit', (_code, signal) => resolve({ signal, stdout }));
    });
    expect(out).toEqual({ signal: 'SIGKILL', stdout: 'answered\n' });
    expect(await count('Patient')).toBe(3);
    // A fresh store instance on the same file: the outbox still has every row; pushing again duplicates nothing.
    ws = workstation(server, file);
    expect(outboxCounts(ws.store.db).pending).toBe(4);
    expect(await ws.push()).toMatchObject({ pushed: 4, held: 0, conflicts: 0 });
    expect(await count('Patient')).toBe(3);
    expect(await count('Encounter')).toBe(1);
    const [enc] = await remoteSearch<Encounter>(server, 'Encounter');
    expect(enc.subject?.reference).toBe(`Patient/${ws.remoteIdOf('Patient', pats[0])}`);
  });

  it('create then delete offline: nothing pushed but the AuditEvents', async () => {
    host = makeHost({ audit: true });
    const created = await host.call('POST', 'Patient', patient('Ephemeral'));
    expect((await host.call('DELETE', `Patient/${created.body.id}`)).status).toBe(200);
    host.audit.flush();
    const remote = createRemote({ baseUrl: server.baseUrl, token: server.token });
    const ws2 = { db: host.rawStore.db, remote };
    const { pushOutbox } = await import('../../electron/host/sync/push/push.ts');
    expect(await pushOutbox(ws2)).toMatchObject({ pushed: 0 });
    expect(server.requests).toHaveLength(0);
    const audit = await pushAuditEvents(ws2);
    expect(audit.failed).toBe(0);
    expect(audit.pushed).toBeGreaterThanOrEqual(2);
    expect(await count('Patient')).toBe(0);
    const events = await remoteSearch<AuditEvent>(server, 'AuditEvent?_count=1000');
    expect(events).toHaveLength(audit.pushed);
    // The deleted patient never reached the remote: the event names it by its local id, not by a dangling reference.
    const deletion = events.find((e) => e.action === 'D');
    expect(deletion?.entity?.[0]?.what).toEqual({ type: 'Patient', identifier: { system: OUTPOST_ID_SYSTEM, value: `Patient/${created.body.id}` } });
  });

  it('Patient -> Encounter -> Observation created offline: references intact on the server', async () => {
    ws = workstation(server);
    const pat = ws.store.create(patient('Chain')).resource.id as string;
    const enc = ws.store.create<Encounter>({ resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${pat}` } }).resource.id as string;
    ws.store.create<Observation>({ resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: `Patient/${pat}` }, encounter: { reference: `Encounter/${enc}` } });
    expect(await ws.push()).toMatchObject({ pushed: 3 });
    const [obs] = await remoteSearch<Observation>(server, 'Observation');
    const [remotePat] = await remoteSearch<Patient>(server, 'Patient');
    const [remoteEnc] = await remoteSearch<Encounter>(server, 'Encounter');
    expect(obs.subject?.reference).toBe(`Patient/${remotePat.id}`);
    expect(obs.encounter?.reference).toBe(`Encounter/${remoteEnc.id}`);
    expect(remoteEnc.subject?.reference).toBe(`Patient/${remotePat.id}`);
  });

  it('one invalid resource among 100 changes: the 99 land and the one is held with its reason', async () => {
    ws = workstation(server);
    for (let i = 0; i < 100; i++) {
      const p = ws.store.create(patient(`P${i}`)).resource;
      if (i === 57) {
        // Valid locally at the time, refused by the server (as a remote profile or rule would).
        ws.store.db.prepare("UPDATE resource SET content = json_set(content, '$.birthDate', 'not-a-date') WHERE type = 'Patient' AND id = ?").run(p.id);
      }
    }
    const summary = await ws.push();
    expect(summary).toMatchObject({ pushed: 99, held: 1 });
    expect(await count('Patient')).toBe(99);
    const held = ws.outboxRows().filter((r) => r.state === 'held');
    expect(held).toHaveLength(1);
    expect(held[0].last_error).toMatch(/^400 .*birthDate/i);
  });

  it('401: the token is refreshed once and the push goes on', async () => {
    ws = workstation(server);
    ws.store.create(patient('Refreshed'));
    const asked: boolean[] = [];
    const remote = createRemote({ baseUrl: server.baseUrl, getToken: async ({ refresh }) => (asked.push(refresh), refresh ? server.token : 'expired') });
    expect(await ws.push({ remote })).toMatchObject({ pushed: 1, unauthorized: false });
    expect(asked).toEqual([false, true]);
    expect(server.requests.filter((r) => !r.inBatch).map((r) => r.outcome)).toEqual([401, 200]);
  });

  it('403: the change is quarantined with the reason; the others land', async () => {
    ws = workstation(server);
    ws.store.create(patient('Allowed'));
    ws.store.create(patient('Forbidden'));
    server.inject({ fault: { type: 'status', status: 403 }, match: (r) => r.inBatch === true && (r.body as Patient).name?.[0]?.family === 'Forbidden' });
    expect(await ws.push()).toMatchObject({ pushed: 1, quarantined: 1 });
    const [row] = ws.outboxRows();
    expect(row).toMatchObject({ state: 'quarantined', last_error: expect.stringContaining('403') });
    const before = server.requests.length;
    await ws.push();
    expect(server.requests.length).toBe(before);
  });

  it('429 with Retry-After: the push waits what the server asked, then lands', async () => {
    ws = workstation(server);
    ws.store.create(patient('Throttled'));
    server.inject({ fault: { type: 'status', status: 429, retryAfterSeconds: 9 }, match: (r) => !r.inBatch });
    expect(await ws.push()).toMatchObject({ pushed: 1 });
    expect(ws.sleeps).toEqual([9000]);
    // A throttled entry inside an answered batch is sent again alone, after a backoff.
    ws.store.create(patient('Entry'));
    ws.store.create(patient('Other'));
    server.inject({ fault: { type: 'status', status: 429 }, match: (r) => r.inBatch === true && (r.body as Patient).name?.[0]?.family === 'Entry' });
    expect(await ws.push()).toMatchObject({ pushed: 2 });
    const entries = server.requests.filter((r) => r.inBatch).map((r) => (r.body as Patient).name?.[0]?.family);
    expect(entries.slice(-3)).toEqual(['Entry', 'Other', 'Entry']);
  });

  it('every pushed change names its local author (meta extension from the write\'s AuditEvent)', async () => {
    host = makeHost({ audit: true });
    const created = await host.call('POST', 'Patient', patient('Authored'));
    host.audit.flush();
    const [event] = (host.rawStore.search('AuditEvent', 'action=C').entry ?? []).map((e) => e.resource as AuditEvent);
    const remote = createRemote({ baseUrl: server.baseUrl, token: server.token });
    const { pushOutbox } = await import('../../electron/host/sync/push/push.ts');
    expect(await pushOutbox({ db: host.rawStore.db, remote })).toMatchObject({ pushed: 1 });
    const [pushed] = await remoteSearch<Patient>(server, 'Patient');
    const ext = pushed.meta?.extension?.find((e) => e.url === LOCAL_AUTHOR_EXTENSION);
    expect(ext?.valueReference?.identifier?.value ?? ext?.valueReference?.reference).toBe(event.agent[0].who?.reference);
    expect(created.status).toBe(201);
  });
});

describe('lost answers of updates', () => {
  it('an update committed remotely whose answer was lost is acknowledged on retry (412 -> its own change found), not written twice', async () => {
    ws = workstation(server);
    const id = ws.store.create(patient('Lost')).resource.id as string;
    await ws.push();
    const remoteId = ws.remoteIdOf('Patient', id) as string;
    ws.store.update<Patient>({ ...ws.store.read<Patient>('Patient', id), gender: 'female' });
    server.inject({ fault: { type: 'drop', afterCommit: true }, match: (r) => !r.inBatch && r.method === 'POST' });
    expect(await ws.push()).toMatchObject({ pushed: 1, conflicts: 0 });
    expect((await server.repo.readResource<Patient>('Patient', remoteId)).gender).toBe('female');
    const puts = server.requests.filter((r) => r.method === 'PUT');
    expect(puts.map((r) => r.outcome)).toEqual([200, 412]);
    expect(ws.outboxRows()).toEqual([]);
  });
});

describe('mixed batch outcomes', () => {
  it('an entry failing transiently in every retry round waits for a later run with its reason; the rest of the batch landed once', async () => {
    ws = workstation(server);
    ws.store.create(patient('Flaky'));
    ws.store.create(patient('Steady'));
    server.inject({ fault: { type: 'status', status: 503 }, times: 10, match: (r) => r.inBatch === true && (r.body as Patient).name?.[0]?.family === 'Flaky' });
    expect(await ws.push()).toMatchObject({ pushed: 1, retryLater: 1 });
    const [row] = ws.outboxRows();
    expect(row).toMatchObject({ state: 'pending', last_error: expect.stringContaining('503') });
    const sent = server.requests.filter((r) => r.inBatch).map((r) => (r.body as Patient).name?.[0]?.family);
    expect(sent).toEqual(['Flaky', 'Steady', 'Flaky', 'Flaky']);
    expect(await count('Patient')).toBe(1);
  });
});
