// The sync panel's store over IPC against a real host (its outpost/sync/* routes) and a real FHIR
// server (test/helpers/fhir-server.ts): "Sync is not configured", an admin sets the remote (the token
// never comes back), a clinician's edit waits in the outbox and leaves it on "sync now", a conflict on
// the same field is listed with both versions and resolved, a refused change is held with its reason,
// and a non-admin may not touch the remote.
import type { Patient } from '@medplum/fhirtypes';
import { afterEach, describe, expect, it } from 'vitest';
import { createOutpostClient } from '../../renderer/src/api/client.ts';
import { createLockGate } from '../../renderer/src/api/lock-gate.ts';
import { pickTransport } from '../../renderer/src/api/transport.ts';
import { createStores, type Stores } from '../../renderer/src/stores/index.ts';
import { DEMO_PASSWORD } from '../e2e/seed.ts';
import { startFhirServer, type TestFhirServer } from '../helpers/fhir-server.ts';
import { createTestHost, type TestHost } from './helpers.ts';

const LOCAL_ID_SYSTEM = 'https://outpost.local/fhir/local-id';

let t: TestHost | undefined;
let remote: TestFhirServer | undefined;
afterEach(async () => {
  t?.close();
  t = undefined;
  await remote?.close();
  remote = undefined;
});

async function signedIn(testHost: TestHost, email: string, role?: 'Practitioner'): Promise<Stores> {
  const transport = pickTransport({ outpost: testHost.bridge, location: { origin: 'app://outpost' }, fetch });
  const gate = createLockGate();
  const stores = createStores(createOutpostClient({ transport, gate }), gate);
  await stores.session.getState().login(email, DEMO_PASSWORD);
  if (stores.session.getState().phase === 'choose') {
    const choice = stores.session.getState().choices.find((c) => c.profile.reference?.startsWith(`${role ?? 'Practitioner'}/`));
    await stores.session.getState().choose(choice!.id);
  }
  expect(stores.session.getState().phase).toBe('ready');
  return stores;
}

async function remoteCopy(server: TestFhirServer, localId: string): Promise<Patient | undefined> {
  const all = await server.repo.searchResources<Patient>({ resourceType: 'Patient', count: 1000 });
  return all.find((p) => p.identifier?.some((i) => i.system === LOCAL_ID_SYSTEM && i.value === localId));
}

