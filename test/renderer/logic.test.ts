// The renderer's pure pieces: chart groups and ticks, hidden/readonly fields from markers and policy,
// the policy JSON checks, the edit forms' checks and round trip, and the IPC envelope conversion.
import type { AccessPolicy, Observation, Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { ACCESS_TAG_SYSTEM, HIDDEN_FIELD_EXTENSION, fieldLocked, hiddenPaths, isHiddenPath, isMasked, mayDo, writeRules } from '../../renderer/src/api/access.ts';
import { loadSearchIndex } from '../../renderer/src/api/search-index.ts';
import { toHostRequest, toResponse } from '../../renderer/src/api/transport.ts';
import { niceTicks, trendGroups } from '../../renderer/src/components/trend.ts';
import { checkPolicyJson, entryOfError } from '../../renderer/src/pages/admin/policy-json.ts';
import { toResource, validate, valuesOf } from '../../renderer/src/pages/forms.ts';

const obs = (code: string, value: number, when: string, extra: Partial<Observation> = {}): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code }], text: code },
  effectiveDateTime: when,
  valueQuantity: { value, unit: 'kg' },
  ...extra,
});

describe('trend chart data', () => {
  it('groups numeric observations by code, oldest first, blood pressure components as two series', () => {
    const groups = trendGroups([
      obs('29463-7', 80, '2024-03-01'),
      obs('29463-7', 82, '2024-01-01'),
      obs('x', 0, 'not a date'),
      {
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'Blood pressure' },
        effectiveDateTime: '2024-02-01',
        component: [
          // Synthea writes diastolic first: the series still come systolic first, by LOINC code.
          { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }], text: 'Diastolic' }, valueQuantity: { value: 80.46, unit: 'mm[Hg]' } },
          { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }], text: 'Systolic' }, valueQuantity: { value: 120.7, unit: 'mm[Hg]' } },
        ],
      },
    ]);
    expect(groups.map((g) => g.label)).toEqual(['29463-7', 'Blood pressure']);
    expect(groups[0].series[0].points.map((p) => p.value)).toEqual([82, 80]);
    expect(groups[1].series.map((s) => s.label)).toEqual(['Systolic', 'Diastolic']);
    expect(groups[1].series.map((s) => s.points[0].value)).toEqual([121, 80]); // mmHg without decimals
    expect(groups[1].unit).toBe('mmHg');
  });

  it('picks round ticks covering the values', () => {
    expect(niceTicks(82, 151)).toEqual([80, 100, 120, 140, 160]);
    const flat = niceTicks(5, 5);
    expect(flat[0]).toBeLessThan(5);
    expect(flat[flat.length - 1]).toBeGreaterThan(5);
  });
});

describe('what the role may see and change', () => {
  const policy: AccessPolicy = {
    resourceType: 'AccessPolicy',
    name: 'Research',
    resource: [{ resourceType: 'Patient', hiddenFields: ['name', 'telecom'], readonlyFields: ['birthDate'] }, { resourceType: 'Observation', readonly: true }],
  };

  it('reads hidden paths from the record\'s own markers only, parents hiding children', () => {
    const patient = {
      resourceType: 'Patient',
      meta: { tag: [{ system: ACCESS_TAG_SYSTEM, code: 'masked' }], extension: [{ url: HIDDEN_FIELD_EXTENSION, valueString: 'address' }] },
    } as Patient;
    expect(isMasked(patient)).toBe(true);
    const hidden = hiddenPaths(patient);
    // The policy hides name and telecom for some Patients; this record says only its address was removed.
    expect([...hidden]).toEqual(['address']);
    expect(isHiddenPath(hiddenPaths({ resourceType: 'Patient', meta: { extension: [{ url: HIDDEN_FIELD_EXTENSION, valueString: 'name' }] } } as Patient), 'name.family')).toBe(true);
    expect(isHiddenPath(hidden, 'gender')).toBe(false);
    expect(hiddenPaths({ resourceType: 'Patient', telecom: [{ value: '555' }] } as Patient).size).toBe(0);
  });

  it('locks the readonly and hidden fields of the entries that allow the write', () => {
    const patientRules = writeRules(policy, 'update', { resourceType: 'Patient', id: 'p1' });
    expect(fieldLocked(patientRules, 'birthDate')).toBe(true);
    expect(fieldLocked(patientRules, 'name.given')).toBe(true);
    expect(fieldLocked(patientRules, 'gender')).toBe(false);
    expect(fieldLocked(writeRules(undefined, 'update', { resourceType: 'Patient' }), 'birthDate')).toBe(false); // no policy known: the host decides
  });
});

