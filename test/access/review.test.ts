import type { AccessPolicy, ProjectMembership } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { reviewMembership } from '../../electron/host/access/policy/review.ts';
import type { PolicyEntry } from '../../electron/host/access/policy/types.ts';

const membership = (extra: Partial<ProjectMembership>): ProjectMembership => ({
  resourceType: 'ProjectMembership',
  id: 'm1',
  project: { reference: 'Project/p' },
  user: { reference: 'User/u' },
  profile: { reference: 'Practitioner/123' },
  ...extra,
});

const policies = (...list: AccessPolicy[]) => new Map(list.map((p) => [`AccessPolicy/${p.id}`, p]));

describe('reviewMembership', () => {
  it('warns once per policy whose criteria a Medplum server refuses (chain, _has): it stays on this workstation', () => {
    const nurse: AccessPolicy = {
      resourceType: 'AccessPolicy',
      id: 'nurse',
      resource: [
        { resourceType: 'Patient', criteria: 'Patient?_has:CareTeam:patient:participant=%profile' },
        { resourceType: 'Observation', criteria: 'Observation?subject:Patient.general-practitioner=%profile' },
      ],
    };
    const desk: AccessPolicy = { resourceType: 'AccessPolicy', id: 'desk', resource: [{ resourceType: 'Appointment', criteria: 'Appointment?status=booked&practitioner=%profile' }] };
    const review = reviewMembership({
      membership: membership({ accessPolicy: { reference: 'AccessPolicy/nurse' }, access: [{ policy: { reference: 'AccessPolicy/desk' } }] }),
      policies: policies(nurse, desk),
    });
    const stays = review.warnings.filter((w) => w.code === 'stays-local');
    expect(stays.map((w) => w.origin?.policy)).toEqual(['AccessPolicy/nurse']);
    expect(stays[0].message).toContain('_has:CareTeam');
  });

  it('flags a membership without policy and the broad * it implies', () => {
    const review = reviewMembership({ membership: membership({}), policies: policies() });
    expect(review.warnings.map((w) => w.code)).toEqual(['no-policy', 'wildcard-without-criteria']);
    expect(review.lines).toEqual(['every non-admin resource type: every interaction']);
    expect(review.accessPolicy.resource).toEqual([{ resourceType: '*', interaction: ['create', 'read', 'vread', 'update', 'delete', 'search', 'history'] }]);
  });

  it('does not flag * restricted by a compartment or criteria', () => {
    const portal: AccessPolicy = { resourceType: 'AccessPolicy', id: 'portal', resource: [{ resourceType: '*', compartment: { reference: 'Patient/{%patient.id}' }, interaction: ['read', 'search'] }] };
    const review = reviewMembership({ membership: membership({ profile: { reference: 'Patient/me' }, accessPolicy: { reference: 'AccessPolicy/portal' } }), policies: policies(portal) });
    expect(review.warnings).toEqual([]);
    expect(review.lines).toEqual(['every non-admin resource type: read, search; only in the compartment of Patient/me']);
  });

  it('reports unfilled variables with the entry that grants nothing', () => {
    const portal: AccessPolicy = { resourceType: 'AccessPolicy', id: 'portal', resource: [{ resourceType: 'Observation', compartment: { reference: 'Patient/{%patient.id}' } }] };
    const review = reviewMembership({ membership: membership({ accessPolicy: { reference: 'AccessPolicy/portal' } }), policies: policies(portal) });
    expect(review.warnings.map((w) => w.code)).toEqual(['unfilled-variable']);
    expect(review.warnings[0].message).toContain('AccessPolicy/portal resource[0]');
    expect(review.lines[0]).toContain('grants nothing');
  });

  it('finds entries shadowed by an earlier broader entry of the same type and interactions', () => {
    const p: AccessPolicy = {
      resourceType: 'AccessPolicy',
      id: 'sh',
      resource: [
        { resourceType: 'Patient', interaction: ['read', 'search', 'update'] },
        { resourceType: 'Patient', criteria: 'Patient?active=true', interaction: ['read'], hiddenFields: ['telecom'] },
        { resourceType: 'Patient', interaction: ['delete'] },
        { resourceType: 'Observation', criteria: 'Observation?status=final', interaction: ['read'] },
        { resourceType: 'Observation', criteria: 'Observation?status=final', interaction: ['read'] },
        { resourceType: 'Observation', criteria: 'Observation?status=amended', interaction: ['read'] },
      ],
    };
    const review = reviewMembership({ membership: membership({ accessPolicy: { reference: 'AccessPolicy/sh' } }), policies: policies(p) });
    const shadowed = review.warnings.filter((w) => w.code === 'shadowed-entry');
    expect(shadowed.map((w) => w.origin?.index)).toEqual([1, 4]);
    expect(shadowed[0].message).toContain('hidden/readonly fields and write constraints never apply');
  });

  it('a * entry shadows later typed entries it covers, not admin types', () => {
    const p: AccessPolicy = { resourceType: 'AccessPolicy', id: 'w', resource: [{ resourceType: '*' }, { resourceType: 'Condition', readonly: true }, { resourceType: 'ClientApplication' }] };
    const review = reviewMembership({ membership: membership({ accessPolicy: { reference: 'AccessPolicy/w' } }), policies: policies(p) });
    expect(review.warnings.filter((w) => w.code === 'shadowed-entry').map((w) => w.origin?.index)).toEqual([1]);
  });

  it('flags hidden fields the same role can write', () => {
    const p: AccessPolicy = {
      resourceType: 'AccessPolicy',
      id: 'hw',
      resource: [
        { resourceType: 'Patient', hiddenFields: ['telecom'], interaction: ['read', 'search'] },
        { resourceType: 'Patient', criteria: 'Patient?active=true', interaction: ['update'] },
        { resourceType: 'Observation', hiddenFields: ['note'], interaction: ['read', 'update'] },
      ],
    };
    const review = reviewMembership({ membership: membership({ accessPolicy: { reference: 'AccessPolicy/hw' } }), policies: policies(p) });
    const writable = review.warnings.filter((w) => w.code === 'hidden-writable');
    expect(writable.map((w) => w.origin?.index)).toEqual([0]);
    expect(writable[0].message).toContain('hides telecom');
    expect(writable[0].message).toContain('update (AccessPolicy/hw resource[1] (Patient))');
  });

  it('hidden fields writable on create are flagged too', () => {
    const p: AccessPolicy = { resourceType: 'AccessPolicy', id: 'hc', resource: [{ resourceType: 'Patient', hiddenFields: ['name'], interaction: ['read', 'create'] }] };
    const review = reviewMembership({ membership: membership({ accessPolicy: { reference: 'AccessPolicy/hc' } }), policies: policies(p) });
    expect(review.warnings.map((w) => w.code)).toEqual(['hidden-writable']);
    expect(review.warnings[0].message).toContain('create');
  });

  it('no warning when every writing entry masks the hidden fields (readonly on create, hidden or readonly on update)', () => {
    const p: AccessPolicy = {
      resourceType: 'AccessPolicy',
      id: 'ok',
      resource: [
        { resourceType: 'Patient', hiddenFields: ['name.family'], readonlyFields: ['name'], interaction: ['read', 'create', 'update'] },
        { resourceType: 'Observation', hiddenFields: ['note'], interaction: ['read', 'update'] },
      ],
    };
    const review = reviewMembership({ membership: membership({ accessPolicy: { reference: 'AccessPolicy/ok' } }), policies: policies(p) });
    expect(review.warnings).toEqual([]);
    // An admin's User entry hides and protects passwordHash / mfaSecret: nothing to flag either.
    const admin = reviewMembership({ membership: membership({ admin: true, accessPolicy: { reference: 'AccessPolicy/ok' } }), policies: policies(p) });
    expect(admin.warnings).toEqual([]);
  });

  it('a * writer reaches the hidden fields of a typed entry, and the other way round', () => {
    const p: AccessPolicy = {
      resourceType: 'AccessPolicy',
      id: 'star',
      resource: [
        { resourceType: 'Patient', hiddenFields: ['telecom'], interaction: ['read'] },
        { resourceType: '*', hiddenFields: ['text'], interaction: ['read'] },
        { resourceType: 'Observation', criteria: 'Observation?status=final', interaction: ['update'] },
        { resourceType: '*', criteria: '*?_tag=x', interaction: ['create'], readonlyFields: ['telecom'] },
      ],
    };
    const review = reviewMembership({ membership: membership({ accessPolicy: { reference: 'AccessPolicy/star' } }), policies: policies(p) });
    const writable = review.warnings.filter((w) => w.code === 'hidden-writable');
    expect(writable.map((w) => w.origin?.index)).toEqual([1]);
    expect(writable[0].message).toContain('update (AccessPolicy/star resource[2] (Observation))');
    expect(writable[0].message).toContain('create (AccessPolicy/star resource[3] (*))');
  });

  it('counts what the role can see with the caller-provided SQL counter, per type, over the union of search entries', () => {
    const p: AccessPolicy = {
      resourceType: 'AccessPolicy',
      id: 'c',
      resource: [
        { resourceType: 'Patient', criteria: 'Patient?_id=a', interaction: ['search'] },
        { resourceType: 'Patient', criteria: 'Patient?_id=b', interaction: ['search'] },
        { resourceType: 'Condition', interaction: ['create'] },
        { resourceType: '*', compartment: { reference: 'Patient/a' }, interaction: ['search'] },
      ],
    };
    const calls: [string, string[]][] = [];
    const countVisible = (type: string, entries: PolicyEntry[]) => {
      calls.push([type, entries.map((e) => e.criteria ?? e.compartment ?? '')]);
      return entries.length * 10;
    };
    const review = reviewMembership({ membership: membership({ accessPolicy: { reference: 'AccessPolicy/c' } }), policies: policies(p), countVisible, countTypes: ['Observation', 'User'] });
    expect(review.counts).toEqual([
      { resourceType: 'Condition', count: 10 }, // the * compartment entry covers it for search
      { resourceType: 'Observation', count: 10 },
      { resourceType: 'Patient', count: 30 },
      { resourceType: 'User', count: 0 },
    ]);
    expect(calls).toEqual([
      ['Condition', ['Patient/a']],
      ['Observation', ['Patient/a']],
      ['Patient', ['Patient?_id=a', 'Patient?_id=b', 'Patient/a']],
    ]);
  });

  it('describes entries in words', () => {
    const p: AccessPolicy = {
      resourceType: 'AccessPolicy',
      id: 'words',
      resource: [
        {
          resourceType: 'Patient',
          criteria: 'Patient?general-practitioner=%profile',
          interaction: ['read', 'search'],
          hiddenFields: ['telecom'],
          readonlyFields: ['identifier'],
          writeConstraint: [{ language: 'text/fhirpath', expression: 'true', description: 'always' }],
        },
      ],
    };
    const review = reviewMembership({ membership: membership({ accessPolicy: { reference: 'AccessPolicy/words' } }), policies: policies(p) });
    expect(review.lines).toEqual([
      'Patient: read, search; only where general practitioner is Practitioner/123; hidden: telecom; read-only: identifier; writes must satisfy "always"',
    ]);
    expect(review.membership).toBe('ProjectMembership/m1');
    expect(review.profile).toBe('Practitioner/123');
  });
});

