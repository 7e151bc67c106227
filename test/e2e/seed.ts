// A small clinic for the UI tests until the host's `--demo` seed exists: the project of the guide,
// Dr. Sarah Chen (Practitioner and Patient memberships), Nurse Jennifer Williams, an admin, Mary
// Johnson with two years of vitals, and enough other patients to page. Everything lives in the store's
// default project because the FHIR routes are not yet scoped to a session's project.
import type { Resource } from '@medplum/fhirtypes';
import bcrypt from 'bcryptjs';
import { DEFAULT_PROJECT_ID } from '../../electron/host/db/project.ts';
import type { Store } from '../../electron/host/store/types.ts';

export const DEMO_PASSWORD = 'outpost-demo-1';
export const PROJECT_NAME = 'General Hospital - Main Campus';
/** TOTP secret (base32) of the MFA-enrolled test user `MFA_EMAIL`. */
export const MFA_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
export const MFA_EMAIL = 'mfa.demo@demo.outpost';

export interface SeededClinic {
  maryId: string;
  /** A record as the host sends it to a role with hidden fields (the masked marker, see renderer/src/api/access.ts). */
  maskedId: string;
  sarahPatientId: string;
  patientCount: number;
}

const GIVEN = ['Alice', 'Bruno', 'Carla', 'Dev', 'Elena', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jonas', 'Kemal', 'Lena', 'Mateo', 'Nora', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Sven', 'Tara', 'Umar', 'Vera', 'Wen', 'Yara'];
const FAMILY = ['Okafor', 'Silva', 'Nguyen', 'Kowalski', 'Haddad', 'Moreau', 'Tanaka', 'Fischer'];

