// The spec's scenarios (../shared/spec/access-policy.md) where they are pure logic: which entries
// apply, what the masks and constraints do. The resource-level match of criteria is evaluated here
// in memory with @medplum/core's matchesSearchRequest for the test only: enforcement compiles the
// same criteria to SQL (search module), and its own tests go through the host's door.
import { matchesSearchRequest, parseSearchRequest } from '@medplum/core';
import type { AccessPolicy, AccessPolicyResource, Patient, ProjectMembership, Resource, ServiceRequest } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { removeHiddenFields, protectOnWrite } from '../../electron/host/access/policy/fields.ts';
import { entriesFor, governingEntry } from '../../electron/host/access/policy/interactions.ts';

/** The enforcement point's 403 pre-check: some entry lets the role do the interaction on the type. */
const typeAllowed = (...args: Parameters<typeof entriesFor>): boolean => entriesFor(...args).length > 0;
import { buildEffectivePolicy } from '../../electron/host/access/policy/policy-build.ts';
import type { EffectivePolicy, Interaction, PolicyEntry } from '../../electron/host/access/policy/types.ts';
import { compileWriteConstraints } from '../../electron/host/access/policy/write-constraints.ts';

const project = { reference: 'Project/general-hospital' };

function membership(profile: string, extra: Partial<ProjectMembership> = {}): ProjectMembership {
  return { resourceType: 'ProjectMembership', id: `m-${profile.replace('/', '-')}`, project, user: { reference: 'User/u' }, profile: { reference: profile }, ...extra };
}

function withPolicy(resource: AccessPolicyResource[], profile = 'Practitioner/doc'): EffectivePolicy {
  const policy: AccessPolicy = { resourceType: 'AccessPolicy', id: 'p', resource };
  return buildEffectivePolicy({ membership: membership(profile, { accessPolicy: { reference: 'AccessPolicy/p' } }), policies: new Map([['AccessPolicy/p', policy]]) });
}

/** In-memory stand-in for the SQL predicate of one entry (criteria and compartment). */
function matches(entry: PolicyEntry, resource: Resource): boolean {
  if (entry.criteria && !matchesSearchRequest(resource, parseSearchRequest(entry.criteria.replace(/^\*\?/, `${resource.resourceType}?`)))) {
    return false;
  }
  if (entry.compartment && !resource.meta?.compartment?.some((c) => c.reference === entry.compartment)) {
    return false;
  }
  return true;
}

function allows(policy: EffectivePolicy, interaction: Interaction, resource: Resource): boolean {
  return entriesFor(policy, resource.resourceType, interaction).some((e) => matches(e, resource));
}

/** create: the new resource matches a create entry. update: before AND after match an update entry. */
function canUpdate(policy: EffectivePolicy, before: Resource, after: Resource): boolean {
  return allows(policy, 'read', before) && allows(policy, 'update', before) && allows(policy, 'update', after);
}

describe('scenario 1: [Patient readonly]', () => {
  const policy = withPolicy([{ resourceType: 'Patient', readonly: true }]);
  it('read works; update and delete are refused for the type (403)', () => {
    expect(typeAllowed(policy, 'Patient', 'read')).toBe(true);
    expect(typeAllowed(policy, 'Patient', 'update')).toBe(false);
    expect(typeAllowed(policy, 'Patient', 'delete')).toBe(false);
  });
});

describe('scenario 2: [SR?status=active, SR?status=completed readonly]', () => {
  const policy = withPolicy([
    { resourceType: 'ServiceRequest', criteria: 'ServiceRequest?status=active' },
    { resourceType: 'ServiceRequest', criteria: 'ServiceRequest?status=completed', readonly: true },
  ]);
  const sr = (status: ServiceRequest['status']): ServiceRequest => ({ resourceType: 'ServiceRequest', id: 'sr1', status, intent: 'order', subject: { reference: 'Patient/p1' } });
  it('create active OK; active -> completed refused; read completed OK; PUT of a completed one, even unchanged, refused', () => {
    expect(allows(policy, 'create', sr('active'))).toBe(true);
    expect(canUpdate(policy, sr('active'), sr('completed'))).toBe(false);
    expect(allows(policy, 'read', sr('completed'))).toBe(true);
    expect(canUpdate(policy, sr('completed'), sr('completed'))).toBe(false);
    expect(canUpdate(policy, sr('active'), sr('active'))).toBe(true);
  });
});

describe('scenario 3: Condition interaction [create, read]', () => {
  const policy = withPolicy([{ resourceType: 'Condition', interaction: ['create', 'read'] }]);
  it('create and read OK; search, history, vread, update, delete 403', () => {
    expect(typeAllowed(policy, 'Condition', 'create')).toBe(true);
    expect(typeAllowed(policy, 'Condition', 'read')).toBe(true);
    for (const i of ['search', 'history', 'vread', 'update', 'delete'] as const) {
      expect(typeAllowed(policy, 'Condition', i), i).toBe(false);
    }
    expect(typeAllowed(policy, 'Condition', 'patch')).toBe(false);
  });
});

