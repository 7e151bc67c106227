// Pushing at the real server's pace: its quota (RateLimit header, 429 without Retry-After) waited out
// within the run; two workstations pushing at once (Medplum on PostgreSQL serializes them) end with no
// conflict for a person and no duplicate; and what Medplum refuses by design (AccessPolicy criteria
// with chains or _has) is known before anything is sent: the server itself is the oracle.
import type { AccessPolicy, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { medplumAcceptsCriteria } from '../../shared/fhir/medplum-policy.ts';
import { parseRateLimit } from '../../electron/host/sync/remote/quota.ts';
import { freshTenant, http, kitEnv, type KitEnv, type Tenant } from './kit.ts';
import { copiesByLocalId, medplumWorkstation, type MedplumWorkstation } from './workstation.ts';

let env: KitEnv;
const open: MedplumWorkstation[] = [];
beforeAll(() => {
  env = kitEnv();
});
afterAll(() => open.forEach((w) => w.close()));

async function workstation(tenant: Tenant, label: string): Promise<MedplumWorkstation> {
  const ws = await medplumWorkstation(tenant, label);
  open.push(ws);
  return ws;
}

async function addPatients(ws: MedplumWorkstation, n: number, family: string): Promise<void> {
  ws.host.rawStore.db.transaction(() => {
    for (let i = 0; i < n; i++) ws.host.rawStore.create<Patient>({ resourceType: 'Patient', name: [{ given: ['Paced'], family: `${family}${i}` }] }, undefined, { project: ws.projectId });
  })();
}

describe('at the server pace', () => {
  it('a quota of 2,500 points a minute (25 writes): 40 creates land in one run, waiting for the window to reset instead of failing', async () => {
    const tenant = await freshTenant(env, 'quota');
    const ws = await workstation(tenant, 'quota');
    // The workstation's own setup (its owner's Practitioner) goes first, under the default quota.
    expect(await ws.sync({ pushOnly: true })).toMatchObject({ errors: [] });
    await tenant.setSystemSettings([{ name: 'userFhirQuota', valueInteger: 2_500 }]);
    // The header as Medplum sends it, read the way push reads it.
    const probe = await http(env, 'GET', 'fhir/R4/Patient?_count=1', { token: await tenant.clientToken() });
    const announced = parseRateLimit(probe.headers.get('ratelimit'));
    expect(announced).toEqual({ remaining: expect.any(Number), resetMs: expect.any(Number) });
    expect(announced!.remaining).toBeLessThanOrEqual(2_500);
    await addPatients(ws, 40, 'Quota');
    const started = Date.now();
    const run = await ws.sync({ pushOnly: true });
    expect(run).toMatchObject({ pushed: 40, errors: [], retryLater: 0, held: 0 });
    expect(run.quotaWaitMs).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(3 * 60_000);
    const copies = copiesByLocalId(await tenant.list('Patient'));
    expect(copies.size).toBe(40);
    expect([...copies.values()].every((n) => n === 1)).toBe(true);
  });

  it('two workstations pushing at once: no conflict for a person, nothing held, no duplicate', async () => {
    const tenant = await freshTenant(env, 'two');
    const [a, b] = await Promise.all([workstation(tenant, 'two-a'), workstation(tenant, 'two-b')]);
    await addPatients(a, 120, 'Alpha');
    await addPatients(b, 120, 'Beta');
    const [ra, rb] = await Promise.all([a.sync({ pushOnly: true }), b.sync({ pushOnly: true })]);
    for (const r of [ra, rb]) expect(r).toMatchObject({ pushed: 121, conflicts: 0, held: 0, retryLater: 0, errors: [] });
    const copies = copiesByLocalId(await tenant.list('Patient'));
    expect(copies.size).toBe(240);
    expect([...copies.values()].every((n) => n === 1)).toBe(true);
  });

  it('AccessPolicy criteria: Outpost knows what the server refuses; such a policy stays local, not an error, the others are pushed', async () => {
    const tenant = await freshTenant(env, 'policy');
    const token = await tenant.clientToken();
    const criteria: [string, string][] = [
      ['Observation', 'Observation?status=final'],
      ['Patient', 'Patient?general-practitioner=%profile'],
      ['Patient', 'Patient?_tag=http://example.org|cohort'],
      ['Patient', 'Patient?identifier=http://x|1&active=true'],
      ['Patient', 'Patient?name:contains=ab'],
      ['Observation', 'Observation?subject:Patient.name=Smith'],
      ['Observation', 'Observation?subject.name=Smith'],
      ['Patient', 'Patient?_has:Observation:subject:status=final'],
      ['Patient', 'Patient?_has:CareTeam:patient:participant=%profile'],
      ['Patient', 'Patient?'],
      ['Patient', 'Observation?status=final'],
    ];
    for (const [resourceType, c] of criteria) {
      const res = await http(env, 'POST', 'fhir/R4/AccessPolicy', { token, json: { resourceType: 'AccessPolicy', name: 'oracle', resource: [{ resourceType, criteria: c }] } });
      expect([res.status, c]).toEqual([medplumAcceptsCriteria(resourceType, c) ? 201 : 400, c]);
    }

    const ws = await workstation(tenant, 'policy');
    await ws.fhir('POST', 'AccessPolicy', { resourceType: 'AccessPolicy', name: 'Front desk', resource: [{ resourceType: 'Patient', criteria: 'Patient?active=true' }] } as AccessPolicy);
    await ws.fhir('POST', 'AccessPolicy', { resourceType: 'AccessPolicy', name: 'Nurse (care team)', resource: [{ resourceType: 'Patient', criteria: 'Patient?_has:CareTeam:patient:participant=%profile' }] } as AccessPolicy);
    const run = await ws.sync();
    expect(run).toMatchObject({ keptLocal: 1, held: 0, quarantined: 0, errors: [] });
    // The oracle's accepted policies are the control: the listing must show them before its absences
    // mean anything. Once (CI, stop 22) the super admin's listing came back empty, oracle policies
    // included, and the same run read 40 and 240 Patients just before; it was not seen again in 16
    // runs here. The listing is read again (at most 3 times) until the control is in it.
    const accepted = criteria.filter(([type, c]) => medplumAcceptsCriteria(type, c)).length;
    let names: (string | undefined)[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      names = (await tenant.list<AccessPolicy>('AccessPolicy')).map((p) => p.name);
      if (names.filter((n) => n === 'oracle').length >= accepted) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    expect(names.filter((n) => n === 'oracle')).toHaveLength(accepted);
    expect(names).toContain('Front desk');
    expect(names).not.toContain('Nurse (care team)');
    expect((await ws.call(ws.admin, 'GET', '/outpost/sync/status')).body.held).toEqual([]);
  });
});
