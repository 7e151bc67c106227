// Clinical data of the demo clinic: a handful of Synthea patients from ../shared/fixtures (when the
// folder is there) and a few generated records (Mary Johnson's two years of vitals, patients to page
// through). Synthea Bundles are edited before they are stored: the demo people are attached to them.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Bundle, Coding, Observation, Patient, Practitioner, Reference, Resource } from '@medplum/fhirtypes';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const SYNTHEA_DIR = resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'synthea-r4');

/**
 * The Synthea patients of the demo: a fixed handful (hospitalInformation holds the organizations and
 * practitioners their encounters reference). Jacob Larson is left out on purpose: the UI tests import him.
 */
export const DEMO_SYNTHEA_FILES = [
  'hospitalInformation1559319163815.json.gz',
  'Abdul_Koepp_e925b0f3-8006-43f6-aa31-94bd215e55e7.json.gz',
  'Alfonso_Dietrich_96160268-66b9-4c07-aa11-0a72de133a52.json.gz',
  'Angelic_Mueller_29d755a6-32fa-482e-8fdd-081300209df8.json.gz',
  'Asa_Hermiston_4384bf23-1dc3-48ca-8c84-89fbaff201ae.json.gz',
  'Beatrice_Aufderhar_5451401c-ab1b-4adc-9df6-c02e856e492a.json.gz',
  'Blake_Eichmann_6c099f2d-1173-468d-b95f-4fbf960b3b55.json.gz',
  'Carlota_Muro_ba29bb08-e7d6-44c2-92cc-894cc29b8494.json.gz',
];

/** The Synthea transaction Bundles of the demo, or [] when the fixtures folder is absent. */
export function loadSyntheaBundles(dir = SYNTHEA_DIR): Bundle[] {
  return DEMO_SYNTHEA_FILES.map((file) => join(dir, file))
    .filter((file) => existsSync(file))
    .map((file) => JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as Bundle);
}

/** The Patient entry of a Synthea Bundle (each holds one), to be edited before the Bundle is stored. */
export function patientOf(bundle: Bundle): Patient | undefined {
  return bundle.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as Patient | undefined;
}

export function addTag(resource: Resource, tag: Coding): void {
  resource.meta = { ...resource.meta, tag: [...(resource.meta?.tag ?? []), tag] };
}

const GIVEN = ['Alice', 'Bruno', 'Carla', 'Dev', 'Elena', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jonas', 'Kemal', 'Lena', 'Mateo', 'Nora', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Sven', 'Tara', 'Umar', 'Vera', 'Wen', 'Yara'];
const FAMILY = ['Okafor', 'Silva', 'Nguyen', 'Kowalski', 'Haddad', 'Moreau', 'Tanaka', 'Fischer'];
const MRN = 'https://outpost.local/mrn';

/** Patients to page through (no clinical data). */
export function generatedPatients(generalPractitioner: Reference<Practitioner>): Patient[] {
  return GIVEN.map((given, i): Patient => ({
    resourceType: 'Patient',
    name: [{ given: [given], family: FAMILY[i % FAMILY.length] }],
    gender: i % 2 ? 'male' : 'female',
    birthDate: `19${50 + i}-0${(i % 9) + 1}-1${i % 9}`,
    identifier: [{ system: MRN, value: `MRN-3${String(i).padStart(3, '0')}` }],
    generalPractitioner: [generalPractitioner],
  }));
}

const VITALS = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Vital signs' }] };
const quantity = (value: number, unit: string) => ({ value, unit, system: 'http://unitsofmeasure.org', code: unit });
const loinc = (code: string, display: string, text: string) => ({ coding: [{ system: 'http://loinc.org', code, display }], text });

