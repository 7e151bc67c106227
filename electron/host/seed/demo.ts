// `--demo`: seeds the clinic of ../shared/seed/user-management-guide.txt on an empty data folder, through
// the store in short transactions (each Synthea Bundle, then the people and their records in one):
// project "General Hospital - Main Campus", Dr. Sarah Chen (practitioner and patient memberships),
// Nurse Jennifer Williams, Robert Johnson (guardian of Mary Johnson), a researcher and an admin, all
// with the password DEMO_PASSWORD. On a folder that already holds a project it does nothing.
import type { WithId } from '@medplum/core';
import type { AccessPolicy, Bundle, Organization, Patient, Practitioner, Project, ProjectMembership, Reference, Resource, User } from '@medplum/fhirtypes';
import { hashPassword } from '../auth/passwords.ts';
import { createMembership, createProfile, createUser } from '../admin/identities.ts';
import { setupNeeded } from '../admin/setup.ts';
import { DEFAULT_PROJECT_ID, normalizeForStore } from './store-helpers.ts';
import type { Access, CallContext } from '../access/index.ts';
import type { Directory } from '../auth/directory.ts';
import { addTag, generatedPatients, labPanel, loadSyntheaBundles, patientOf, transactionOf, vitalsRecord } from './fixtures.ts';
import { COHORT_TAG, CONFIDENTIAL_TAG, demoPolicies } from './policies.ts';

export const DEMO_PASSWORD = 'outpost-demo-1';
export const DEMO_PROJECT_NAME = 'General Hospital - Main Campus';
export const DEMO_TAG = { system: 'https://outpost.local/fhir/CodeSystem/demo', code: 'demo-clinic', display: 'Outpost demo clinic' };

export interface DemoLogin {
  email: string;
  who: string;
  roles: string;
}

export const DEMO_LOGINS: DemoLogin[] = [
  { email: 'admin@demo.outpost', who: 'Alex Rivera', roles: 'project admin (Clinic administrator policy)' },
  { email: 'sarah.chen@demo.outpost', who: 'Dr. Sarah Chen', roles: 'Practitioner (attending physician) and Patient (patient portal)' },
  { email: 'jennifer.williams@demo.outpost', who: 'Nurse Jennifer Williams', roles: 'Practitioner (registered nurse, her care team)' },
  { email: 'robert.johnson@demo.outpost', who: 'Robert Johnson', roles: "RelatedPerson (family caregiver of Mary Johnson)" },
  { email: 'researcher@demo.outpost', who: 'Hannah Brooks', roles: 'Practitioner (research: study cohort 2024, identities hidden)' },
];

export interface DemoSeedResult {
  /** false when the folder already held a project (nothing was written). */
  seeded: boolean;
  /** true when the folder holds the demo clinic (just seeded or seeded before). */
  demo: boolean;
  projectId: string;
  resources: number;
  seconds: number;
  /** Ids of well-known records (only when seeded now). */
  ids?: { mary: string; sarahPatient: string; confidential: string; chenPractitioner: string; nurse: string };
}

/** What the seed needs of a host: the identity directory and the access service (a Host is one). */
export interface DemoSeedHost {
  access: Pick<Access, 'system' | 'credentials'>;
  auth: { directory: Pick<Directory, 'hasIdentities' | 'read'> };
}

/** Does the folder hold the demo clinic? */
export function isDemoFolder(directory: Pick<Directory, 'read'>): boolean {
  const project = directory.read<Project>('Project', DEFAULT_PROJECT_ID);
  return project?.meta?.tag?.some((t) => t.system === DEMO_TAG.system && t.code === DEMO_TAG.code) === true;
}

function idOf(location: string | undefined): string {
  const [, id] = (location ?? '').split('/');
  if (!id) {
    throw new Error(`demo seed: no id in ${location}`);
  }
  return id;
}