describe('policy criteria in the browser', () => {
  // This file runs without a host (no FHIR definitions loaded), as the renderer does: the criteria
  // need the renderer's own search-parameter index.
  it('evaluates criteria once the renderer has loaded its search-parameter index', async () => {
    const physician: AccessPolicy = { resourceType: 'AccessPolicy', resource: [{ resourceType: 'Patient', criteria: 'Patient?general-practitioner=Practitioner/chen', interaction: ['read', 'update'] }] };
    const hers: Patient = { resourceType: 'Patient', id: 'm', generalPractitioner: [{ reference: 'Practitioner/chen' }] };
    const other: Patient = { resourceType: 'Patient', id: 'o', generalPractitioner: [{ reference: 'Practitioner/else' }] };
    expect(mayDo(physician, 'update', hers)).toBe(false); // no index yet: nothing matches (fail closed)
    await loadSearchIndex();
    expect(mayDo(physician, 'update', hers)).toBe(true);
    expect(mayDo(physician, 'update', other)).toBe(false);
    const research: AccessPolicy = { resourceType: 'AccessPolicy', resource: [{ resourceType: 'Patient', criteria: 'Patient?_tag=study-cohort-2024', interaction: ['read', 'search'] }] };
    expect(mayDo(research, 'read', { ...other, meta: { tag: [{ code: 'study-cohort-2024' }] } })).toBe(true);
    expect(mayDo(research, 'update', { ...other, meta: { tag: [{ code: 'study-cohort-2024' }] } })).toBe(false);
  });
});

describe('policy JSON checks', () => {
  it('names the entry of each problem and accepts a valid policy', () => {
    expect(checkPolicyJson('{').problems[0].message).toMatch(/Not valid JSON/);
    const bad = checkPolicyJson(JSON.stringify({ resourceType: 'AccessPolicy', resource: [{ resourceType: 'Patient' }, { resourceType: 'Observation', criteria: 'Patient?x=1', hiddenFields: 'name' }] }));
    expect(bad.policy).toBeUndefined();
    expect(bad.problems.map((p) => p.entry)).toEqual([1, 1]);
    const good = checkPolicyJson(JSON.stringify({ resourceType: 'AccessPolicy', resource: [{ resourceType: 'Patient', criteria: 'Patient?_tag=x' }] }));
    expect(good.problems).toEqual([]);
    expect(good.policy?.resource).toHaveLength(1);
    expect(entryOfError('bad', ['AccessPolicy.resource[2].criteria'])).toBe(2);
    expect(entryOfError('Invalid criteria in entry 3')).toBe(2);
  });
});

describe('edit forms', () => {
  it('checks required fields, ranges and dates, skipping locked fields', () => {
    const none = (): boolean => false;
    expect(Object.keys(validate('Observation', { code: '', value: '', effective: '', status: 'final' }, none)).sort()).toEqual(['code', 'effective', 'value']);
    expect(validate('Observation', { code: '8867-4', value: '400', effective: '2024-01-01T10:00', status: 'final' }, none).value).toMatch(/between 10 and 300/);
    expect(validate('Patient', { given: 'A', family: 'B', gender: '', birthDate: '2999-01-01', identifier: '', phone: '', city: '' }, none).birthDate).toMatch(/future/);
    expect(validate('Patient', { given: '', family: 'B', gender: '', birthDate: '', identifier: '', phone: '', city: '' }, (p) => p === 'name' || p === 'birthDate')).toEqual({});
    expect(validate('Encounter', { status: 'finished', class: 'AMB', type: '', start: '2024-02-01T10:00', end: '2024-01-01T10:00', reason: '' }, none).end).toMatch(/after start/);
  });

  it('keeps what the form does not show and leaves locked fields as they were', () => {
    const original: Patient = {
      resourceType: 'Patient',
      id: 'p1',
      meta: { versionId: '3' },
      name: [{ given: ['Mary'], family: 'Johnson', use: 'official' }],
      birthDate: '1948-03-14',
      telecom: [{ system: 'email', value: 'm@example.org' }],
      maritalStatus: { text: 'Widowed' },
    };
    const values = { ...valuesOf('Patient', original), family: 'Smith', birthDate: '1950-01-01', phone: '555-0100' };
    const saved = toResource('Patient', original, values, undefined, (p) => p === 'birthDate') as Patient;
    expect(saved.name?.[0]).toEqual({ given: ['Mary'], family: 'Smith', use: 'official' });
    expect(saved.birthDate).toBe('1948-03-14');
    expect(saved.maritalStatus).toEqual({ text: 'Widowed' });
    expect(saved.telecom).toEqual([{ system: 'phone', value: '555-0100' }, { system: 'email', value: 'm@example.org' }]);
    expect(saved.meta?.versionId).toBe('3');

    const o = toResource('Observation', undefined, { code: '8867-4', value: '72', effective: '2024-05-01T08:30', status: 'final' }, 'p1', () => false) as Observation;
    expect(o).toMatchObject({ subject: { reference: 'Patient/p1' }, valueQuantity: { value: 72, unit: '/min', code: '/min' }, code: { coding: [{ code: '8867-4' }] } });
  });
});

describe('IPC envelopes', () => {
  it('turns fetch calls into host requests and host answers into Responses', async () => {
    const req = toHostRequest('http://outpost.ipc/fhir/R4/Patient?name=smith', { method: 'post', headers: { 'Content-Type': 'application/fhir+json' }, body: '{}' });
    expect(req).toEqual({ method: 'POST', path: '/fhir/R4/Patient?name=smith', headers: { 'content-type': 'application/fhir+json' }, body: '{}' });
    expect(toHostRequest('http://outpost.ipc/oauth2/token', { method: 'POST', body: new URLSearchParams({ a: '1' }) }).body).toBe('a=1');
    const res = toResponse({ status: 404, headers: {}, body: { resourceType: 'OperationOutcome' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('json');
    expect(await res.json()).toEqual({ resourceType: 'OperationOutcome' });
    const empty = toResponse({ status: 204, headers: {} });
    expect(empty.headers.get('content-length')).toBe('0');
  });
});
