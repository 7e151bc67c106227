// The demo clinic through the host's door: every demo login works and sees exactly what its policy
// says (Dr. Chen's patients, her own record as a patient, Robert's mother, the nurse's care team with a
// confidential patient masked, the study cohort de-identified), and seeding again changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost } from '../../electron/host/host.ts';
import { DEMO_LOGINS, DEMO_PASSWORD, seedDemo, type DemoSeedResult } from '../../electron/host/seed/index.ts';
import { door, type Door } from '../admin/helpers.ts';

let d: Door;
let seeded: DemoSeedResult;
const tokens: Record<string, string> = {};

const ids = () => seeded.ids!;
const patients = async (token: string, query = ''): Promise<any[]> => {
  const res = await d.call(token, 'GET', `/fhir/R4/Patient?_count=100${query}`);
  expect(res.status).toBe(200);
  return (res.body.entry ?? []).map((e: any) => e.resource);
};
const familyOf = (p: any): string | undefined => p.name?.[0]?.family;

beforeAll(async () => {
  d = door(createHost({ dataDir: ':memory:' }));
  seeded = await seedDemo(d.host);
  tokens.admin = await d.login('admin@demo.outpost', DEMO_PASSWORD);
  tokens.chen = await d.login('sarah.chen@demo.outpost', DEMO_PASSWORD, 'Practitioner/');
  tokens.chenPatient = await d.login('sarah.chen@demo.outpost', DEMO_PASSWORD, 'Patient/');
  tokens.nurse = await d.login('jennifer.williams@demo.outpost', DEMO_PASSWORD);
  tokens.robert = await d.login('robert.johnson@demo.outpost', DEMO_PASSWORD);
  tokens.researcher = await d.login('researcher@demo.outpost', DEMO_PASSWORD);
}, 120_000);
afterAll(() => d?.host.close());

