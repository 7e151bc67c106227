// MedplumClient from @medplum/core as a real client of the loopback host (browser mode): it logs in
// (startLogin, profile choice, processCode), searches, reads, creates and switches role.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientStorage, MedplumClient, MemoryStorage } from '@medplum/core';
import type { Patient } from '@medplum/fhirtypes';
import { afterEach, describe, expect, it } from 'vitest';
import { pkceChallenge } from '../../electron/host/auth/tokens.ts';
import { startHttpServer, type HttpServer } from '../../electron/host/http.ts';
import { createClinic, PASSWORD, patient, type TestClinic } from './helpers.ts';

let c: TestClinic;
let server: HttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  c?.close();
});

const VERIFIER = 'mP3Q0oVtq1hX6y2CqH0pQ6Jc8tBv4tKkq4sTnYJ2mWz';

describe('MedplumClient against the loopback host', () => {
  it('logs in with a profile choice, searches, reads, creates under its policy and switches role', async () => {
    c = createClinic({ realClock: true, dataDir: mkdtempSync(join(tmpdir(), 'outpost-mc-')) });
    const mine = c.seed(patient('Chen'));
    const other = c.seed(patient('Stranger'));
    const portal = c.policy([{ resourceType: 'Patient', criteria: 'Patient?_id=%patient.id', interaction: ['read', 'search'] }]);
    const attending = c.policy([{ resourceType: 'Patient' }, { resourceType: 'Observation' }]);
    const sarah = await c.person('Sarah', { accessPolicy: { reference: `AccessPolicy/${attending}` } });
    const asPatient = c.addMembership(sarah.user, { accessPolicy: { reference: `AccessPolicy/${portal}` }, profile: { reference: `Patient/${mine.id}` } });
    server = await startHttpServer(c.host, { port: 0, hostname: '127.0.0.1', requireToken: false });
    const g = globalThis as { sessionStorage?: Storage };
    g.sessionStorage ??= new MemoryStorage() as unknown as Storage;
    g.sessionStorage.setItem('codeVerifier', VERIFIER);
    const medplum = new MedplumClient({ baseUrl: `${server.url}/`, fetch: (url, init) => fetch(url, init), storage: new ClientStorage(new MemoryStorage()) });

    const started = await medplum.startLogin({ email: sarah.email, password: PASSWORD, codeChallenge: pkceChallenge(VERIFIER, 'S256'), codeChallengeMethod: 'S256' });
    expect(started.memberships).toHaveLength(2);
    const chosen = await medplum.post('auth/profile', { login: started.login, profile: sarah.membership });
    await medplum.processCode(chosen.code);
    expect(medplum.getProfile()?.resourceType).toBe('Practitioner');

    const all = await medplum.searchResources('Patient', { _count: '10' });
    expect(all.map((p) => p.id).sort()).toEqual([mine.id, other.id].sort());
    expect((await medplum.readResource('Patient', other.id)).id).toBe(other.id);
    const created = await medplum.createResource<Patient>({ resourceType: 'Patient', name: [{ family: 'Created' }] });
    expect(created.id).toBeDefined();
    await expect(medplum.readResource('Encounter', mine.id)).rejects.toThrow();

    await medplum.post('auth/switch-role', { membership: asPatient.membership });
    medplum.invalidateAll();
    const now = await medplum.searchResources('Patient', {}, { cache: 'no-cache' });
    expect(now.map((p) => p.id)).toEqual([mine.id]);
    await expect(medplum.readResource('Patient', other.id, { cache: 'no-cache' })).rejects.toThrow(/not found/i);
    await expect(medplum.createResource<Patient>({ resourceType: 'Patient' })).rejects.toThrow(/forbidden|may not/i);
    await medplum.signOut();
  });
});
