// The AccessPolicies of the demo clinic (../shared/seed/user-management-guide.txt), written in the
// forms the guide uses and valid for Outpost's engine (validateAccessPolicy accepts every one):
// - attending physician: her patients through Patient.generalPractitioner, their clinical data through
//   a chain on each type's `patient` parameter (Outpost supports chains in criteria, for reads and writes);
// - registered nurse: R4 Patient has no `care-team` parameter, so her patients are those of a CareTeam
//   she participates in (`_has:CareTeam:patient:participant`); their records come from the
//   care-team-patient policy given once per patient (membership access[] with a `patient` parameter,
//   as Robert's), since a reverse chain cannot follow a forward one in criteria. Confidential patients
//   of her care team come first with contact details and identifiers hidden (so she reads patients and
//   does not edit them: an update entry would let her write the hidden fields). Observations she writes
//   must be preliminary or final (writeConstraint);
// - patient portal / family caregiver: one patient compartment (the profile, or the `patient` parameter);
// - research: the study cohort by tag, identity fields hidden, read and search only.
import type { AccessPolicy, AccessPolicyResource } from '@medplum/fhirtypes';

export const COHORT_TAG = { system: 'https://outpost.local/fhir/CodeSystem/study', code: 'study-cohort-2024', display: 'Study cohort 2024' };
export const CONFIDENTIAL_TAG = { system: 'https://outpost.local/fhir/CodeSystem/demo', code: 'confidential', display: 'Confidential patient' };

/** Types holding a patient's clinical record, each with a `patient` search parameter. */
export const CLINICAL_TYPES = [
  'Observation',
  'Condition',
  'Encounter',
  'MedicationRequest',
  'AllergyIntolerance',
  'Immunization',
  'Procedure',
  'DiagnosticReport',
  'CarePlan',
  'CareTeam',
  'DocumentReference',
  'ImagingStudy',
  'Goal',
] as const;

const READ: AccessPolicyResource['interaction'] = ['read', 'vread', 'search', 'history'];
const WRITE: AccessPolicyResource['interaction'] = ['create', 'read', 'vread', 'update', 'search', 'history'];

/** Who works here: readable by every clinical role (names on encounters, the care team, the chart). */
const DIRECTORY: AccessPolicyResource[] = ['Practitioner', 'PractitionerRole', 'Organization', 'Location', 'Medication'].map((resourceType) => ({
  resourceType,
  interaction: ['read', 'search'],
}));

const OBSERVATION_STATUS = {
  language: 'text/fhirpath' as const,
  expression: "status = 'preliminary' or status = 'final'",
  description: 'Write constraint: Observation status must be preliminary or final',
};

export interface DemoPolicies {
  attendingPhysician: AccessPolicy;
  registeredNurse: AccessPolicy;
  careTeamPatient: AccessPolicy;
  patientPortal: AccessPolicy;
  familyCaregiver: AccessPolicy;
  research: AccessPolicy;
  administrator: AccessPolicy;
}

export function demoPolicies(): DemoPolicies {
  return {
    attendingPhysician: {
      resourceType: 'AccessPolicy',
      name: 'Attending physician',
      resource: [
        {
          resourceType: 'Patient',
          criteria: 'Patient?general-practitioner=Practitioner/{%user.profile.id}',
          interaction: WRITE,
        },
        ...CLINICAL_TYPES.map((resourceType) => ({
          resourceType,
          criteria: `${resourceType}?patient.general-practitioner=Practitioner/{%user.profile.id}`,
          interaction: WRITE,
        })),
        ...DIRECTORY,
      ],
    },
    registeredNurse: {
      resourceType: 'AccessPolicy',
      name: 'Registered nurse',
      resource: [
        {
          resourceType: 'Patient',
          criteria: `Patient?_tag=${CONFIDENTIAL_TAG.system}|${CONFIDENTIAL_TAG.code}&_has:CareTeam:patient:participant=Practitioner/{%user.profile.id}`,
          interaction: ['read', 'vread', 'search', 'history'],
          hiddenFields: ['telecom', 'address', 'identifier'],
        },
        {
          resourceType: 'Patient',
          criteria: 'Patient?_has:CareTeam:patient:participant=Practitioner/{%user.profile.id}',
          interaction: ['read', 'vread', 'search', 'history'],
        },
        { resourceType: 'CareTeam', criteria: 'CareTeam?participant=Practitioner/{%user.profile.id}', interaction: READ },
        ...DIRECTORY,
      ],
    },
    careTeamPatient: {
      resourceType: 'AccessPolicy',
      name: 'Care team patient record',
      resource: [
        {
          resourceType: 'Observation',
          compartment: { reference: 'Patient/{%patient.id}' },
          interaction: WRITE,
          writeConstraint: [OBSERVATION_STATUS],
        },
        ...CLINICAL_TYPES.filter((t) => t !== 'Observation' && t !== 'CareTeam').map((resourceType) => ({
          resourceType,
          compartment: { reference: 'Patient/{%patient.id}' },
          interaction: READ,
        })),
      ],
    },
    patientPortal: {
      resourceType: 'AccessPolicy',
      name: 'Patient portal',
      resource: [{ resourceType: '*', compartment: { reference: 'Patient/{%patient.id}' }, interaction: READ }, ...DIRECTORY],
    },
    familyCaregiver: {
      resourceType: 'AccessPolicy',
      name: 'Family caregiver',
      resource: [{ resourceType: '*', compartment: { reference: 'Patient/{%patient.id}' }, interaction: READ }, ...DIRECTORY],
    },
    research: {
      resourceType: 'AccessPolicy',
      name: 'Research: study cohort 2024',
      resource: [
        {
          resourceType: 'Patient',
          criteria: 'Patient?_tag=study-cohort-2024',
          interaction: ['read', 'search'],
          hiddenFields: ['name', 'telecom', 'address', 'identifier'],
        },
        { resourceType: 'Observation', criteria: 'Observation?patient._tag=study-cohort-2024', interaction: ['read', 'search'] },
        { resourceType: 'Condition', criteria: 'Condition?patient._tag=study-cohort-2024', interaction: ['read', 'search'] },
      ],
    },
    administrator: {
      resourceType: 'AccessPolicy',
      name: 'Clinic administrator',
      resource: [{ resourceType: '*' }],
    },
  };
}
