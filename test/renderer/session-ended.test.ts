// A session the host ends (the admin deactivates the membership) while the renderer is signed in: the
// next store call gets a 401, MedplumClient's token refresh is refused, and the renderer clears every
// store and returns to sign-in saying "Your session has ended" (not MedplumClient's "Failed to fetch tokens").
import type { MedplumClient } from '@medplum/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createOutpostClient } from '../../renderer/src/api/client.ts';
import { createLockGate } from '../../renderer/src/api/lock-gate.ts';
import { SESSION_ENDED_MESSAGE } from '../../renderer/src/api/session-guard.ts';
import { pickTransport } from '../../renderer/src/api/transport.ts';
import { createStores, type Stores } from '../../renderer/src/stores/index.ts';
import { DEMO_PASSWORD } from '../e2e/seed.ts';
import { createTestHost, type TestHost } from './helpers.ts';

let t: TestHost | undefined;
afterEach(() => {
  t?.close();
  t = undefined;
});

function storesOver(testHost: TestHost): Stores {
  return storesWithClient(testHost).stores;
}

function storesWithClient(testHost: TestHost): { stores: Stores; medplum: MedplumClient } {
  const transport = pickTransport({ outpost: testHost.bridge, location: { origin: 'app://outpost' }, fetch });
  const gate = createLockGate();
  const late: { stores?: Stores } = {};
  const medplum = createOutpostClient({ transport, gate, onUnauthenticated: () => late.stores?.session.getState().ended(SESSION_ENDED_MESSAGE) });
  const stores = createStores(medplum, gate);
  late.stores = stores;
  return { stores, medplum };
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

describe('a session ended by the host', () => {
  it('clears every store and returns to sign-in with "Your session has ended" after a refused refresh', async () => {
    t = createTestHost();
    const admin = storesOver(t);
    await admin.session.getState().login('admin@demo.outpost', DEMO_PASSWORD);
    const nurse = storesOver(t);
    await nurse.session.getState().login('jennifer.williams@demo.outpost', DEMO_PASSWORD);
    expect(nurse.session.getState().phase).toBe('ready');
    await nurse.patients.getState().search({ name: '' });
    expect(nurse.patients.getState().results.length).toBeGreaterThan(0);

    await admin.admin.getState().load();
    const membership = admin.admin.getState().memberships.find((m) => m.user?.display === 'jennifer.williams@demo.outpost')!;
    expect((await admin.admin.getState().setMembershipActive(membership, false)).ok).toBe(true);

    await nurse.patients.getState().search({ name: 'Johnson' });
    await settle();
    const session = nurse.session.getState();
    expect(session).toMatchObject({ phase: 'login', me: undefined, endedMessage: SESSION_ENDED_MESSAGE, error: undefined });
    expect(nurse.patients.getState()).toMatchObject({ results: [], loaded: false, error: undefined });
    expect(admin.session.getState().phase).toBe('ready');
  });

  it('a 401 with no refresh token to try (MedplumClient onUnauthenticated) ends the session the same way; signing in again starts clean', async () => {
    t = createTestHost();
    const { stores: nurse, medplum } = storesWithClient(t);
    await nurse.session.getState().login('jennifer.williams@demo.outpost', DEMO_PASSWORD);
    await nurse.chart.getState().load(t.clinic.maryId);
    expect(nurse.chart.getState().patient).toBeDefined();
    // A token the host does not know, and no refresh token to fall back on.
    medplum.setAccessToken('not-a-token-the-host-issued');
    await nurse.chart.getState().load(t.clinic.maryId);
    await settle();
    expect(nurse.session.getState()).toMatchObject({ phase: 'login', endedMessage: SESSION_ENDED_MESSAGE });
    expect(nurse.chart.getState()).toMatchObject({ patient: undefined, patientId: undefined, error: undefined });

    await nurse.session.getState().login('jennifer.williams@demo.outpost', DEMO_PASSWORD);
    expect(nurse.session.getState()).toMatchObject({ phase: 'ready', endedMessage: undefined });
  });
});
