// Sync with the real Medplum server: a workstation set up locally pushes its clinic to a fresh tenant
// and syncs with edits made on the server, as people would notice it. The server's answers are the
// oracle: what it stores, refuses, and says about conflicts.
import type { AuditEvent, Encounter, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REVOKED_REASON } from '../../electron/host/sync/pull/pull-reconcile.ts';
import { freshTenant, kitEnv, type Tenant } from './kit.ts';
import { copiesByLocalId, medplumWorkstation, type MedplumWorkstation } from './workstation.ts';

let tenant: Tenant;
let ws: MedplumWorkstation;

beforeAll(async () => {
  tenant = await freshTenant(kitEnv(), 'push');
  ws = await medplumWorkstation(tenant, 'push');
});
afterAll(() => ws?.close());

async function clientCall(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(new URL(`fhir/R4/${path}`, tenant.env.baseUrl), {
    method,
    headers: { authorization: `Bearer ${await tenant.clientToken()}`, 'content-type': 'application/fhir+json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

/** Someone else edits a resource on the server (another workstation, the Medplum app). */
async function editRemotely<T extends Resource>(type: string, remoteId: string, change: (r: T) => T): Promise<T> {
  const current = (await clientCall('GET', `${type}/${remoteId}`)).body as T;
  const res = await clientCall('PUT', `${type}/${remoteId}`, change(current));
  expect(res.status).toBe(200);
  return res.body as T;
}

const patient = (family: string, extra: Partial<Patient> = {}): Patient => ({ resourceType: 'Patient', name: [{ given: ['Ana'], family }], ...extra });

describe('a clinic synced with Medplum', () => {
  const local: Record<string, string> = {};

  it('pushes the clinic once: a second sync sends nothing and the server holds one copy of each', async () => {
    for (const family of ['Okafor', 'Silva', 'Nguyen']) local[family] = (await ws.fhir('POST', 'Patient', patient(family))).body.id;
    const enc = (await ws.fhir('POST', 'Encounter', { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${local.Okafor}` } } as Encounter)).body.id;
    for (const value of [72, 80]) {
      await ws.fhir('POST', 'Observation', {
        resourceType: 'Observation', status: 'final', code: { text: 'heart rate' }, subject: { reference: `Patient/${local.Okafor}` }, encounter: { reference: `Encounter/${enc}` },
        valueQuantity: { value, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
      } as Observation);
    }
    const first = await ws.sync();
    expect(first).toMatchObject({ errors: [], held: 0, conflicts: 0, retryLater: 0, unauthorized: false });
    // 3 patients, the encounter, 2 observations and the owner's Practitioner (this workstation was set up locally).
    expect(first.pushed).toBe(7);
    const second = await ws.sync();
    expect(second).toMatchObject({ pushed: 0, errors: [] });
    for (const type of ['Patient', 'Encounter', 'Observation']) {
      const copies = copiesByLocalId(await tenant.list(type));
      expect([...copies.values()].every((n) => n === 1)).toBe(true);
    }
    expect(copiesByLocalId(await tenant.list('Patient')).size).toBe(3);
    // References point at the server's ids.
    const [obs] = await tenant.list<Observation>('Observation');
    expect(obs.subject?.reference).toBe(`Patient/${ws.remoteIdOf('Patient', local.Okafor)}`);
    expect(obs.encounter?.reference).toBe(`Encounter/${ws.remoteIdOf('Encounter', enc)}`);
  });

  it('pushes the AuditEvents of what people did here, each once, naming the server ids', async () => {
    expect((await ws.fhir('GET', `Patient/${local.Silva}`)).status).toBe(200);
    expect(await ws.sync({ pushOnly: true })).toMatchObject({ errors: [], auditFailed: 0 });
    const pushed = ws.host.rawStore.db.prepare('SELECT r.id FROM audit_outbox o JOIN resource r ON r.rid = o.rid WHERE o.pushed_at IS NOT NULL').pluck().all() as string[];
    expect(pushed.length).toBeGreaterThan(5);
    const remote = await tenant.list<AuditEvent>('AuditEvent');
    const copies = copiesByLocalId(remote);
    expect(pushed.every((id) => copies.get(id) === 1)).toBe(true);
    // The read of Silva's chart names her by the server's id.
    const read = remote.find((e) => e.action === 'R' && e.entity?.some((x) => x.what?.reference === `Patient/${ws.remoteIdOf('Patient', local.Silva)}`));
    expect(read).toBeDefined();
  });

  it('same field edited on both sides: a conflict for a person, the server untouched; resolved keeping ours, the server gets ours', async () => {
    const remoteId = ws.remoteIdOf('Patient', local.Silva) as string;
    await editRemotely<Patient>('Patient', remoteId, (p) => ({ ...p, gender: 'female' }));
    const mine = (await ws.fhir('GET', `Patient/${local.Silva}`)).body as Patient;
    await ws.fhir('PUT', `Patient/${local.Silva}`, { ...mine, gender: 'male' });
    const run = await ws.sync();
    expect(run).toMatchObject({ conflicts: 1, pushed: 0 });
    expect((await clientCall('GET', `Patient/${remoteId}`)).body.gender).toBe('female');
    const status = (await ws.call(ws.admin, 'GET', '/outpost/sync/status')).body;
    const conflict = status.conflicts.find((c: any) => c.resourceId === local.Silva);
    expect(conflict.fields).toContain('gender');
    const resolved = await ws.call(ws.admin, 'POST', `/outpost/sync/conflicts/${conflict.id}/resolve`, { keep: 'local' });
    expect(resolved.status).toBe(200);
    expect(await ws.sync()).toMatchObject({ conflicts: 0, errors: [] });
    expect((await clientCall('GET', `Patient/${remoteId}`)).body.gender).toBe('male');
  });

  it('same field again, resolved keeping theirs: this workstation takes the server value and sends nothing over it', async () => {
    const remoteId = ws.remoteIdOf('Patient', local.Silva) as string;
    await editRemotely<Patient>('Patient', remoteId, (p) => ({ ...p, birthDate: '1971-02-03' }));
    const mine = (await ws.fhir('GET', `Patient/${local.Silva}`)).body as Patient;
    await ws.fhir('PUT', `Patient/${local.Silva}`, { ...mine, birthDate: '1980-12-24' });
    expect(await ws.sync()).toMatchObject({ conflicts: 1 });
    const conflict = (await ws.call(ws.admin, 'GET', '/outpost/sync/status')).body.conflicts[0];
    expect((await ws.call(ws.admin, 'POST', `/outpost/sync/conflicts/${conflict.id}/resolve`, { keep: 'remote' })).status).toBe(200);
    expect(await ws.sync()).toMatchObject({ conflicts: 0, errors: [] });
    expect((await ws.fhir('GET', `Patient/${local.Silva}`)).body.birthDate).toBe('1971-02-03');
    expect((await clientCall('GET', `Patient/${remoteId}`)).body.birthDate).toBe('1971-02-03');
  });

  it('different fields edited on both sides: merged, both edits on both sides, no conflict', async () => {
    const remoteId = ws.remoteIdOf('Patient', local.Nguyen) as string;
    await editRemotely<Patient>('Patient', remoteId, (p) => ({ ...p, telecom: [{ system: 'phone', value: '+1 555 0100' }] }));
    const mine = (await ws.fhir('GET', `Patient/${local.Nguyen}`)).body as Patient;
    await ws.fhir('PUT', `Patient/${local.Nguyen}`, { ...mine, birthDate: '1990-05-06' });
    const run = await ws.sync();
    expect(run).toMatchObject({ conflicts: 0, merged: 1, errors: [] });
    const theirs = (await clientCall('GET', `Patient/${remoteId}`)).body as Patient;
    expect(theirs).toMatchObject({ birthDate: '1990-05-06', telecom: [{ system: 'phone', value: '+1 555 0100' }] });
    const ours = (await ws.fhir('GET', `Patient/${local.Nguyen}`)).body as Patient;
    expect(ours).toMatchObject({ birthDate: '1990-05-06', telecom: [{ system: 'phone', value: '+1 555 0100' }] });
  });

  it('deletions both ways: deleted here -> gone on the server; deleted on the server -> gone here', async () => {
    const okafor = ws.remoteIdOf('Patient', local.Okafor) as string;
    const created = (await ws.fhir('POST', 'Patient', patient('Ephemeral'))).body.id as string;
    await ws.sync();
    const ephemeral = ws.remoteIdOf('Patient', created) as string;
    expect((await ws.fhir('DELETE', `Patient/${created}`)).status).toBe(200);
    expect(await ws.sync()).toMatchObject({ errors: [], conflicts: 0 });
    expect((await clientCall('GET', `Patient/${ephemeral}`)).status).toBe(410);

    // Remotely: a patient nobody edits here.
    const nguyen = ws.remoteIdOf('Patient', local.Nguyen) as string;
    expect((await clientCall('DELETE', `Patient/${nguyen}`)).status).toBe(200);
    const run = await ws.sync();
    expect(run).toMatchObject({ errors: [], conflicts: 0 });
    expect(run.deleted).toBeGreaterThanOrEqual(1);
    expect((await ws.fhir('GET', `Patient/${local.Nguyen}`)).status).toBe(410);
    expect((await ws.fhir('GET', `Patient/${local.Okafor}`)).status).toBe(200);
    expect(okafor).toBeDefined();
  });

  it("revoked access: the server takes Observation away from the workstation's client: local copies purged, a pending edit held with the reason", async () => {
    const observations = (await ws.fhir('GET', 'Observation?_count=100')).body.entry.map((e: any) => e.resource as Observation);
    expect(observations.length).toBe(2);
    const policy = (await tenant.admin('POST', 'AccessPolicy', { resourceType: 'AccessPolicy', name: 'No observations', resource: [{ resourceType: 'Patient' }, { resourceType: 'Encounter' }, { resourceType: 'Practitioner' }, { resourceType: 'AuditEvent' }] })).body;
    const membership = (await tenant.admin('GET', `ProjectMembership/${tenant.clientMembershipId}`)).body;
    const restrict = await tenant.admin('POST', `admin/projects/${tenant.projectId}/members/${tenant.clientMembershipId}`, { ...membership, admin: false, accessPolicy: { reference: `AccessPolicy/${policy.id}` } });
    expect(restrict.status).toBe(200);
    try {
      // One observation is edited here before the sync: it is not purged, its change is held.
      const edited = observations[0];
      await ws.fhir('PUT', `Observation/${edited.id}`, { ...edited, status: 'amended' });
      const run = await ws.sync();
      expect(run.purged).toBe(1);
      expect((await ws.fhir('GET', `Observation/${observations[1].id}`)).status).toBe(404);
      expect((await ws.fhir('GET', `Observation/${edited.id}`)).status).toBe(200);
      const status = (await ws.call(ws.admin, 'GET', '/outpost/sync/status')).body;
      const held = status.held.find((h: any) => h.resourceId === edited.id);
      expect(held).toBeDefined();
      expect(held.reason).toBe(REVOKED_REASON);
      // The refusal is in the run's summary with its reason.
      expect(run.errors).toEqual([expect.stringMatching(/^push: 1 change quarantined: 403/)]);
      // Patients stay.
      expect((await ws.fhir('GET', `Patient/${local.Okafor}`)).status).toBe(200);
    } finally {
      await tenant.admin('POST', `admin/projects/${tenant.projectId}/members/${tenant.clientMembershipId}`, { ...membership, admin: true });
    }
  });
});