describe('review of the guide clinic roles', () => {
  // The guide's own "AccessPolicy Structure" example, as the attending-physician policy.
  const attending = {
    resourceType: 'AccessPolicy',
    id: 'attending-physician',
    resource: [
      { resourceType: 'Patient', criteria: 'Patient?general-practitioner=Practitioner/{%user.profile.id}', interaction: ['create', 'read', 'update', 'search'], readonly: ['id', 'meta'] },
      { resourceType: 'Observation', compartment: { reference: 'Patient/{%patient.id}' }, interaction: ['create', 'read', 'update', 'search', 'history'] },
    ],
  } as unknown as AccessPolicy;
  const research: AccessPolicy = {
    resourceType: 'AccessPolicy',
    id: 'research',
    resource: [{ resourceType: 'Patient', criteria: 'Patient?_tag=study-cohort-2024', hiddenFields: ['name', 'telecom', 'address', 'identifier'], interaction: ['read', 'search'] }],
  };

  it("flags that the guide's physician policy grants no Observation to a practitioner (%patient has no value)", () => {
    const review = reviewMembership({ membership: membership({ profile: { reference: 'Practitioner/chen-md' }, accessPolicy: { reference: 'AccessPolicy/attending-physician' } }), policies: policies(attending) });
    expect(review.warnings.map((w) => w.code)).toEqual(['legacy-form', 'unfilled-variable']);
    expect(review.lines).toEqual([
      'Patient: create, read, update, search; only where general practitioner is Practitioner/chen-md; read-only: id, meta',
      'Observation: create, read, update, search, history; only in the compartment of Patient/{%patient.id} (grants nothing: see warnings)',
    ]);
  });

  it('the researcher policy needs no warning', () => {
    const review = reviewMembership({ membership: membership({ accessPolicy: { reference: 'AccessPolicy/research' } }), policies: policies(research) });
    expect(review.warnings).toEqual([]);
    expect(review.lines).toEqual(['Patient: read, search; only where tagged "study-cohort-2024"; hidden: name, telecom, address, identifier']);
  });
});

