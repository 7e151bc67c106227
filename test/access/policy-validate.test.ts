// Validation on save, with every AccessPolicy form of the user guide (../shared/seed/user-management-guide.txt):
// each is accepted, or rejected with a reason a project admin can act on.
import type { AccessPolicy, AccessPolicyResource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { FhirError } from '../../shared/errors.ts';
import { checkCriteria } from '../../electron/host/access/policy/criteria.ts';
import { findPolicyProblems, normalizeAccessPolicy, validateAccessPolicy } from '../../electron/host/access/policy/policy-validate.ts';

const policyOf = (...resource: unknown[]): AccessPolicy => ({ resourceType: 'AccessPolicy', resource: resource as AccessPolicyResource[] });

function rejection(policy: AccessPolicy): FhirError {
  try {
    validateAccessPolicy(policy);
  } catch (err) {
    if (err instanceof FhirError) {
      return err;
    }
    throw err;
  }
  throw new Error('expected the policy to be rejected');
}

describe('the guide examples', () => {
  it('"AccessPolicy Structure" (practitioner-policy): accepted; readonly [id, meta] read as readonlyFields', () => {
    const policy = policyOf(
      {
        resourceType: 'Patient',
        criteria: 'Patient?general-practitioner=Practitioner/{%user.profile.id}',
        interaction: ['create', 'read', 'update', 'search'],
        readonly: ['id', 'meta'],
      },
      { resourceType: 'Observation', compartment: { reference: 'Patient/{%patient.id}' }, interaction: ['create', 'read', 'update', 'search', 'history'] }
    );
    expect(() => validateAccessPolicy(policy)).not.toThrow();
    const { policy: normalized, notes } = normalizeAccessPolicy(policy);
    expect(normalized.resource?.[0].readonlyFields).toEqual(['id', 'meta']);
    expect(normalized.resource?.[0].readonly).toBeUndefined();
    expect(notes).toEqual(['resource[0].readonly (a list of fields) was read as readonlyFields']);
  });

  it('1. resource-level permission {Medication, [read, search]}: accepted', () => {
    expect(findPolicyProblems(policyOf({ resourceType: 'Medication', interaction: ['read', 'search'] }))).toEqual([]);
  });

  it('3. criteria Patient?organization=Organization/my-clinic: accepted', () => {
    expect(findPolicyProblems(policyOf({ resourceType: 'Patient', criteria: 'Patient?organization=Organization/my-clinic' }))).toEqual([]);
  });

  it('4. and best practice 2: * over the compartment Patient/{%patient.id}: accepted', () => {
    expect(findPolicyProblems(policyOf({ resourceType: '*', compartment: { reference: 'Patient/{%patient.id}' } }))).toEqual([]);
    expect(findPolicyProblems(policyOf({ resourceType: '*', compartment: { reference: 'Patient/{%patient.id}' }, interaction: ['read', 'search'] }))).toEqual([]);
  });

  it('5. field-level controls readonly [id, meta, identifier] and hidden [telecom, address]: accepted as masks', () => {
    const policy = policyOf({ resourceType: 'Patient', readonly: ['id', 'meta', 'identifier'], hidden: ['telecom', 'address'] });
    expect(findPolicyProblems(policy)).toEqual([]);
    const entry = normalizeAccessPolicy(policy).policy.resource?.[0];
    expect(entry).toMatchObject({ readonlyFields: ['id', 'meta', 'identifier'], hiddenFields: ['telecom', 'address'] });
  });

  it('6. write constraint "status = preliminary or status = final": accepted', () => {
    const policy = policyOf({
      resourceType: 'Observation',
      writeConstraint: [{ expression: "status = 'preliminary' or status = 'final'", description: 'Observation status must be preliminary or final' }],
    });
    expect(findPolicyProblems(policy)).toEqual([]);
  });

  it('Use case 3 (research): Patient?_tag=study-cohort-2024 with hidden PII, read + search: accepted', () => {
    const policy = policyOf({
      resourceType: 'Patient',
      criteria: 'Patient?_tag=study-cohort-2024',
      hidden: ['name', 'telecom', 'address', 'identifier'],
      interaction: ['read', 'search'],
    });
    expect(findPolicyProblems(policy)).toEqual([]);
  });

  it('department policy: the chain general-practitioner.organization and Encounter?service-provider: accepted', () => {
    const departmentId = 'cardio';
    const policy = policyOf(
      { resourceType: 'Patient', criteria: `Patient?general-practitioner.organization=Organization/${departmentId}`, interaction: ['create', 'read', 'update', 'search'] },
      { resourceType: 'Encounter', criteria: `Encounter?service-provider=Organization/${departmentId}`, interaction: ['create', 'read', 'update', 'search'] },
      { resourceType: 'Observation', compartment: { reference: 'Patient/{%patient.id}' }, interaction: ['create', 'read', 'update', 'search'] }
    );
    expect(findPolicyProblems(policy)).toEqual([]);
  });

  it('best practice 1 (nurse): Patient?care-team.participant=... is rejected: Patient has no care-team parameter in R4', () => {
    const err = rejection(
      policyOf({ resourceType: 'Patient', criteria: 'Patient?care-team.participant=Practitioner/{%user.profile.id}', interaction: ['read', 'update', 'search'] })
    );
    expect(err.status).toBe(400);
    expect(err.outcome.issue?.[0].expression).toEqual(['AccessPolicy.resource[0].criteria']);
    expect(err.outcome.issue?.[0].details?.text).toContain("Patient has no search parameter 'care-team'");
  });

  it('the nurse intent expressed in R4 terms is accepted: Patient?_has:CareTeam:patient:participant=...', () => {
    expect(findPolicyProblems(policyOf({ resourceType: 'Patient', criteria: 'Patient?_has:CareTeam:patient:participant=Practitioner/{%user.profile.id}' }))).toEqual([]);
  });
});

describe('rejections name the entry and say why', () => {
  const cases: [string, unknown, string, RegExp][] = [
    ['unparsable criteria (bad date)', { resourceType: 'Patient', criteria: 'Patient?birthdate=yesterday' }, 'AccessPolicy.resource[0].criteria', /cannot be parsed/],
    ['criteria type differs from the entry', { resourceType: 'Patient', criteria: 'Observation?code=x' }, 'AccessPolicy.resource[0].criteria', /for Observation but the entry is for Patient/],
    ['unknown parameter', { resourceType: 'Observation', criteria: 'Observation?colour=red' }, 'AccessPolicy.resource[0].criteria', /Observation has no search parameter 'colour'/],
    ['unknown chained parameter', { resourceType: 'Observation', criteria: 'Observation?subject.shoe-size=42' }, 'AccessPolicy.resource[0].criteria', /has no search parameter 'shoe-size'/],
    ['chain through a non-reference', { resourceType: 'Observation', criteria: 'Observation?code.name=x' }, 'AccessPolicy.resource[0].criteria', /not a reference parameter/],
    ['chain with a wrong type modifier', { resourceType: 'Observation', criteria: 'Observation?subject:Medication.code=x' }, 'AccessPolicy.resource[0].criteria', /cannot refer to Medication/],
    ['_has with an unknown type', { resourceType: 'Patient', criteria: 'Patient?_has:Nope:subject:code=x' }, 'AccessPolicy.resource[0].criteria', /'Nope' .* is not a resource type/],
    ['_has whose reference cannot point back', { resourceType: 'Patient', criteria: 'Patient?_has:Observation:specimen:code=x' }, 'AccessPolicy.resource[0].criteria', /cannot refer to Patient/],
    ['_has with an unknown final parameter', { resourceType: 'Patient', criteria: 'Patient?_has:Observation:subject:flavour=x' }, 'AccessPolicy.resource[0].criteria', /Observation has no search parameter 'flavour'/],
    ['* criteria with a type-specific parameter', { resourceType: '*', criteria: '*?subject=Patient/x' }, 'AccessPolicy.resource[0].criteria', /a \* entry .* has no search parameter 'subject'/],
    ['* entry with typed criteria', { resourceType: '*', criteria: 'Patient?active=true' }, 'AccessPolicy.resource[0].criteria', /for Patient but the entry is for \*/],
    ['hidden that is not a list', { resourceType: 'Patient', hidden: 'name' }, 'AccessPolicy.resource[0].hidden', /must be a list/],
    ['readonly that is neither a boolean nor a list', { resourceType: 'Patient', readonly: 'yes' }, 'AccessPolicy.resource[0].readonly', /true\/false/],
    ['bad modifier', { resourceType: 'Patient', criteria: 'Patient?name:sideways=x' }, 'AccessPolicy.resource[0].criteria', /modifier :sideways is not supported/],
    ['criteria with _sort', { resourceType: 'Patient', criteria: 'Patient?_sort=name' }, 'AccessPolicy.resource[0].criteria', /may only filter/],
    ['unknown resource type', { resourceType: 'Patiant' }, 'AccessPolicy.resource[0].resourceType', /'Patiant' is not a resource type/],
    ['protected type', { resourceType: 'Login' }, 'AccessPolicy.resource[0].resourceType', /protected/],
    ['bad interaction code', { resourceType: 'Patient', interaction: ['read', 'patch'] }, 'AccessPolicy.resource[0].interaction[1]', /'patch' is not an interaction/],
    ['unparsable FHIRPath', { resourceType: 'Patient', writeConstraint: [{ expression: 'status = = 1', description: 'x' }] }, 'AccessPolicy.resource[0].writeConstraint[0].expression', /FHIRPath cannot be parsed/],
    ['FHIRPath with an unknown function', { resourceType: 'Observation', writeConstraint: [{ expression: 'status.shout()', description: 'x' }] }, 'AccessPolicy.resource[0].writeConstraint[0].expression', /cannot be evaluated: Not implemented: shout/],
    ['FHIRPath with resolve()', { resourceType: 'Observation', writeConstraint: [{ expression: "subject.resolve().active = true", description: 'x' }] }, 'AccessPolicy.resource[0].writeConstraint[0].expression', /cannot be evaluated: .*resolve/],
    ['hidden path on an unknown element', { resourceType: 'Patient', hiddenFields: ['name.surname'] }, 'AccessPolicy.resource[0].hiddenFields[0]', /HumanName has no element 'surname'/],
    ['readonly path that is not a path', { resourceType: 'Patient', readonlyFields: ['name..family'] }, 'AccessPolicy.resource[0].readonlyFields[0]', /not a field path/],
    ['path below a primitive', { resourceType: 'Patient', hiddenFields: ['gender.code'] }, 'AccessPolicy.resource[0].hiddenFields[0]', /primitive/],
    ['compartment that is not a reference', { resourceType: 'Observation', compartment: { reference: 'the patient' } }, 'AccessPolicy.resource[0].compartment.reference', /not a compartment reference/],
  ];

  it.each(cases)('%s', (_name, entry, expression, message) => {
    const err = rejection(policyOf({ resourceType: 'Practitioner' }, entry));
    const issue = err.outcome.issue?.[0];
    expect(issue?.expression).toEqual([expression.replace('resource[0]', 'resource[1]')]);
    expect(issue?.details?.text).toMatch(message);
  });

  it('reports every problem at once, one issue each', () => {
    const err = rejection(policyOf({ resourceType: 'Patient', criteria: 'Patient?colour=red' }, { resourceType: 'Nope' }));
    expect(err.outcome.issue?.map((i) => i.expression?.[0])).toEqual(['AccessPolicy.resource[0].criteria', 'AccessPolicy.resource[1].resourceType']);
  });
});

describe('forms that are accepted', () => {
  it.each([
    ['*?criteria', { resourceType: '*', criteria: '*?_compartment=Patient/{%patient.id}' }],
    ['*? on a typed entry', { resourceType: 'Observation', criteria: '*?_tag=x' }],
    ['criteria with a modifier and a reference type', { resourceType: 'Observation', criteria: 'Observation?subject:Patient=%patient&code:not=x' }],
    ['chains with a type modifier', { resourceType: 'Patient', criteria: 'Patient?general-practitioner:PractitionerRole.organization=Organization/x' }],
    ['date with a prefix', { resourceType: 'Observation', criteria: 'Observation?date=ge2024-01-01' }],
    ['choice type paths', { resourceType: 'Observation', hiddenFields: ['valueQuantity.value', 'value[x]', 'value', 'component.valueString'] }],
    ['backbone paths', { resourceType: 'Patient', hiddenFields: ['contact.name.family', 'meta.tag'] }],
    ['a membership parameter placeholder', { resourceType: 'Patient', criteria: 'Patient?organization=%org' }],
    ['write constraints with %before/%after and variables', { resourceType: 'Observation', writeConstraint: [{ expression: "%before.exists() implies %before.performer.reference = %profile", description: 'x' }] }],
    ['* with any hidden path', { resourceType: '*', hiddenFields: ['meta.tag', 'text'] }],
  ])('%s', (_name, entry) => {
    expect(findPolicyProblems(policyOf(entry))).toEqual([]);
  });

  it('checkCriteria returns the parsed request', () => {
    const check = checkCriteria('Patient', 'Patient?general-practitioner=Practitioner/123');
    expect(check.ok && check.request.filters).toEqual([{ code: 'general-practitioner', operator: 'eq', value: 'Practitioner/123' }]);
  });
});