/** Seeds the demo clinic as the host's named system work ('Demo clinic seed' in the AuditEvents). */
export async function seedDemo(host: DemoSeedHost, options: { syntheaDir?: string; now?: () => number } = {}): Promise<DemoSeedResult> {
  const now = options.now ?? (() => performance.now());
  const start = now();
  const project = DEFAULT_PROJECT_ID;
  const { directory } = host.auth;
  if (!setupNeeded(directory)) {
    return { seeded: false, demo: isDemoFolder(directory), projectId: project, resources: 0, seconds: 0 };
  }
  const store = host.access.system(project, { name: 'Demo clinic seed' });
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  const ctx: CallContext = { project };
  const bulk: CallContext = { project, validation: 'structure' };
  const create = <T extends Resource>(resource: T): WithId<T> => store.create<T>(resource, undefined, ctx).resource as WithId<T>;
  let resources = 0;

  // 1. The clinic's staff and its policies: the Synthea patients are attached to Dr. Chen below.
  const staff = store.transaction(() => {
    const organization = create<Organization>({ resourceType: 'Organization', name: DEMO_PROJECT_NAME, active: true });
    const worksAt = { reference: `Organization/${organization.id}` };
    const practitioner = (given: string, family: string, prefix: string, qualification: [string, string]): WithId<Practitioner> =>
      create<Practitioner>({
        resourceType: 'Practitioner',
        active: true,
        name: [{ prefix: [prefix], given: [given], family }],
        telecom: [{ system: 'email', value: `${given}.${family}@demo.outpost`.toLowerCase(), use: 'work' }],
        qualification: [{ code: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0360', code: qualification[0], display: qualification[1] }] }, issuer: worksAt }],
      });
    const policies = Object.fromEntries(
      Object.entries(demoPolicies()).map(([key, policy]) => [key, create<AccessPolicy>(normalizeForStore(policy))])
    ) as Record<keyof ReturnType<typeof demoPolicies>, WithId<AccessPolicy>>;
    return {
      organization,
      chen: practitioner('Sarah', 'Chen', 'Dr.', ['MD', 'Doctor of Medicine']),
      nurse: practitioner('Jennifer', 'Williams', 'RN', ['RN', 'Registered Nurse']),
      admin: practitioner('Alex', 'Rivera', 'Mx.', ['BA', 'Bachelor of Arts']),
      researcher: practitioner('Hannah', 'Brooks', 'Dr.', ['PHD', 'Doctor of Philosophy']),
      policies,
    };
  });
  resources += 9;
  const chenRef: Reference<Practitioner> = { reference: `Practitioner/${staff.chen.id}`, display: 'Dr. Sarah Chen' };

  // 2. A handful of Synthea patients: Dr. Chen is the general practitioner of the first four, the study
  // cohort is the 3rd to 6th, Nurse Williams's care team has the 5th and 6th. One transaction per Bundle.
  const syntheaPatients: string[] = [];
  const bundles = loadSyntheaBundles(options.syntheaDir);
  for (const bundle of bundles) {
    const patient = patientOf(bundle);
    if (patient) {
      const n = syntheaPatients.length;
      if (n < 4) {
        patient.generalPractitioner = [chenRef];
      }
      if (n >= 2 && n < 6) {
        addTag(patient, COHORT_TAG);
      }
    }
    const response = store.processBundle(bundle, bulk) as Bundle;
    resources += bundle.entry?.length ?? 0;
    if (patient) {
      const index = bundle.entry!.findIndex((e) => e.resource === patient);
      syntheaPatients.push(idOf(response.entry?.[index]?.response?.location));
    }
    await new Promise((resolve) => setImmediate(resolve));
  }

  // 3. The demo people, their records, care teams, logins and memberships; the Project last, in one transaction.
  const ids = store.transaction(() => {
    const mrn = (value: string) => [{ system: 'https://outpost.local/mrn', value }];
    const mary = create<Patient>({
      resourceType: 'Patient',
      name: [{ given: ['Mary'], family: 'Johnson' }],
      gender: 'female',
      birthDate: '1948-03-14',
      identifier: mrn('MRN-789'),
      telecom: [{ system: 'email', value: 'mary.johnson@email.com' }, { system: 'phone', value: '555-0134' }],
      address: [{ line: ['12 Elm Street'], city: 'Springfield', state: 'IL', postalCode: '62701' }],
      generalPractitioner: [chenRef],
    });
    const sarahPatient = create<Patient>({
      resourceType: 'Patient',
      name: [{ given: ['Sarah'], family: 'Chen' }],
      gender: 'female',
      birthDate: '1984-06-02',
      identifier: mrn('MRN-1001'),
    });
    const confidential = create<Patient>({
      resourceType: 'Patient',
      meta: { tag: [CONFIDENTIAL_TAG] },
      name: [{ given: ['Morgan'], family: 'Masked' }],
      gender: 'other',
      birthDate: '1990-09-09',
      identifier: mrn('MRN-4001'),
      telecom: [{ system: 'phone', value: '555-0199' }],
      address: [{ line: ['1 Quiet Lane'], city: 'Springfield', state: 'IL' }],
      generalPractitioner: [chenRef],
    });
    const cohortGenerated = new Set([0, 5, 9]);
    const generated = generatedPatients(chenRef).map((p, i) => {
      if (cohortGenerated.has(i)) {
        addTag(p, COHORT_TAG);
      }
      return create(p);
    });
    const records = [
      ...vitalsRecord({ reference: `Patient/${mary.id}`, display: 'Mary Johnson' }),
      ...labPanel({ reference: `Patient/${mary.id}`, display: 'Mary Johnson' }),
      ...vitalsRecord({ reference: `Patient/${sarahPatient.id}`, display: 'Sarah Chen' }, '2024-03-04T14:00:00Z').slice(0, 8),
    ];
    store.processBundle(transactionOf(records), ctx);

    const careTeamPatients = [mary.id, confidential.id, ...syntheaPatients.slice(4, 6)];
    for (const patientId of careTeamPatients) {
      create({
        resourceType: 'CareTeam',
        status: 'active',
        name: 'Ward 4B care team',
        subject: { reference: `Patient/${patientId}` },
        participant: [
          { role: [{ text: 'Registered nurse' }], member: { reference: `Practitioner/${staff.nurse.id}`, display: 'Nurse Jennifer Williams' } },
          { role: [{ text: 'Attending physician' }], member: chenRef as Reference<Practitioner> },
        ],
        managingOrganization: [{ reference: `Organization/${staff.organization.id}` }],
      });
    }

    const policyRef = (p: WithId<AccessPolicy>): Reference<AccessPolicy> => ({ reference: `AccessPolicy/${p.id}`, display: p.name });
    const person = (email: string, firstName: string, lastName: string): WithId<User> => {
      const user = createUser(store, project, { email, firstName, lastName });
      host.access.credentials.setSecrets(user.id, { passwordHash });
      return user;
    };
    const membership = (user: WithId<User>, profile: { resourceType: string; id: string }, display: string, fields: Parameters<typeof createMembership>[5]): WithId<ProjectMembership> =>
      createMembership(store, project, user, profile, display, fields);
    const { policies } = staff;

    const admin = person('admin@demo.outpost', 'Alex', 'Rivera');
    membership(admin, staff.admin, 'Alex Rivera', { admin: true, accessPolicy: policyRef(policies.administrator) });
    const chen = person('sarah.chen@demo.outpost', 'Sarah', 'Chen');
    membership(chen, staff.chen, 'Dr. Sarah Chen', { accessPolicy: policyRef(policies.attendingPhysician) });
    membership(chen, sarahPatient, 'Sarah Chen', { accessPolicy: policyRef(policies.patientPortal) });
    const nurse = person('jennifer.williams@demo.outpost', 'Jennifer', 'Williams');
    membership(nurse, staff.nurse, 'Nurse Jennifer Williams', {
      accessPolicy: policyRef(policies.registeredNurse),
      access: careTeamPatients.map((patientId) => ({
        policy: policyRef(policies.careTeamPatient),
        parameter: [{ name: 'patient', valueReference: { reference: `Patient/${patientId}` } }],
      })),
    });
    const robert = person('robert.johnson@demo.outpost', 'Robert', 'Johnson');
    const guardian = createProfile(store, project, 'RelatedPerson', { email: robert.email!, firstName: 'Robert', lastName: 'Johnson' }, {
      patient: { reference: `Patient/${mary.id}`, display: 'Mary Johnson' },
      relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'GUARD', display: 'Guardian' }] }],
      active: true,
    });
    membership(robert, guardian, 'Robert Johnson', {
      access: [{ policy: policyRef(policies.familyCaregiver), parameter: [{ name: 'patient', valueReference: { reference: `Patient/${mary.id}` } }] }],
    });
    const researcher = person('researcher@demo.outpost', 'Hannah', 'Brooks');
    membership(researcher, staff.researcher, 'Hannah Brooks (research)', { accessPolicy: policyRef(policies.research) });

    store.update(
      {
        resourceType: 'Project',
        id: project,
        meta: { tag: [DEMO_TAG] },
        name: DEMO_PROJECT_NAME,
        description: 'Primary hospital system for General Hospital (Outpost demo clinic)',
        owner: { reference: `User/${admin.id}`, display: admin.email },
      },
      undefined,
      ctx
    );
    resources += 3 + generated.length + records.length + careTeamPatients.length + 5 + 6 + 1 + 1;
    return { mary: mary.id, sarahPatient: sarahPatient.id, confidential: confidential.id, chenPractitioner: staff.chen.id, nurse: staff.nurse.id };
  });

  return { seeded: true, demo: true, projectId: project, resources, seconds: (now() - start) / 1000, ids };
}
