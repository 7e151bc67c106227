import { parseSearchRequest, splitSearchOnComma } from '@medplum/core';
import type { ProjectMembership } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFhirDefinitions } from '../../electron/host/fhir/definitions.ts';
import { createVariableLookup, escapeSearchValue, substituteVariables } from '../../electron/host/access/policy/variables.ts';

const practitionerMembership: ProjectMembership = {
  resourceType: 'ProjectMembership',
  id: 'm1',
  project: { reference: 'Project/p1' },
  user: { reference: 'User/u1' },
  profile: { reference: 'Practitioner/123' },
};
const patientMembership: ProjectMembership = { ...practitionerMembership, id: 'm2', profile: { reference: 'Patient/pat-9' } };

const lookup = createVariableLookup(
  { membership: practitionerMembership, user: { id: 'u1', email: 'sarah.chen@demo.outpost' } },
  [
    { name: 'patientOrg', valueReference: { reference: 'Organization/org-1' } },
    { name: 'dept', valueString: 'cardiology' },
    { name: 'ward', valueString: 'Location/w-7' },
  ]
);

const sub = (text: string, mode: 'criteria' | 'reference' | 'fhirpath' | 'text' = 'criteria') => substituteVariables(text, lookup, mode);

beforeAll(() => loadFhirDefinitions());

describe('variable forms', () => {
  it('substitutes Medplum forms %profile and %profile.id', () => {
    expect(sub('Patient?general-practitioner=%profile').text).toBe('Patient?general-practitioner=Practitioner/123');
    expect(sub('Patient?general-practitioner=Practitioner/%profile.id').text).toBe('Patient?general-practitioner=Practitioner/123');
  });

  it('substitutes the guide forms, with or without braces', () => {
    expect(sub('Patient?general-practitioner=Practitioner/{%user.profile.id}').text).toBe('Patient?general-practitioner=Practitioner/123');
    expect(sub('Patient?general-practitioner=Practitioner/%user.profile.id').text).toBe('Patient?general-practitioner=Practitioner/123');
    expect(sub('Patient?general-practitioner={%user.profile}').text).toBe('Patient?general-practitioner=Practitioner/123');
    expect(sub('AuditEvent?agent=User/{%user.id}').text).toBe('AuditEvent?agent=User/u1');
  });

  it('substitutes %user.email as one escaped value (a + stays a +, not a space)', () => {
    const mail = createVariableLookup({ membership: practitionerMembership, user: { id: 'u1', email: 'a+b@x.org' } });
    const text = substituteVariables('Patient?email=%user.email', mail, 'criteria').text;
    expect(parseSearchRequest(text).filters?.[0].value).toBe('a+b@x.org');
  });

  it('substitutes membership parameters: valueReference gives Type/id and .id the id; valueString the string', () => {
    expect(sub('Patient?organization=%patientOrg').text).toBe('Patient?organization=Organization/org-1');
    expect(sub('Patient?organization=Organization/%patientOrg.id').text).toBe('Patient?organization=Organization/org-1');
    expect(sub('Encounter?service-type=%dept').text).toBe('Encounter?service-type=cardiology');
    expect(sub('Encounter?location=Location/%ward.id').text).toBe('Encounter?location=Location/w-7');
  });

  it('%patient defaults to the profile when it is a Patient, and to nothing otherwise', () => {
    const asPatient = createVariableLookup({ membership: patientMembership });
    expect(substituteVariables('Observation?subject=%patient', asPatient, 'criteria').text).toBe('Observation?subject=Patient/pat-9');
    expect(substituteVariables('Patient/{%patient.id}', asPatient, 'reference').text).toBe('Patient/pat-9');
    const r = sub('Patient/{%patient.id}', 'reference');
    expect(r.missing).toEqual([{ token: '{%patient.id}', name: 'patient.id', reason: 'no-value' }]);
  });

  it('a membership parameter named patient overrides the default', () => {
    const guardian = createVariableLookup({ membership: { ...practitionerMembership, profile: { reference: 'RelatedPerson/rp-1' } } }, [
      { name: 'patient', valueReference: { reference: 'Patient/mary' } },
    ]);
    expect(substituteVariables('Patient/{%patient.id}', guardian, 'reference').text).toBe('Patient/mary');
    expect(substituteVariables('%patient', guardian, 'reference').text).toBe('Patient/mary');
  });

  it('a parameter cannot override the profile built-ins', () => {
    const l = createVariableLookup({ membership: practitionerMembership }, [{ name: 'profile', valueString: 'Practitioner/evil' }]);
    expect(substituteVariables('%profile', l, 'text').text).toBe('Practitioner/123');
  });
});