describe('scenario 4: Patient?_compartment=Organization/<own> for two users', () => {
  it('each policy is built with its own organization, as criteria for the SQL compiler', () => {
    const policy: AccessPolicy = { resourceType: 'AccessPolicy', id: 'org', resource: [{ resourceType: 'Patient', criteria: 'Patient?_compartment=Organization/%organization.id' }] };
    const build = (org: string) =>
      buildEffectivePolicy({
        membership: membership('Practitioner/x', { access: [{ policy: { reference: 'AccessPolicy/org' }, parameter: [{ name: 'organization', valueReference: { reference: `Organization/${org}` } }] }] }),
        policies: new Map([['AccessPolicy/org', policy]]),
      });
    expect(build('a').entries[0].criteria).toBe('Patient?_compartment=Organization/a');
    expect(build('b').entries[0].criteria).toBe('Patient?_compartment=Organization/b');
  });
});

describe('scenario 5: hiddenFields [name.family]', () => {
  const policy = withPolicy([{ resourceType: 'Patient', hiddenFields: ['name.family'] }]);
  it('given kept, family gone in every name (read, search and history all use the same removal)', () => {
    const patient: Patient = { resourceType: 'Patient', id: 'p', name: [{ family: 'Johnson', given: ['Mary'] }, { family: 'Smith', given: ['M'] }] };
    const entry = governingEntry(entriesFor(policy, 'Patient', 'read'), (e) => matches(e, patient));
    const shown = removeHiddenFields(patient, entry?.hiddenFields ?? []);
    expect(shown.name).toEqual([{ given: ['Mary'] }, { given: ['M'] }]);
  });
});

describe('scenario 6: readonlyFields [identifier]', () => {
  const policy = withPolicy([{ resourceType: 'Patient', readonlyFields: ['identifier'] }]);
  const [entry] = policy.entries;
  const stored: Patient = { resourceType: 'Patient', id: 'p', identifier: [{ value: 'MRN-1' }] };
  it('dropped on create; on update adding or removing it has no effect', () => {
    expect(protectOnWrite({ after: stored, hidden: entry.hiddenFields, readonly: entry.readonlyFields, isCreate: true }).identifier).toBeUndefined();
    const removed = protectOnWrite({ before: stored, after: { resourceType: 'Patient', id: 'p' }, hidden: [], readonly: entry.readonlyFields, isCreate: false });
    expect(removed.identifier).toEqual([{ value: 'MRN-1' }]);
    const added = protectOnWrite({
      before: { resourceType: 'Patient', id: 'p' },
      after: { resourceType: 'Patient', id: 'p', identifier: [{ value: 'X' }] },
      hidden: [],
      readonly: entry.readonlyFields,
      isCreate: false,
    });
    expect(added.identifier).toBeUndefined();
  });
});

describe('scenario 7: the writeConstraint pair', () => {
  const policy = withPolicy([
    {
      resourceType: 'Observation',
      writeConstraint: [
        { language: 'text/fhirpath', expression: "%before.exists() implies %before.status != 'final'", description: 'final is final' },
        { language: 'text/fhirpath', expression: "status = 'final' implies subject.exists()", description: 'final needs a subject' },
      ],
    },
  ]);
  const set = compileWriteConstraints(policy.entries[0].writeConstraints);
  it('create preliminary OK; final without subject 403; add subject OK; then cancelled 403', () => {
    const prelim = { resourceType: 'Observation', status: 'preliminary', code: { text: 'x' } } as const;
    const final = { ...prelim, status: 'final', subject: { reference: 'Patient/p' } } as const;
    expect(set.firstViolation({ after: prelim })).toBeUndefined();
    expect(set.firstViolation({ after: { ...prelim, status: 'final' } })?.description).toBe('final needs a subject');
    expect(set.firstViolation({ before: prelim, after: final })).toBeUndefined();
    expect(set.firstViolation({ before: final, after: { ...final, status: 'cancelled' } })?.description).toBe('final is final');
  });
});

describe('scenario 8: access[] twice with Patient?_id=%patient.id', () => {
  it('p1 and p2 readable, p3 not', () => {
    const perPatient: AccessPolicy = { resourceType: 'AccessPolicy', id: 'pp', resource: [{ resourceType: 'Patient', criteria: 'Patient?_id=%patient.id' }] };
    const policy = buildEffectivePolicy({
      membership: membership('Practitioner/x', {
        access: ['p1', 'p2'].map((id) => ({ policy: { reference: 'AccessPolicy/pp' }, parameter: [{ name: 'patient', valueReference: { reference: `Patient/${id}` } }] })),
      }),
      policies: new Map([['AccessPolicy/pp', perPatient]]),
    });
    const patient = (id: string): Patient => ({ resourceType: 'Patient', id });
    expect(allows(policy, 'read', patient('p1'))).toBe(true);
    expect(allows(policy, 'read', patient('p2'))).toBe(true);
    expect(allows(policy, 'read', patient('p3'))).toBe(false);
  });
});