describe('criteria in words', () => {
  it('says what a criteria string selects, keeping references for the review to name', async () => {
    const { criteriaInWords } = await import('../../electron/host/access/policy/criteria-words.ts');
    const cases: [string, string][] = [
      [
        'Patient?_tag=https://outpost.local/fhir/CodeSystem/demo|confidential&_has:CareTeam:patient:participant=Practitioner/p1',
        'tagged "confidential" and a CareTeam names it as patient with participant Practitioner/p1',
      ],
      ['Patient?_tag:not=https://outpost.local/fhir/CodeSystem/demo|confidential', 'not tagged "confidential"'],
      ['CareTeam?participant=Practitioner/p1', 'participant is Practitioner/p1'],
      ['Observation?status=final,amended&date=ge2024-01-01', 'status is final or amended and date on or after 2024-01-01'],
      ['Patient?organization.name:contains=General', 'its organization\'s name contains "General"'],
      ['Patient?general-practitioner:missing=true', 'no general practitioner'],
      ['Patient?name:exact=Ann%20Lee', 'name is exactly "Ann Lee"'],
      ['Observation?_compartment=Patient/mary', 'in the chart of Patient/mary'],
      ['Patient', 'Patient'],
    ];
    for (const [criteria, words] of cases) {
      expect(criteriaInWords(criteria), criteria).toBe(words);
    }
  });
});