describe('token boundaries (structural, never a replace-all)', () => {
  it('%patient never rewrites part of %patientOrg', () => {
    const l = createVariableLookup({ membership: patientMembership }, [{ name: 'patientOrg', valueReference: { reference: 'Organization/o2' } }]);
    const r = substituteVariables('Patient?organization=%patientOrg&_id=%patient.id', l, 'criteria');
    expect(r.text).toBe('Patient?organization=Organization/o2&_id=pat-9');
    expect(r.missing).toEqual([]);
  });

  it('hyphenated parameter names are whole names too', () => {
    const l = createVariableLookup({ membership: patientMembership }, [{ name: 'patient-org', valueReference: { reference: 'Organization/o3' } }]);
    expect(substituteVariables('Patient?organization=%patient-org', l, 'criteria').text).toBe('Patient?organization=Organization/o3');
    const r = substituteVariables('Patient?organization=%patient-unknown', l, 'criteria');
    expect(r.missing).toEqual([{ token: '%patient-unknown', name: 'patient-unknown', reason: 'unknown' }]);
  });

  it('an unknown longer name is reported, not partly substituted', () => {
    const r = sub('Patient?_id=%profileX');
    expect(r.text).toBe('Patient?_id=%profileX');
    expect(r.missing).toEqual([{ token: '%profileX', name: 'profileX', reason: 'unknown' }]);
    expect(sub('Patient?_id=%profile.name').missing[0]).toMatchObject({ name: 'profile.name', reason: 'unknown' });
  });

  it('a parameter without value is reported as no-value', () => {
    const l = createVariableLookup({ membership: practitionerMembership }, [{ name: 'org' }]);
    expect(substituteVariables('Patient?organization=%org', l, 'criteria').missing).toEqual([{ token: '%org', name: 'org', reason: 'no-value' }]);
  });

  it('percent-encoding in criteria is not a variable', () => {
    const r = sub('Patient?name=Jos%C3%A9&general-practitioner=%profile');
    expect(r.missing).toEqual([]);
    expect(r.text).toBe('Patient?name=Jos%C3%A9&general-practitioner=Practitioner/123');
  });

  it('unmatched braces stay text', () => {
    expect(sub('{%profile.id', 'text').text).toBe('{123');
    expect(sub('%profile.id}', 'text').text).toBe('123}');
  });
});

describe('values are safe inside criteria', () => {
  const hostile = ['a&_id=x', 'a,b', 'x$y', 'sys|code', 'back\\slash', 'sp ace', '50%', 'a=b', 'frag#ment', 'plus+', 'Zoë'];

  it.each(hostile)('%s stays one value of one parameter', (value) => {
    const l = createVariableLookup({ membership: practitionerMembership }, [{ name: 'v', valueString: value }]);
    const text = substituteVariables('Patient?name=%v&active=true', l, 'criteria').text;
    const req = parseSearchRequest(text);
    expect(req.filters?.map((f) => f.code)).toEqual(['name', 'active']);
    const filterValue = req.filters?.[0].value ?? '';
    // One OR value, whose unescaped form is exactly the parameter's value.
    expect(splitSearchOnComma(filterValue)).toEqual([value]);
  });

  it('random values built from special characters stay one value (generated)', () => {
    const alphabet = ['&', ',', '$', '|', '\\', '%', '=', '#', '+', ' ', '?', '/', ':', 'a', '1', 'é', '{', '}', '%2C', '\\,'];
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let n = 0; n < 300; n++) {
      const value = Array.from({ length: 1 + Math.floor(next() * 8) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
      const l = createVariableLookup({ membership: practitionerMembership }, [{ name: 'v', valueString: value }]);
      const req = parseSearchRequest(substituteVariables('Patient?name=%v&active=true', l, 'criteria').text);
      expect(req.filters?.map((f) => f.code), value).toEqual(['name', 'active']);
      expect(splitSearchOnComma(req.filters?.[0].value ?? ''), value).toEqual([value]);
    }
  });

  it('escapes FHIR special characters with backslashes and query characters with percent-encoding', () => {
    expect(escapeSearchValue('a,b$c|d\\e')).toBe('a\\,b\\$c\\|d\\\\e');
    expect(escapeSearchValue('a&b=c#d+e f%')).toBe('a%26b%3Dc%23d%2Be%20f%25');
    expect(escapeSearchValue('Practitioner/123')).toBe('Practitioner/123');
  });

  it('references and ids stay readable', () => {
    expect(sub('Patient?general-practitioner=%profile').text).toBe('Patient?general-practitioner=Practitioner/123');
  });
});

describe('FHIRPath mode', () => {
  it('inserts values as string literals, and escapes inside existing literals', () => {
    expect(sub("performer.reference = %profile", 'fhirpath').text).toBe("performer.reference = 'Practitioner/123'");
    expect(sub("performer.reference = 'Practitioner/{%profile.id}'", 'fhirpath').text).toBe("performer.reference = 'Practitioner/123'");
    const l = createVariableLookup({ membership: practitionerMembership }, [{ name: 'q', valueString: "it's" }]);
    expect(substituteVariables('note.text = %q', l, 'fhirpath').text).toBe("note.text = 'it\\'s'");
  });

  it('an unknown token inside a FHIRPath string is text; outside it is reported', () => {
    expect(sub("note.text = '50%off'", 'fhirpath')).toEqual({ text: "note.text = '50%off'", missing: [] });
    expect(sub('note.text = %off', 'fhirpath').missing).toEqual([{ token: '%off', name: 'off', reason: 'unknown' }]);
  });

  it('leaves FHIRPath environment variables alone', () => {
    const r = sub("%before.exists() implies %before.status != 'final' and %after.id = %resource.id", 'fhirpath');
    expect(r.text).toBe("%before.exists() implies %before.status != 'final' and %after.id = %resource.id");
    expect(r.missing).toEqual([]);
  });
});