describe('scenario 9: admin types', () => {
  it('a non-admin cannot read or write User, Project, ProjectMembership, even with an explicit entry', () => {
    const policy = withPolicy([{ resourceType: '*' }, { resourceType: 'User' }, { resourceType: 'Project' }, { resourceType: 'ProjectMembership' }]);
    for (const type of ['User', 'Project', 'ProjectMembership']) {
      for (const i of ['read', 'search', 'create', 'update', 'delete'] as const) {
        expect(typeAllowed(policy, type, i), `${type} ${i}`).toBe(false);
      }
    }
  });
});

describe('scenario 10: the guide cases', () => {
  const attending: AccessPolicy = {
    resourceType: 'AccessPolicy',
    id: 'attending-physician',
    resource: [
      { resourceType: 'Patient', criteria: 'Patient?general-practitioner=Practitioner/{%user.profile.id}', interaction: ['create', 'read', 'update', 'search'] },
      { resourceType: 'Observation', interaction: ['create', 'read', 'update', 'search', 'history'] },
    ],
  };
  const portal: AccessPolicy = { resourceType: 'AccessPolicy', id: 'patient-portal', resource: [{ resourceType: '*', compartment: { reference: 'Patient/{%patient.id}' }, interaction: ['read', 'search'] }] };
  const caregiver: AccessPolicy = { resourceType: 'AccessPolicy', id: 'family-caregiver', resource: [{ resourceType: '*', compartment: { reference: 'Patient/{%patient.id}' } }] };
  const research: AccessPolicy = {
    resourceType: 'AccessPolicy',
    id: 'research',
    resource: [{ resourceType: 'Patient', criteria: 'Patient?_tag=study-cohort-2024', hiddenFields: ['name', 'telecom', 'address', 'identifier'], interaction: ['read', 'search'] }],
  };
  const policies = new Map([attending, portal, caregiver, research].map((p) => [`AccessPolicy/${p.id}`, p]));

  it('Dr. Chen: the practitioner membership and the patient membership give different policies', () => {
    const asDoctor = buildEffectivePolicy({ membership: membership('Practitioner/chen-md', { accessPolicy: { reference: 'AccessPolicy/attending-physician' } }), policies });
    const asPatient = buildEffectivePolicy({ membership: membership('Patient/chen-patient', { accessPolicy: { reference: 'AccessPolicy/patient-portal' } }), policies });
    expect(asDoctor.entries[0].criteria).toBe('Patient?general-practitioner=Practitioner/chen-md');
    expect(typeAllowed(asDoctor, 'Patient', 'update')).toBe(true);
    expect(asPatient.entries[0].compartment).toBe('Patient/chen-patient');
    expect(typeAllowed(asPatient, 'Observation', 'read')).toBe(true);
    expect(typeAllowed(asPatient, 'Observation', 'update')).toBe(false);
    const ownObservation = { resourceType: 'Observation', status: 'final', code: {}, meta: { compartment: [{ reference: 'Patient/chen-patient' }] } } as Resource;
    const otherObservation = { resourceType: 'Observation', status: 'final', code: {}, meta: { compartment: [{ reference: 'Patient/mary' }] } } as Resource;
    expect(allows(asPatient, 'read', ownObservation)).toBe(true);
    expect(allows(asPatient, 'read', otherObservation)).toBe(false);
  });

  it("Robert Johnson: a RelatedPerson over his mother's compartment (parameter patient)", () => {
    const robert = buildEffectivePolicy({
      membership: membership('RelatedPerson/robert-mary-guardian', {
        access: [{ policy: { reference: 'AccessPolicy/family-caregiver' }, parameter: [{ name: 'patient', valueReference: { reference: 'Patient/mary' } }] }],
      }),
      policies,
    });
    expect(robert.entries[0]).toMatchObject({ resourceType: '*', compartment: 'Patient/mary', matchesNothing: false });
    // Without the parameter a RelatedPerson has no patient: the entry fails closed.
    const unset = buildEffectivePolicy({ membership: membership('RelatedPerson/r', { accessPolicy: { reference: 'AccessPolicy/family-caregiver' } }), policies });
    expect(unset.entries[0].matchesNothing).toBe(true);
    expect(unset.warnings[0].code).toBe('unfilled-variable');
  });

  it('the research policy: tagged patients only, PII hidden, read and search only', () => {
    const researcher = buildEffectivePolicy({ membership: membership('Practitioner/researcher', { accessPolicy: { reference: 'AccessPolicy/research' } }), policies });
    const tagged: Patient = { resourceType: 'Patient', id: 't', meta: { tag: [{ code: 'study-cohort-2024' }] }, name: [{ family: 'X' }], gender: 'female', identifier: [{ value: '1' }] };
    expect(allows(researcher, 'read', tagged)).toBe(true);
    expect(allows(researcher, 'read', { resourceType: 'Patient', id: 'u' })).toBe(false);
    expect(typeAllowed(researcher, 'Patient', 'update')).toBe(false);
    expect(removeHiddenFields(tagged, researcher.entries[0].hiddenFields)).toEqual({ resourceType: 'Patient', id: 't', meta: tagged.meta, gender: 'female' });
  });
});
