// Clinical values as the chart shows them (units, precision, blood pressure order, ranges and flags,
// dates, codes, names), and the actions the UI offers each demo role checked against the host itself:
// for every role and action, what `mayDo` says must be what the door does when the write is tried.
import type { AccessPolicy, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mayDo, mayOnType } from '../../renderer/src/api/access.ts';
import {
  ageText,
  conceptText,
  formatWhen,
  humaneUnit,
  interpretationFlag,
  observationValueText,
  personName,
  quantityText,
  referenceRangeText,
} from '../../renderer/src/components/clinical.ts';
import { createHost } from '../../electron/host/host.ts';
import { DEMO_PASSWORD, seedDemo, type DemoSeedResult } from '../../electron/host/seed/index.ts';
import { door, type Door } from '../admin/helpers.ts';

const UCUM = 'http://unitsofmeasure.org';
const q = (value: number, code: string) => ({ value, unit: code, system: UCUM, code });

describe('clinical values', () => {
  it('writes UCUM units for people', () => {
    expect(humaneUnit({ system: UCUM, code: 'mm[Hg]' })).toBe('mmHg');
    expect(humaneUnit({ system: UCUM, code: 'Cel' })).toBe('°C');
    expect(humaneUnit({ system: UCUM, code: '10*3/uL' })).toBe('10³/µL');
    expect(humaneUnit({ system: UCUM, code: '10*6/uL' })).toBe('10⁶/µL');
    expect(humaneUnit({ system: UCUM, code: '{score}' })).toBe('');
    expect(humaneUnit({ system: UCUM, code: 'kg/m2' })).toBe('kg/m²');
    expect(humaneUnit({ system: UCUM, code: 'ug/L' })).toBe('µg/L');
    expect(humaneUnit({ system: UCUM, code: 'mg/dL' })).toBe('mg/dL');
    expect(humaneUnit({ unit: 'tablets' })).toBe('tablets');
  });

  it('rounds values to clinically sensible precision, never adding decimals', () => {
    const obs = (code: string, quantity: ReturnType<typeof q>): Observation => ({ resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code }] }, valueQuantity: quantity });
    expect(observationValueText(obs('8310-5', q(37.228177948059454, 'Cel')))).toBe('37.2 °C');
    expect(observationValueText(obs('29463-7', q(92.20152064390265, 'kg')))).toBe('92.2 kg');
    expect(observationValueText(obs('8867-4', q(72, '/min')))).toBe('72 /min');
    expect(observationValueText(obs('59408-5', q(97.6, '%')))).toBe('98%');
    expect(observationValueText(obs('6690-2', q(7.30318, '10*3/uL')))).toBe('7.3 10³/µL');
    expect(observationValueText(obs('72514-3', q(3, '{score}')))).toBe('3');
    expect(quantityText(q(0.0123456, 'mg/dL'))).toBe('0.012 mg/dL');
  });

  it('writes blood pressure systolic first by LOINC code, whatever the order of the components', () => {
    const bp: Observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
      component: [
        { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: q(84.53, 'mm[Hg]') },
        { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: q(121.21, 'mm[Hg]') },
      ],
    };
    expect(observationValueText(bp)).toBe('121/85 mmHg');
  });

  it('shows reference ranges and interpretation flags, derived from the range when none is coded', () => {
    const lab = (value: number, interpretation?: string): Observation => ({
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '2823-3' }] },
      valueQuantity: q(value, 'mmol/L'),
      referenceRange: [{ low: q(3.5, 'mmol/L'), high: q(5.1, 'mmol/L') }],
      ...(interpretation ? { interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: interpretation }] }] } : {}),
    });
    expect(referenceRangeText(lab(4).referenceRange)).toBe('3.5–5.1 mmol/L');
    expect(referenceRangeText([{ low: q(60, 'mL/min') }])).toBe('≥ 60 mL/min');
    expect(interpretationFlag(lab(6.6, 'HH'))).toMatchObject({ code: 'HH', label: 'Critical high', severity: 'critical' });
    expect(interpretationFlag(lab(5.9))).toMatchObject({ code: 'H', label: 'High', severity: 'abnormal' });
    expect(interpretationFlag(lab(3.1))).toMatchObject({ code: 'L', severity: 'abnormal' });
    expect(interpretationFlag(lab(4))).toMatchObject({ code: 'N', severity: 'normal' });
    expect(interpretationFlag({ resourceType: 'Observation', status: 'final', code: {}, valueQuantity: q(1, 'g') })).toBeUndefined();
  });

  it('has one date format: date-only values without a time and without a time-zone shift', () => {
    expect(formatWhen('1948-03-14', 'en-US')).toBe('Mar 14, 1948');
    expect(formatWhen('2019-05-01', 'en-US')).not.toMatch(/12:00|AM|PM/);
    expect(formatWhen('2024-01-10T09:30:00Z', 'en-US')).toMatch(/^Jan 10, 2024, \d{1,2}:30\s?(AM|PM)$/);
    expect(formatWhen('2021-02', 'en-US')).toBe('Feb 2021');
    expect(formatWhen('1948-03-14', 'de-DE')).toBe('14. März 1948');
  });

  it('shows coded values by their display and names one way', () => {
    const married = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'M', display: 'M' }], text: 'M' };
    expect(conceptText(married)).toBe('Married');
    expect(conceptText({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] })).toBe('Active');
    expect(personName([{ use: 'old', given: ['Old'], family: 'Name' }, { use: 'official', prefix: ['Mrs.'], given: ['Mary'], family: 'Johnson' }])).toBe('Mrs. Mary Johnson');
    expect(ageText('1948-03-14', '2025-03-13')).toBe('76 y');
    expect(ageText('2025-01-01', '2025-03-13')).toBe('2 mo');
  });
});