/** Twelve visits two months apart with weight, blood pressure and heart rate, plus a small problem list. */
export function vitalsRecord(patient: Reference<Patient>, start = '2024-01-10T09:30:00Z'): Resource[] {
  const out: Resource[] = [];
  const t0 = Date.parse(start);
  for (let i = 0; i < 12; i++) {
    const when = new Date(t0 + i * 61 * 86_400_000).toISOString();
    const encounterId = `urn:uuid:${crypto.randomUUID()}`;
    out.push({
      resourceType: 'Encounter',
      id: encounterId,
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
      type: [{ text: 'Follow-up visit' }],
      subject: patient,
      period: { start: when, end: new Date(Date.parse(when) + 1_800_000).toISOString() },
    });
    const common: Omit<Observation, 'code'> = { resourceType: 'Observation', status: 'final', category: [VITALS], subject: patient, encounter: { reference: encounterId }, effectiveDateTime: when };
    out.push({ ...common, code: loinc('29463-7', 'Body weight', 'Body weight'), valueQuantity: quantity(Math.round((82 - i * 0.6 + (i % 3) * 0.4) * 10) / 10, 'kg') });
    out.push({
      ...common,
      code: loinc('85354-9', 'Blood pressure panel', 'Blood pressure'),
      component: [
        { code: loinc('8480-6', 'Systolic blood pressure', 'Systolic'), valueQuantity: quantity(148 - i * 2 + (i % 2) * 3, 'mm[Hg]') },
        { code: loinc('8462-4', 'Diastolic blood pressure', 'Diastolic'), valueQuantity: quantity(92 - i + (i % 2) * 2, 'mm[Hg]') },
      ],
    });
    out.push({ ...common, code: loinc('8867-4', 'Heart rate', 'Heart rate'), valueQuantity: quantity(74 + (i % 4) * 3, '/min') });
  }
  const active = (system: string) => ({ coding: [{ system, code: 'active' }] });
  out.push(
    { resourceType: 'Condition', subject: patient, code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003', display: 'Hypertension' }], text: 'Hypertension' }, clinicalStatus: active('http://terminology.hl7.org/CodeSystem/condition-clinical'), onsetDateTime: '2019-05-01' },
    { resourceType: 'Condition', subject: patient, code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006', display: 'Type 2 diabetes mellitus' }], text: 'Type 2 diabetes mellitus' }, clinicalStatus: active('http://terminology.hl7.org/CodeSystem/condition-clinical'), onsetDateTime: '2021-02-11' },
    { resourceType: 'AllergyIntolerance', patient, code: { text: 'Penicillin' }, criticality: 'high', clinicalStatus: active('http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical') },
    { resourceType: 'Immunization', patient, status: 'completed', vaccineCode: { text: 'Influenza, seasonal' }, occurrenceDateTime: '2024-10-02' },
    { resourceType: 'MedicationRequest', subject: patient, status: 'active', intent: 'order', medicationCodeableConcept: { text: 'Lisinopril 10 mg tablet' }, authoredOn: '2024-01-10' },
    { resourceType: 'CarePlan', subject: patient, status: 'active', intent: 'plan', title: 'Hypertension management', period: { start: '2024-01-10' } }
  );
  return out;
}

const LAB = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory', display: 'Laboratory' }] };
const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
const flag = (code: string, display: string) => [{ coding: [{ system: INTERPRETATION, code, display }] }];

/**
 * A recent lab panel (a DiagnosticReport listing its results) with reference ranges and interpretation
 * flags, one of them critical, and a temperature in UCUM's Cel: what the chart shows a clinician.
 */
export function labPanel(patient: Reference<Patient>, when = '2025-11-03T08:15:00Z'): Resource[] {
  const result = (code: string, display: string, value: number, unit: string, low: number, high: number, interpretation?: [string, string]): Observation => ({
    resourceType: 'Observation',
    id: `urn:uuid:${crypto.randomUUID()}`,
    status: 'final',
    category: [LAB],
    code: loinc(code, display, display),
    subject: patient,
    effectiveDateTime: when,
    valueQuantity: quantity(value, unit),
    referenceRange: [{ low: quantity(low, unit), high: quantity(high, unit) }],
    ...(interpretation ? { interpretation: flag(...interpretation) } : {}),
  });
  const results = [
    result('2345-7', 'Glucose [Mass/volume] in Serum or Plasma', 182, 'mg/dL', 70, 99, ['H', 'High']),
    result('2823-3', 'Potassium [Moles/volume] in Serum or Plasma', 6.6, 'mmol/L', 3.5, 5.1, ['HH', 'Critical high']),
    result('2951-2', 'Sodium [Moles/volume] in Serum or Plasma', 139, 'mmol/L', 136, 145, ['N', 'Normal']),
    result('2160-0', 'Creatinine [Mass/volume] in Serum or Plasma', 1.12, 'mg/dL', 0.6, 1.2),
    result('4548-4', 'Hemoglobin A1c/Hemoglobin.total in Blood', 8.14, '%', 4, 5.6, ['H', 'High']),
  ];
  const report: Resource = {
    resourceType: 'DiagnosticReport',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'LAB', display: 'Laboratory' }] }],
    code: loinc('51990-0', 'Basic metabolic panel - Blood', 'Basic metabolic panel'),
    subject: patient,
    effectiveDateTime: when,
    issued: when,
    result: results.map((r) => ({ reference: r.id })),
  };
  const temperature: Observation = {
    resourceType: 'Observation',
    status: 'final',
    category: [VITALS],
    code: loinc('8310-5', 'Body temperature', 'Body temperature'),
    subject: patient,
    effectiveDateTime: when,
    valueQuantity: quantity(37.228177948059454, 'Cel'),
  };
  return [...results, report, temperature];
}

/** A transaction Bundle creating `resources` (entries with a `urn:uuid:` id keep it as their fullUrl). */
export function transactionOf(resources: Resource[]): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map((resource) => {
      const { id, ...rest } = resource;
      const fullUrl = id?.startsWith('urn:uuid:') ? id : `urn:uuid:${crypto.randomUUID()}`;
      return { fullUrl, resource: rest as Resource, request: { method: 'POST', url: resource.resourceType } };
    }),
  };
}
