import type { AccessPolicy, AccessPolicyResource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { isFhirError } from '../../shared/errors.ts';
import { buildEffectivePolicy } from '../../electron/host/access/policy/policy-build.ts';
import { assertSearchAllowed, createSearchGuard, criteriaFilters, restrictionFor } from '../../electron/host/access/policy/search-guard.ts';

function effective(resource: AccessPolicyResource[], profile = 'Practitioner/1') {
  const policy: AccessPolicy = { resourceType: 'AccessPolicy', id: 'p', resource };
  return buildEffectivePolicy({
    membership: { resourceType: 'ProjectMembership', id: 'm', project: { reference: 'Project/x' }, user: { reference: 'User/u' }, profile: { reference: profile }, accessPolicy: { reference: 'AccessPolicy/p' } },
    policies: new Map([['AccessPolicy/p', policy]]),
  });
}

function refusal(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    if (isFhirError(err, 403)) {
      return err.outcome.issue?.[0].details?.text ?? '';
    }
    throw err;
  }
  return 'allowed';
}

describe('restrictionFor: the policy as search filters for the SQL compiler', () => {
  it('false when the type is not allowed, null when an applicable entry is unrestricted', () => {
    const p = effective([{ resourceType: 'Patient', criteria: 'Patient?active=true', interaction: ['search'] }, { resourceType: 'Observation', interaction: ['read'] }]);
    expect(restrictionFor(p, 'Encounter', 'search')).toBe(false);
    expect(restrictionFor(p, 'Observation', 'read')).toBeNull();
    expect(restrictionFor(p, 'Observation', 'search')).toBe(false);
  });

  it('an OR of entries, each an AND of its criteria parameters and its compartment', () => {
    const p = effective(
      [
        { resourceType: 'Patient', criteria: 'Patient?general-practitioner=Practitioner/{%user.profile.id}&active=true' },
        { resourceType: '*', compartment: { reference: 'Patient/{%patient.id}' }, criteria: '*?_tag=shared' },
      ],
      'Patient/me'
    );
    const r = restrictionFor(p, 'Patient', 'search');
    expect(r && r.map((f) => f.filters)).toEqual([
      [
        ['general-practitioner', 'Practitioner/me'],
        ['active', 'true'],
      ],
      [
        ['_tag', 'shared'],
        ['_compartment', 'Patient/me'],
      ],
    ]);
  });

  it('entries that match nothing are not in the OR (fail closed)', () => {
    const p = effective([{ resourceType: 'Observation', compartment: { reference: 'Patient/{%patient.id}' } }]);
    expect(restrictionFor(p, 'Observation', 'search')).toBe(false);
  });

  it('decodes an escaped substituted value back to one value', () => {
    expect(criteriaFilters('Patient?name=a%26b%2Bc&active=true')).toEqual([
      ['name', 'a&b+c'],
      ['active', 'true'],
    ]);
  });
});

describe('assertSearchAllowed: no existence oracle on hidden fields', () => {
  const research = effective([{ resourceType: 'Patient', criteria: 'Patient?_tag=study-cohort-2024', hiddenFields: ['name', 'telecom', 'address', 'identifier'], interaction: ['read', 'search'] }, { resourceType: 'Observation', interaction: ['read', 'search'] }]);

  it('refuses filtering on a hidden field with 403', () => {
    expect(refusal(() => assertSearchAllowed(research, 'Patient', [['family', 'Smith']]))).toMatch(/'family' of Patient is not allowed/);
    expect(refusal(() => assertSearchAllowed(research, 'Patient', [['name:contains', 'Sm']]))).toMatch(/'name'/);
    expect(refusal(() => assertSearchAllowed(research, 'Patient', [['identifier', 'MRN-789']]))).toMatch(/'identifier'/);
  });

  it('refuses sorting on it', () => {
    expect(refusal(() => assertSearchAllowed(research, 'Patient', [['_sort', 'birthdate,-family']]))).toMatch(/'family'/);
  });

  it('refuses chains and _has that end on it', () => {
    expect(refusal(() => assertSearchAllowed(research, 'Observation', [['subject:Patient.name', 'Smith']]))).toMatch(/'name' of Patient/);
    expect(refusal(() => assertSearchAllowed(research, 'Observation', [['patient.family', 'Smith']]))).toMatch(/'family' of Patient/);
  });

  it('allows what reads no hidden field', () => {
    for (const q of [
      [['birthdate', 'ge1950']],
      [['_tag', 'study-cohort-2024']],
      [['gender', 'female'], ['_sort', '-birthdate'], ['_count', '10']],
    ] as [string, string][][]) {
      expect(refusal(() => assertSearchAllowed(research, 'Patient', q))).toBe('allowed');
    }
    expect(refusal(() => assertSearchAllowed(research, 'Observation', [['subject', 'Patient/x'], ['code', '1234-5']]))).toBe('allowed');
    expect(refusal(() => assertSearchAllowed(research, 'Observation', [['patient.gender', 'female']]))).toBe('allowed');
  });

  it('refuses _has and includes through a hidden reference', () => {
    const p = effective([{ resourceType: 'Observation', hiddenFields: ['subject'] }, { resourceType: 'Patient' }]);
    expect(refusal(() => assertSearchAllowed(p, 'Patient', [['_has:Observation:subject:code', '1234-5']]))).toMatch(/'subject' of Observation/);
    expect(refusal(() => assertSearchAllowed(p, 'Observation', [['_include', 'Observation:subject']]))).toMatch(/'subject'/);
    expect(refusal(() => assertSearchAllowed(p, 'Patient', [['_revinclude', 'Observation:patient']]))).toMatch(/'patient'/);
  });

  it('createSearchGuard gives the same answers', () => {
    const guard = createSearchGuard(research);
    expect(guard.refused('Patient').has('phone')).toBe(true);
    expect(refusal(() => guard.assertAllowed('Patient', [['email', 'x@y']]))).toMatch(/'email'/);
    expect(guard.restriction('Patient', 'search')).toEqual(restrictionFor(research, 'Patient', 'search'));
  });
});