describe('the sync store against the host routes and a FHIR server', () => {
  it('configures the remote as admin, sends pending changes, shows and resolves a conflict', async () => {
    t = createTestHost();
    remote = await startFhirServer();
    const admin = await signedIn(t, 'admin@demo.outpost');
    const sync = admin.sync;

    await sync.getState().load();
    expect(sync.getState()).toMatchObject({ loaded: true, unavailable: false, error: undefined });
    expect(sync.getState().status?.remote).toBeUndefined();
    expect(sync.getState().status?.pending.length).toBeGreaterThan(0); // the seeded clinic, never sent

    // A progress event (Electron's outpost:event) marks a run as on until the status says otherwise.
    sync.getState().setProgress({ phase: 'push', done: 3, total: 10 });
    expect(sync.getState()).toMatchObject({ status: { running: true }, progress: { done: 3, total: 10 } });
    await sync.getState().load({ quiet: true });
    expect(sync.getState()).toMatchObject({ status: { running: false }, progress: undefined });

    const refused = await sync.getState().saveRemote({ baseUrl: 'not a url', token: 'x' });
    expect(refused.ok).toBe(false);
    expect(refused.error).toBeTruthy();

    const saved = await sync.getState().saveRemote({ baseUrl: remote.baseUrl, token: remote.token });
    expect(saved).toMatchObject({ ok: true });
    expect(sync.getState().status?.remote).toMatchObject({ baseUrl: remote.baseUrl, auth: 'token' });
    expect(JSON.stringify(sync.getState())).not.toContain(remote.token);

    await sync.getState().run();
    expect(sync.getState().runError).toBeUndefined();
    expect(sync.getState().lastRun?.pushed).toBeGreaterThan(0);
    expect(sync.getState().status).toMatchObject({ running: false, pending: [] });
    expect(sync.getState().status?.lastSync).toBeTruthy();

    // A clinician's edit waits, then leaves with "sync now".
    const chen = await signedIn(t, 'sarah.chen@demo.outpost', 'Practitioner');
    const maryId = t.clinic.maryId;
    const mary = (await chen.chart.getState().read('Patient', maryId)).resource as Patient;
    expect((await chen.chart.getState().save({ ...mary, address: [{ ...mary.address?.[0], city: 'Riverton' }] })).ok).toBe(true);
    await chen.sync.getState().load();
    expect(chen.sync.getState().status?.pending).toEqual([expect.objectContaining({ resourceType: 'Patient', resourceId: maryId, operation: 'update', state: 'pending' })]);
    await chen.sync.getState().run();
    expect(chen.sync.getState().status?.pending).toEqual([]);
    expect((await remoteCopy(remote, maryId))?.address?.[0]?.city).toBe('Riverton');

    // The same field changed on the server and here: a conflict with both versions.
    const onServer = (await remoteCopy(remote, maryId))!;
    await remote.repo.updateResource<Patient>({ ...onServer, address: [{ ...onServer.address?.[0], city: 'Shelbyville' }] });
    const current = (await chen.chart.getState().read('Patient', maryId)).resource as Patient;
    expect((await chen.chart.getState().save({ ...current, address: [{ ...current.address?.[0], city: 'Capital City' }] })).ok).toBe(true);
    await chen.sync.getState().run();
    const conflicts = chen.sync.getState().status?.conflicts ?? [];
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toMatchObject({ resourceType: 'Patient', resourceId: maryId });
    expect(conflicts[0].fields.some((f) => f.startsWith('address'))).toBe(true);
    expect((conflicts[0].local as Patient).address?.[0]?.city).toBe('Capital City');
    expect((conflicts[0].remote as Patient).address?.[0]?.city).toBe('Shelbyville');

    const resolved = await chen.sync.getState().resolve(conflicts[0].id, 'local');
    expect(resolved).toMatchObject({ ok: true });
    expect(chen.sync.getState().status?.conflicts).toEqual([]);
    await chen.sync.getState().run();
    expect((await remoteCopy(remote, maryId))?.address?.[0]?.city).toBe('Capital City');
    expect(chen.sync.getState().status?.pending).toEqual([]);

    // A change the server refuses is held, with the server's reason.
    const again = (await chen.chart.getState().read('Patient', maryId)).resource as Patient;
    expect((await chen.chart.getState().save({ ...again, gender: 'other' })).ok).toBe(true);
    remote.inject({ fault: { type: 'status', status: 422 }, match: (r) => r.method === 'PUT' && r.url.startsWith('Patient/') });
    await chen.sync.getState().run();
    expect(chen.sync.getState().status?.held).toEqual([expect.objectContaining({ resourceType: 'Patient', resourceId: maryId, state: 'held', reason: expect.any(String) })]);
    expect(chen.sync.getState().status?.counts.held).toBe(1);

    // Only project admins touch the remote.
    const denied = await chen.sync.getState().saveRemote({ baseUrl: remote.baseUrl, token: 'other' });
    expect(denied.ok).toBe(false);
    expect(denied.error).toMatch(/administrator/i);
  });

  it('"Sync now" while another sync runs (the background loop\'s) follows that sync and shows its result', async () => {
    t = createTestHost();
    remote = await startFhirServer();
    const admin = await signedIn(t, 'admin@demo.outpost');
    const other = await signedIn(t, 'admin@demo.outpost');
    expect((await admin.sync.getState().saveRemote({ baseUrl: remote.baseUrl, token: remote.token })).ok).toBe(true);

    // The other window's sync is slowed down by the server, so ours arrives while it runs.
    remote.inject({ fault: { type: 'slow', ms: 400 }, times: 3 });
    const first = other.sync.getState().run();
    await new Promise((r) => setTimeout(r, 100));
    await admin.sync.getState().run();
    expect(admin.sync.getState()).toMatchObject({ runError: undefined, following: true, lastRun: { alreadyRunning: true } });
    expect(admin.sync.getState().status?.running).toBe(true);

    await first;
    await admin.sync.getState().load({ quiet: true });
    expect(admin.sync.getState().following).toBe(false);
    expect(admin.sync.getState().lastRun?.alreadyRunning).toBeUndefined();
    expect(admin.sync.getState().lastRun?.pushed).toBe(other.sync.getState().lastRun?.pushed);
    expect(admin.sync.getState().lastRun?.pushed).toBeGreaterThan(0);
  });
});
