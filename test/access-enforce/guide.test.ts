// Scenario 10: the guide's cases — Dr. Chen (practitioner + patient memberships, switching), Robert
// Johnson (RelatedPerson over his mother's compartment), the research policy (tagged cohort, name /
// telecom / address / identifier hidden, read and search only).
import { afterEach, describe, expect, it } from 'vitest';
import { createClinic, patient, type TestClinic } from './helpers.ts';

let c: TestClinic;
afterEach(() => c?.close());

const obs = (subject: string, text = 'bp') => ({ resourceType: 'Observation', status: 'final', code: { text }, subject: { reference: subject } });

describe('10. the guide', () => {
  it('Dr. Chen switches between her practitioner and patient roles; each applies at once', async () => {
    c = createClinic();
    const sarahPatient = c.seed(patient('Chen', { name: [{ given: ['Sarah'], family: 'Chen' }] }));
    const doc = c.seed({ resourceType: 'Practitioner', name: [{ family: 'Chen' }] });
    const hers = c.seed(patient('Mine', { generalPractitioner: [{ reference: `Practitioner/${doc.id}` }] }));
    const notHers = c.seed(patient('NotMine'));
    c.seed(obs(`Patient/${sarahPatient.id}`));
    const attending = c.policy([
      { resourceType: 'Patient', criteria: 'Patient?general-practitioner=%profile' },
      { resourceType: 'Observation', criteria: 'Observation?performer=%profile' },
    ]);
    const portal = c.policy([{ resourceType: 'Patient', readonly: true, compartment: { reference: '%patient' } } as never, { resourceType: 'Observation', readonly: true, compartment: { reference: '%patient' } } as never]);
    const sarah = await c.person('Sarah', { accessPolicy: { reference: `AccessPolicy/${attending}` }, profile: { reference: `Practitioner/${doc.id}` } });
    const asPatient = c.addMembership(sarah.user, { accessPolicy: { reference: `AccessPolicy/${portal}` }, profile: { reference: `Patient/${sarahPatient.id}` } });
    const t = await c.login(sarah.email, sarah.membership);
    expect((await c.call(t, 'GET', `Patient/${hers.id}`)).status).toBe(200);
    expect((await c.call(t, 'GET', `Patient/${notHers.id}`)).status).toBe(404);
    expect((await c.call(t, 'GET', `Patient/${sarahPatient.id}`)).status).toBe(404);
    const me1 = await c.call(t, 'POST', '/auth/switch-role', { membership: asPatient.membership });
    expect(me1.status, me1.text).toBe(200);
    expect((await c.call(t, 'GET', `Patient/${sarahPatient.id}`)).status).toBe(200);
    expect((await c.call(t, 'GET', `Patient/${hers.id}`)).status).toBe(404);
    expect((await c.call(t, 'GET', 'Observation')).body.total).toBe(1);
    expect((await c.call(t, 'POST', 'Observation', obs(`Patient/${sarahPatient.id}`))).status).toBe(403);
    await c.call(t, 'POST', '/auth/switch-role', { membership: sarah.membership });
    expect((await c.call(t, 'GET', `Patient/${hers.id}`)).status).toBe(200);
  });

  it("Robert Johnson reads his mother's compartment and nothing else", async () => {
    c = createClinic();
    const mary = c.seed(patient('Johnson', { name: [{ given: ['Mary'], family: 'Johnson' }] }));
    const someone = c.seed(patient('Else'));
    c.seed(obs(`Patient/${mary.id}`));
    c.seed(obs(`Patient/${someone.id}`));
    const robertProfile = c.seed({ resourceType: 'RelatedPerson', patient: { reference: `Patient/${mary.id}` }, relationship: [{ text: 'guardian' }] });
    const caregiver = c.policy([
      { resourceType: 'Patient', criteria: 'Patient?_id=%patient.id', interaction: ['read', 'search'] },
      { resourceType: 'Observation', compartment: { reference: '%patient' }, interaction: ['read', 'search'] } as never,
    ]);
    const robert = await c.person('Robert', {
      profile: { reference: `RelatedPerson/${robertProfile.id}` },
      access: [{ policy: { reference: `AccessPolicy/${caregiver}` }, parameter: [{ name: 'patient', valueReference: { reference: `Patient/${mary.id}` } }] }],
    });
    const t = await c.login(robert.email);
    expect((await c.call(t, 'GET', `Patient/${mary.id}`)).status).toBe(200);
    expect((await c.call(t, 'GET', `Patient/${someone.id}`)).status).toBe(404);
    const observations = await c.call(t, 'GET', 'Observation');
    expect(observations.body.total).toBe(1);
    expect(observations.body.entry[0].resource.subject.reference).toBe(`Patient/${mary.id}`);
    expect((await c.call(t, 'PUT', `Patient/${mary.id}`, { ...mary, gender: 'female' })).status).toBe(403);
  });

  it('the research policy: the tagged cohort only, identifying fields hidden, read and search only', async () => {
    c = createClinic();
    const tag = { system: 'https://outpost.local/study', code: 'study-cohort-2024' };
    const inCohort = c.seed(patient('Researchfamily', { meta: { tag: [tag] }, telecom: [{ value: '555-RESEARCH' }], address: [{ city: 'Hiddenville' }], identifier: [{ value: 'MRN-HIDDEN' }], gender: 'female' }));
    const outside = c.seed(patient('Outside'));
    const research = c.policy([
      { resourceType: 'Patient', criteria: 'Patient?_tag=study-cohort-2024', interaction: ['read', 'search'], hiddenFields: ['name', 'telecom', 'address', 'identifier'] },
    ]);
    const who = await c.person('Researcher', { accessPolicy: { reference: `AccessPolicy/${research}` } });
    const t = await c.login(who.email);
    const read = await c.call(t, 'GET', `Patient/${inCohort.id}`);
    expect(read.status).toBe(200);
    expect(read.body.gender).toBe('female');
    expect(read.text).not.toMatch(/Researchfamily|555-RESEARCH|Hiddenville|MRN-HIDDEN/);
    expect((await c.call(t, 'GET', `Patient/${outside.id}`)).status).toBe(404);
    expect((await c.call(t, 'GET', 'Patient')).body.total).toBe(1);
    expect((await c.call(t, 'GET', 'Patient?name=Researchfamily')).status).toBe(403);
    expect((await c.call(t, 'GET', `Patient/${inCohort.id}/_history`)).status).toBe(403);
    expect((await c.call(t, 'PUT', `Patient/${inCohort.id}`, read.body)).status).toBe(403);
    expect((await c.call(t, 'POST', 'Patient', patient('New'))).status).toBe(403);
  });
});