export function seedClinic(store: Store): SeededClinic {
  const create = <T extends Resource>(r: T): T & { id: string } => store.create<T>(r).resource as T & { id: string };
  const hash = bcrypt.hashSync(DEMO_PASSWORD, 8);
  store.update({ resourceType: 'Project', id: DEFAULT_PROJECT_ID, name: PROJECT_NAME });
  const project = { reference: `Project/${DEFAULT_PROJECT_ID}`, display: PROJECT_NAME };

  const person = (email: string, firstName: string, lastName: string, profiles: { type: 'Practitioner' | 'Patient'; id: string; display: string; admin?: boolean }[]): void => {
    const mfa = email === MFA_EMAIL ? { mfaEnrolled: true, mfaSecret: MFA_SECRET } : {};
    const user = create({ resourceType: 'User', firstName, lastName, email, passwordHash: hash, ...mfa } as Resource);
    for (const p of profiles) {
      create({
        resourceType: 'ProjectMembership',
        project,
        user: { reference: `User/${user.id}`, display: email },
        profile: { reference: `${p.type}/${p.id}`, display: p.display },
        ...(p.admin ? { admin: true } : {}),
      } as Resource);
    }
  };

  const chen = create({ resourceType: 'Practitioner', name: [{ prefix: ['Dr.'], given: ['Sarah'], family: 'Chen' }] });
  const sarahPatient = create({ resourceType: 'Patient', name: [{ given: ['Sarah'], family: 'Chen' }], gender: 'female', birthDate: '1984-06-02', identifier: [{ system: 'https://outpost.local/mrn', value: 'MRN-1001' }] });
  person('sarah.chen@demo.outpost', 'Sarah', 'Chen', [
    { type: 'Practitioner', id: chen.id, display: 'Dr. Sarah Chen' },
    { type: 'Patient', id: sarahPatient.id, display: 'Sarah Chen' },
  ]);
  const nurse = create({ resourceType: 'Practitioner', name: [{ given: ['Jennifer'], family: 'Williams' }] });
  person('jennifer.williams@demo.outpost', 'Jennifer', 'Williams', [{ type: 'Practitioner', id: nurse.id, display: 'Nurse Jennifer Williams' }]);
  const admin = create({ resourceType: 'Practitioner', name: [{ given: ['Alex'], family: 'Admin' }] });
  person('admin@demo.outpost', 'Alex', 'Admin', [{ type: 'Practitioner', id: admin.id, display: 'Alex Admin', admin: true }]);

  const mfaPerson = create({ resourceType: 'Practitioner', name: [{ given: ['Omar'], family: 'Factor' }] });
  person(MFA_EMAIL, 'Omar', 'Factor', [{ type: 'Practitioner', id: mfaPerson.id, display: 'Omar Factor' }]);

  const mary = create({
    resourceType: 'Patient',
    name: [{ given: ['Mary'], family: 'Johnson' }],
    gender: 'female',
    birthDate: '1948-03-14',
    identifier: [{ system: 'https://outpost.local/mrn', value: 'MRN-2001' }],
    telecom: [{ system: 'phone', value: '555-0134' }],
    address: [{ line: ['12 Elm Street'], city: 'Springfield', state: 'IL', postalCode: '62701' }],
  } as Resource);
  const subject = { reference: `Patient/${mary.id}` };
  const vitals = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Vital signs' }] };
  const start = Date.parse('2024-01-10T09:30:00Z');
  for (let i = 0; i < 12; i++) {
    const when = new Date(start + i * 61 * 86_400_000).toISOString();
    const encounter = create({ resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' }, type: [{ text: 'Follow-up visit' }], subject, period: { start: when, end: new Date(Date.parse(when) + 1_800_000).toISOString() } });
    const context = { reference: `Encounter/${encounter.id}` };
    create({ resourceType: 'Observation', status: 'final', category: [vitals], code: { coding: [{ system: 'http://loinc.org', code: '29463-7', display: 'Body weight' }], text: 'Body weight' }, subject, encounter: context, effectiveDateTime: when, valueQuantity: { value: Math.round((82 - i * 0.6 + (i % 3) * 0.4) * 10) / 10, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' } });
    create({
      resourceType: 'Observation',
      status: 'final',
      category: [vitals],
      code: { coding: [{ system: 'http://loinc.org', code: '85354-9', display: 'Blood pressure panel' }], text: 'Blood pressure' },
      subject,
      encounter: context,
      effectiveDateTime: when,
      component: [
        { code: { coding: [{ system: 'http://loinc.org', code: '8480-6', display: 'Systolic blood pressure' }], text: 'Systolic' }, valueQuantity: { value: 148 - i * 2 + (i % 2) * 3, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
        { code: { coding: [{ system: 'http://loinc.org', code: '8462-4', display: 'Diastolic blood pressure' }], text: 'Diastolic' }, valueQuantity: { value: 92 - i + (i % 2) * 2, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
      ],
    } as Resource);
    create({ resourceType: 'Observation', status: 'final', category: [vitals], code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }], text: 'Heart rate' }, subject, encounter: context, effectiveDateTime: when, valueQuantity: { value: 74 + (i % 4) * 3, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' } });
  }
  create({ resourceType: 'Condition', subject, code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003', display: 'Hypertension' }], text: 'Hypertension' }, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] }, onsetDateTime: '2019-05-01' });
  create({ resourceType: 'Condition', subject, code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006', display: 'Type 2 diabetes mellitus' }], text: 'Type 2 diabetes mellitus' }, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] }, onsetDateTime: '2021-02-11' });
  create({ resourceType: 'AllergyIntolerance', patient: subject, code: { text: 'Penicillin' }, criticality: 'high', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] } } as Resource);
  create({ resourceType: 'Immunization', patient: subject, status: 'completed', vaccineCode: { text: 'Influenza, seasonal' }, occurrenceDateTime: '2024-10-02' } as Resource);
  create({ resourceType: 'MedicationRequest', subject, status: 'active', intent: 'order', medicationCodeableConcept: { text: 'Lisinopril 10 mg tablet' }, authoredOn: '2024-01-10' } as Resource);
  create({ resourceType: 'CarePlan', subject, status: 'active', intent: 'plan', title: 'Hypertension management', period: { start: '2024-01-10' } } as Resource);

  const masked = create({
    resourceType: 'Patient',
    meta: {
      tag: [{ system: 'https://outpost.local/fhir/CodeSystem/access', code: 'masked' }],
      extension: ['telecom', 'address', 'identifier'].map((path) => ({ url: 'https://outpost.local/fhir/StructureDefinition/hidden-field', valueString: path })),
    },
    name: [{ given: ['Morgan'], family: 'Masked' }],
    gender: 'other',
    birthDate: '1990-09-09',
  } as Resource);

  let count = 3;
  for (let i = 0; i < GIVEN.length; i++) {
    create({ resourceType: 'Patient', name: [{ given: [GIVEN[i]], family: FAMILY[i % FAMILY.length] }], gender: i % 2 ? 'male' : 'female', birthDate: `19${50 + i}-0${(i % 9) + 1}-1${i % 9}`, identifier: [{ system: 'https://outpost.local/mrn', value: `MRN-3${String(i).padStart(3, '0')}` }] });
    count++;
  }
  return { maryId: mary.id, maskedId: masked.id, sarahPatientId: sarahPatient.id, patientCount: count };
}