describe('actions offered match what the host allows (the host is the oracle)', () => {
  let d: Door;
  let seeded: DemoSeedResult;
  const roles: Record<string, { token: string; policy: AccessPolicy; profile: string }> = {};

  beforeAll(async () => {
    d = door(createHost({ dataDir: ':memory:' }));
    seeded = await seedDemo(d.host);
    const logins: [string, string, string?][] = [
      ['admin', 'admin@demo.outpost'],
      ['chen', 'sarah.chen@demo.outpost', 'Practitioner/'],
      ['chenPatient', 'sarah.chen@demo.outpost', 'Patient/'],
      ['nurse', 'jennifer.williams@demo.outpost'],
      ['robert', 'robert.johnson@demo.outpost'],
      ['researcher', 'researcher@demo.outpost'],
    ];
    for (const [key, email, profile] of logins) {
      const token = await d.login(email, DEMO_PASSWORD, profile);
      const me = (await d.call(token, 'GET', '/auth/me')).body;
      roles[key] = { token, policy: me.accessPolicy, profile: `${me.profile.resourceType}/${me.profile.id}` };
    }
  }, 120_000);
  afterAll(() => d?.host.close());

  /** The host's answer to a write (201/200 allowed, 403 refused); the write is rolled back by deleting nothing: each is a fresh resource or a no-op change. */
  const hostAllows = async (token: string, method: 'POST' | 'PUT', resource: Resource): Promise<boolean> => {
    const path = method === 'POST' ? `/fhir/R4/${resource.resourceType}` : `/fhir/R4/${resource.resourceType}/${resource.id}`;
    const res = await d.call(token, method, path, resource);
    if (![200, 201, 403].includes(res.status)) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.status !== 403;
  };

  it('for every demo role: edit patient, record observation, new encounter, new condition, new patient', async () => {
    const maryRead = (await d.call(roles.admin.token, 'GET', `/fhir/R4/Patient/${seeded.ids!.mary}`)).body as Patient;
    const subject = { reference: `Patient/${maryRead.id}` };
    const summary: Record<string, Record<string, boolean>> = {};
    for (const [key, role] of Object.entries(roles)) {
      const read = await d.call(role.token, 'GET', `/fhir/R4/Patient/${maryRead.id}`);
      if (read.status !== 200) continue; // the chart does not open for this role: no action to offer
      const mary = read.body as Patient;
      const observation: Observation = { resourceType: 'Observation', status: 'final', code: { text: 'Heart rate' }, subject, valueQuantity: q(70, '/min') };
      const newPatient: Patient = { resourceType: 'Patient', name: [{ given: ['Test'], family: key }], ...(role.profile.startsWith('Practitioner/') ? { generalPractitioner: [{ reference: role.profile }] } : {}) };
      const actions: [string, 'POST' | 'PUT', 'create' | 'update', Resource][] = [
        ['edit patient', 'PUT', 'update', mary],
        ['record observation', 'POST', 'create', observation],
        ['new encounter', 'POST', 'create', { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject } as Resource],
        ['new condition', 'POST', 'create', { resourceType: 'Condition', code: { text: 'Test' }, subject } as Resource],
        ['new patient', 'POST', 'create', newPatient],
        ['new patient of nobody', 'POST', 'create', { resourceType: 'Patient', name: [{ family: 'Nobody' }] } as Resource],
      ];
      summary[key] = {};
      for (const [name, method, interaction, resource] of actions) {
        const offered = mayDo(role.policy, interaction, resource, mary);
        expect(offered, `${key}: ${name}`).toBe(await hostAllows(role.token, method, resource));
        summary[key][name] = offered;
      }
    }
    // What each role is offered on Mary's chart (the list): only the physician and the admin edit.
    expect(summary.chen).toEqual({ 'edit patient': true, 'record observation': true, 'new encounter': true, 'new condition': true, 'new patient': true, 'new patient of nobody': false });
    expect(summary.nurse).toEqual({ 'edit patient': false, 'record observation': true, 'new encounter': false, 'new condition': false, 'new patient': false, 'new patient of nobody': false });
    expect(summary.admin['new patient of nobody']).toBe(true);
    for (const readOnly of ['robert', 'researcher', 'chenPatient'].filter((k) => summary[k])) {
      expect(Object.values(summary[readOnly]).some(Boolean), readOnly).toBe(false);
    }
  });

  it('the chart asks only for the sections the role may search: each one the host answers 200, each one skipped 403', async () => {
    const types = ['Encounter', 'Condition', 'Observation', 'MedicationRequest', 'AllergyIntolerance', 'Immunization', 'CarePlan', 'DiagnosticReport'];
    for (const [key, role] of Object.entries(roles)) {
      for (const type of types) {
        const res = await d.call(role.token, 'GET', `/fhir/R4/${type}?patient=Patient/${seeded.ids!.mary}&_count=1`);
        expect(mayOnType(role.policy, 'search', type), `${key} ${type}`).toBe(res.status === 200);
      }
    }
  });
});