describe('the demo clinic', () => {
  it('is seeded once: project of the guide, five logins, Synthea patients attached; a second seed writes nothing', async () => {
    expect(seeded.seeded).toBe(true);
    expect(DEMO_LOGINS.map((l) => l.email).sort()).toEqual(
      ['admin@demo.outpost', 'jennifer.williams@demo.outpost', 'researcher@demo.outpost', 'robert.johnson@demo.outpost', 'sarah.chen@demo.outpost'].sort()
    );
    const me = await d.call(tokens.admin, 'GET', '/auth/me');
    expect(me.body.project.name).toBe('General Hospital - Main Campus');
    expect(me.body.membership.admin).toBe(true);
    const count = (): number => d.host.rawStore.db.prepare('SELECT count(*) FROM resource').pluck().get() as number;
    const before = count();
    const again = await seedDemo(d.host);
    expect(again).toMatchObject({ seeded: false, demo: true });
    expect(count()).toBe(before);
  });

  it('Dr. Chen as practitioner sees exactly her patients (general practitioner) and their clinical data', async () => {
    const mine = await patients(tokens.chen);
    expect(mine.length).toBeGreaterThan(20);
    for (const p of mine) {
      expect(p.generalPractitioner?.[0]?.reference).toBe(`Practitioner/${ids().chenPractitioner}`);
    }
    expect(mine.map((p) => p.id)).toContain(ids().mary);
    expect(mine.some((p) => p.address?.[0]?.line?.[0] === '1 Quiet Lane')).toBe(true); // synthea + generated + Morgan, unmasked for her
    const all = (await d.call(tokens.admin, 'GET', '/fhir/R4/Patient?_summary=count')).body.total;
    expect(mine.length).toBeLessThan(all);
    expect((await d.call(tokens.chen, 'GET', `/fhir/R4/Patient/${ids().sarahPatient}`)).status).toBe(404);
    const vitals = await d.call(tokens.chen, 'GET', `/fhir/R4/Observation?patient=Patient/${ids().mary}&_summary=count`);
    expect(vitals.body.total).toBe(42);
  });

  it('Dr. Chen as patient sees only her own record', async () => {
    const seen = await patients(tokens.chenPatient);
    expect(seen.map((p) => p.id)).toEqual([ids().sarahPatient]);
    expect((await d.call(tokens.chenPatient, 'GET', `/fhir/R4/Patient/${ids().mary}`)).status).toBe(404);
    const observations = await d.call(tokens.chenPatient, 'GET', '/fhir/R4/Observation?_count=100');
    expect(observations.body.entry.length).toBeGreaterThan(0);
    for (const e of observations.body.entry) {
      expect(e.resource.subject.reference).toBe(`Patient/${ids().sarahPatient}`);
    }
  });

  it("Robert Johnson sees only Mary's compartment and cannot write", async () => {
    const seen = await patients(tokens.robert);
    expect(seen.map((p) => p.id)).toEqual([ids().mary]);
    expect((await d.call(tokens.robert, 'GET', `/fhir/R4/Patient/${ids().sarahPatient}`)).status).toBe(404);
    expect((await d.call(tokens.robert, 'GET', `/fhir/R4/Observation?patient=Patient/${ids().mary}&_summary=count`)).body.total).toBe(42);
    expect((await d.call(tokens.robert, 'GET', '/fhir/R4/Observation?_summary=count')).body.total).toBe(42);
    const write = await d.call(tokens.robert, 'POST', '/fhir/R4/Observation', { resourceType: 'Observation', status: 'final', code: { text: 'Mood' }, subject: { reference: `Patient/${ids().mary}` } });
    expect(write.status).toBe(403);
  });

  it('the researcher sees the study cohort only, with name, telecom, address and identifier hidden, read and search only', async () => {
    const cohort = await patients(tokens.researcher);
    expect(cohort.length).toBeGreaterThan(3);
    for (const p of cohort) {
      expect(p.meta.tag.map((t: any) => t.code)).toContain('study-cohort-2024');
      for (const hidden of ['name', 'telecom', 'address', 'identifier']) {
        expect(p[hidden]).toBeUndefined();
      }
      expect(p.birthDate ?? p.gender).toBeDefined();
    }
    expect((await d.call(tokens.researcher, 'GET', '/fhir/R4/Patient?name=Johnson')).status).toBe(403);
    expect((await d.call(tokens.researcher, 'GET', `/fhir/R4/Patient/${ids().mary}`)).status).toBe(404);
    const write = await d.call(tokens.researcher, 'PUT', `/fhir/R4/Patient/${cohort[0].id}`, cohort[0]);
    expect(write.status).toBe(403);
    const observations = await d.call(tokens.researcher, 'GET', '/fhir/R4/Observation?_summary=count');
    expect(observations.body.total).toBeGreaterThan(0);
  });

  it("the nurse sees her care team's patients (a confidential one masked) and records observations only as preliminary or final", async () => {
    const team = await patients(tokens.nurse);
    expect(team.map((p) => p.id)).toEqual(expect.arrayContaining([ids().mary, ids().confidential]));
    expect(team.length).toBe(4);
    const morgan = team.find((p) => p.id === ids().confidential);
    expect(morgan.telecom).toBeUndefined();
    expect(morgan.address).toBeUndefined();
    expect(morgan.identifier).toBeUndefined();
    expect(familyOf(morgan)).toBe('Masked');
    expect(team.find((p) => p.id === ids().mary).telecom).toBeDefined();
    expect((await d.call(tokens.nurse, 'GET', `/fhir/R4/Patient/${ids().sarahPatient}`)).status).toBe(404);

    const observation = (status: string, patient = ids().mary) => ({
      resourceType: 'Observation',
      status,
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }], text: 'Heart rate' },
      subject: { reference: `Patient/${patient}` },
      valueQuantity: { value: 70, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    });
    expect((await d.call(tokens.nurse, 'POST', '/fhir/R4/Observation', observation('final'))).status).toBe(201);
    const refused = await d.call(tokens.nurse, 'POST', '/fhir/R4/Observation', observation('entered-in-error'));
    expect(refused.status).toBe(403);
    expect(JSON.stringify(refused.body)).toContain('Observation status must be preliminary or final');
    expect((await d.call(tokens.nurse, 'POST', '/fhir/R4/Observation', observation('final', ids().sarahPatient))).status).toBe(403);
  });

  it('the policy review endpoint answers admins with the PolicyReview shape and refuses others', async () => {
    const all = await d.call(tokens.admin, 'GET', '/outpost/policy-review');
    expect(all.status).toBe(200);
    expect(all.body).toHaveLength(6);
    const nurseMembership = (await d.call(tokens.nurse, 'GET', '/auth/me')).body.membership.id;
    const one = await d.call(tokens.admin, 'GET', `/outpost/policy-review?membership=${nurseMembership}`);
    expect(one.body.membership).toBe(`ProjectMembership/${nurseMembership}`);
    expect(one.body.lines.join('\n')).toContain('hidden: telecom, address, identifier');
    expect(one.body.accessPolicy.resourceType).toBe('AccessPolicy');
    const counts = Object.fromEntries(one.body.counts.map((c: any) => [c.resourceType, c.count]));
    expect(counts.Patient).toBe(4); // the same number the nurse's own search returns
    expect(Array.isArray(one.body.policy.entries[0].interactions)).toBe(true);
    // Her CareTeam policy uses _has: enforced here, but a Medplum server would refuse it (axp-3).
    expect(one.body.warnings.filter((w: any) => w.code === 'stays-local').map((w: any) => w.message)).toEqual([expect.stringContaining('stays on this workstation and is not pushed')]);
    expect((await d.call(tokens.nurse, 'GET', '/outpost/policy-review')).status).toBe(403);
    expect((await d.call(tokens.admin, 'GET', '/outpost/policy-review?membership=00000000-0000-4000-8000-000000000000')).status).toBe(404);
    const researcher = all.body.find((r: any) => r.lines.some((l: string) => l.includes('study-cohort-2024')));
    const researcherCount = researcher.counts.find((c: any) => c.resourceType === 'Patient').count;
    expect(researcherCount).toBe((await patients(tokens.researcher)).length);
  });
});
