// The renderer's stores over the IPC transport (a bridge that calls a real host), as in Electron:
// login with the membership chooser, patient search with counts, the chart, role switch clearing every
// store, idle lock parking requests until unlock, logout.
import { afterEach, describe, expect, it } from 'vitest';
import { createOutpostClient } from '../../renderer/src/api/client.ts';
import { createLockGate } from '../../renderer/src/api/lock-gate.ts';
import { pickTransport } from '../../renderer/src/api/transport.ts';
import { createStores, type Stores } from '../../renderer/src/stores/index.ts';
import { DEMO_PASSWORD } from '../e2e/seed.ts';
import { createTestHost, type TestHost } from './helpers.ts';

let t: TestHost | undefined;
afterEach(() => {
  t?.close();
  t = undefined;
});

async function storesOver(testHost: TestHost): Promise<Stores> {
  const transport = pickTransport({ outpost: testHost.bridge, location: { origin: 'app://outpost' }, fetch });
  expect(transport.kind).toBe('ipc');
  const gate = createLockGate();
  const stores = createStores(createOutpostClient({ transport, gate }), gate);
  await stores.session.getState().start();
  // No first-run setup endpoint on this host (or nothing to set up): straight to login.
  expect(stores.session.getState().phase).toBe('login');
  return stores;
}

describe('renderer stores over IPC against a real host', () => {
  it('signs in through the chooser, searches, opens a chart, switches role (clearing every store) and signs out', async () => {
    t = createTestHost();
    const s = await storesOver(t);
    await s.session.getState().login('sarah.chen@demo.outpost', DEMO_PASSWORD);
    expect(s.session.getState().phase).toBe('choose');
    const choices = s.session.getState().choices;
    expect(choices.map((c) => c.profile.reference?.split('/')[0]).sort()).toEqual(['Patient', 'Practitioner']);
    await s.session.getState().choose(choices.find((c) => c.profile.reference?.startsWith('Practitioner/'))!.id);
    expect(s.session.getState()).toMatchObject({ phase: 'ready', error: undefined });
    expect(s.session.getState().me?.profile.resourceType).toBe('Practitioner');

    await s.patients.getState().search({ name: '' });
    expect(s.patients.getState().total).toBe(t.clinic.patientCount);
    expect(s.patients.getState().results).toHaveLength(20);
    await s.patients.getState().search(undefined, 1);
    expect(s.patients.getState().results).toHaveLength(t.clinic.patientCount - 20);

    await s.chart.getState().load(t.clinic.maryId);
    const chart = s.chart.getState();
    expect(chart.patient?.name?.[0]?.family).toBe('Johnson');
    expect(chart.sections.observations).toHaveLength(36);
    expect(chart.sections.encounters).toHaveLength(12);
    expect(chart.sections.conditions).toHaveLength(2);

    const epoch = s.session.getState().epoch;
    await s.session.getState().switchRole(choices.find((c) => c.profile.reference?.startsWith('Patient/'))!.id);
    expect(s.session.getState().me?.profile.resourceType).toBe('Patient');
    expect(s.session.getState().epoch).toBe(epoch + 1);
    expect(s.patients.getState()).toMatchObject({ results: [], loaded: false, total: undefined });
    expect(s.chart.getState()).toMatchObject({ patient: undefined, patientId: undefined });

    await s.session.getState().logout();
    expect(s.session.getState()).toMatchObject({ phase: 'login', me: undefined, choices: [] });
  });

  it('reports a wrong password and then a lockout in words', async () => {
    t = createTestHost();
    const s = await storesOver(t);
    await s.session.getState().login('jennifer.williams@demo.outpost', 'wrong');
    expect(s.session.getState()).toMatchObject({ phase: 'login', error: 'Email or password is invalid', lockedOut: false });
    for (let i = 0; i < 5; i++) {
      await s.session.getState().login('jennifer.williams@demo.outpost', 'wrong');
    }
    expect(s.session.getState().lockedOut).toBe(true);
    expect(s.session.getState().error).toMatch(/Too many failed login attempts/);
  });

  it('parks requests while the host has locked the idle session, and sends them again after unlock', async () => {
    t = createTestHost({ idleLockMs: 60_000 });
    const s = await storesOver(t);
    await s.session.getState().login('jennifer.williams@demo.outpost', DEMO_PASSWORD);
    expect(s.session.getState().phase).toBe('ready');
    t.advance(120_000);
    const pending = s.session.getState().refreshRole();
    await new Promise((r) => setTimeout(r, 50));
    expect(s.session.getState().locked).toBe(true);
    await s.session.getState().unlock('wrong-password');
    expect(s.session.getState()).toMatchObject({ locked: true, unlockError: 'Email or password is invalid' });
    await s.session.getState().unlock(DEMO_PASSWORD);
    await pending;
    expect(s.session.getState()).toMatchObject({ locked: false, phase: 'ready' });
    expect(s.session.getState().me?.user?.email).toBe('jennifer.williams@demo.outpost');
  });

  it('shows a missing patient as not found and a version conflict in words', async () => {
    t = createTestHost();
    const s = await storesOver(t);
    await s.session.getState().login('jennifer.williams@demo.outpost', DEMO_PASSWORD);
    await s.chart.getState().load('00000000-0000-4000-8000-000000000000');
    expect(s.chart.getState().notFound).toBe(true);

    const read = await s.chart.getState().read('Patient', t.clinic.maryId);
    const first = await s.chart.getState().save({ ...read.resource!, gender: 'unknown' });
    expect(first.ok).toBe(true);
    const stale = await s.chart.getState().save({ ...read.resource!, gender: 'other' });
    expect(stale).toMatchObject({ ok: false, conflict: true });
    expect(stale.error).toMatch(/version/i);
  });
});
