import type { AccessPolicy, ProjectMembership } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { isFhirError } from '../../shared/errors.ts';
import { buildEffectivePolicy, toAccessPolicy } from '../../electron/host/access/policy/policy-build.ts';
import { ALL_INTERACTIONS } from '../../electron/host/access/policy/types.ts';

const membership = (extra: Partial<ProjectMembership> = {}): ProjectMembership => ({
  resourceType: 'ProjectMembership',
  id: 'm1',
  project: { reference: 'Project/p1' },
  user: { reference: 'User/u1' },
  profile: { reference: 'Practitioner/123' },
  ...extra,
});

const policy = (id: string, resource: AccessPolicy['resource'], extra: Partial<AccessPolicy> = {}): AccessPolicy => ({
  resourceType: 'AccessPolicy',
  id,
  resource,
  ...extra,
});

const store = (...policies: AccessPolicy[]) => new Map(policies.map((p) => [`AccessPolicy/${p.id}`, p]));

describe('buildEffectivePolicy', () => {
  it('concatenates membership.accessPolicy then each access[] entry in order, each with its own parameters', () => {
    const base = policy('base', [{ resourceType: 'Practitioner', interaction: ['read'] }]);
    const perPatient = policy('per-patient', [{ resourceType: 'Patient', criteria: 'Patient?_id=%patient.id', interaction: ['read', 'search'] }]);
    const result = buildEffectivePolicy({
      membership: membership({
        accessPolicy: { reference: 'AccessPolicy/base' },
        access: [
          { policy: { reference: 'AccessPolicy/per-patient' }, parameter: [{ name: 'patient', valueReference: { reference: 'Patient/p1' } }] },
          { policy: { reference: 'AccessPolicy/per-patient' }, parameter: [{ name: 'patient', valueReference: { reference: 'Patient/p2' } }] },
        ],
      }),
      policies: store(base, perPatient),
    });
    expect(result.entries.map((e) => [e.resourceType, e.criteria, e.origin])).toEqual([
      ['Practitioner', undefined, { policy: 'AccessPolicy/base', index: 0 }],
      ['Patient', 'Patient?_id=p1', { policy: 'AccessPolicy/per-patient', index: 0 }],
      ['Patient', 'Patient?_id=p2', { policy: 'AccessPolicy/per-patient', index: 0 }],
    ]);
    expect(result.source).toEqual({
      membership: 'ProjectMembership/m1',
      profile: 'Practitioner/123',
      policies: ['AccessPolicy/base', 'AccessPolicy/per-patient', 'AccessPolicy/per-patient'],
      admin: false,
    });
    expect(result.warnings).toEqual([]);
  });

  it('accepts a function as policy resolver', () => {
    const p = policy('x', [{ resourceType: 'Patient' }]);
    const result = buildEffectivePolicy({ membership: membership({ accessPolicy: { reference: 'AccessPolicy/x' } }), policies: (ref) => (ref === 'AccessPolicy/x' ? p : undefined) });
    expect(result.entries).toHaveLength(1);
  });

  it('fails with a 400 naming the policy when a referenced policy does not exist', () => {
    const build = () => buildEffectivePolicy({ membership: membership({ access: [{ policy: { reference: 'AccessPolicy/gone' } }] }), policies: store() });
    expect(build).toThrow(/AccessPolicy\/gone of ProjectMembership\/m1 does not exist/);
    try {
      build();
    } catch (err) {
      expect(isFhirError(err, 400)).toBe(true);
    }
  });

  it('gives [{resourceType:"*"}] with all interactions and a warning when there is no policy', () => {
    const result = buildEffectivePolicy({ membership: membership(), policies: store() });
    expect(result.entries).toHaveLength(1);
    expect(result.entries[0].resourceType).toBe('*');
    expect([...result.entries[0].interactions].sort()).toEqual([...ALL_INTERACTIONS].sort());
    expect(result.warnings.map((w) => w.code)).toEqual(['no-policy']);
  });

  it('legacy readonly: true means search, read, history, vread; neither field means all seven', () => {
    const p = policy('legacy', [
      { resourceType: 'Patient', readonly: true },
      { resourceType: 'Observation' },
      { resourceType: 'Condition', readonly: true, interaction: ['create'] },
    ]);
    const [ro, all, explicit] = buildEffectivePolicy({ membership: membership({ accessPolicy: { reference: 'AccessPolicy/legacy' } }), policies: store(p) }).entries;
    expect([...ro.interactions].sort()).toEqual(['history', 'read', 'search', 'vread']);
    expect(all.interactions.size).toBe(7);
    expect([...explicit.interactions]).toEqual(['create']); // interaction wins over legacy readonly, as in Medplum
  });

  it('keeps entry compartments and applies the legacy top-level compartment to entries without one', () => {
    const p = policy(
      'comp',
      [
        { resourceType: 'Observation', compartment: { reference: 'Patient/{%patient.id}' } },
        { resourceType: 'Condition' },
      ],
      { compartment: { reference: 'Patient/%patient.id' } }
    );
    const result = buildEffectivePolicy({ membership: membership({ profile: { reference: 'Patient/abc' }, accessPolicy: { reference: 'AccessPolicy/comp' } }), policies: store(p) });
    expect(result.entries.map((e) => e.compartment)).toEqual(['Patient/abc', 'Patient/abc']);
  });

  it('substitutes criteria, compartments and write constraints, and copies masks', () => {
    const p = policy('doc', [
      {
        resourceType: 'Patient',
        criteria: 'Patient?general-practitioner=Practitioner/{%user.profile.id}',
        interaction: ['read', 'search', 'update'],
        hiddenFields: ['telecom'],
        readonlyFields: ['identifier'],
        writeConstraint: [{ language: 'text/fhirpath', expression: "generalPractitioner.reference = %profile", description: 'stays mine' }],
      },
    ]);
    const [entry] = buildEffectivePolicy({ membership: membership({ accessPolicy: { reference: 'AccessPolicy/doc' } }), policies: store(p) }).entries;
    expect(entry).toMatchObject({
      resourceType: 'Patient',
      criteria: 'Patient?general-practitioner=Practitioner/123',
      hiddenFields: ['telecom'],
      readonlyFields: ['identifier'],
      writeConstraints: [{ expression: "generalPractitioner.reference = 'Practitioner/123'", description: 'stays mine' }],
      matchesNothing: false,
    });
  });

  it('fails closed: a variable with no value makes the entry match nothing, with a warning naming it', () => {
    const p = policy('pp', [
      { resourceType: 'Observation', compartment: { reference: 'Patient/{%patient.id}' } },
      { resourceType: 'Patient', criteria: 'Patient?organization=%org' },
      { resourceType: 'Encounter', criteria: 'Encounter?subject=%nosuchthing' },
    ]);
    const result = buildEffectivePolicy({ membership: membership({ access: [{ policy: { reference: 'AccessPolicy/pp' }, parameter: [{ name: 'org' }] }] }), policies: store(p) });
    expect(result.entries.map((e) => e.matchesNothing)).toEqual([true, true, true]);
    expect(result.warnings.map((w) => w.code)).toEqual(['unfilled-variable', 'unfilled-variable', 'unknown-variable']);
    expect(result.warnings[0].message).toContain('{%patient.id}');
    expect(result.warnings[2].message).toContain('%nosuchthing');
    expect(toAccessPolicy(result).resource).toEqual([]);
  });

  it('fails closed on criteria that cannot be used at run time', () => {
    const p = policy('bad', [
      { resourceType: 'Patient', criteria: 'Patient?care-team=x' },
      { resourceType: 'Patient', criteria: 'Observation?code=x' },
      { resourceType: 'Patient', criteria: 'Patient?birthdate=notadate' },
    ]);
    const result = buildEffectivePolicy({ membership: membership({ accessPolicy: { reference: 'AccessPolicy/bad' } }), policies: store(p) });
    expect(result.entries.every((e) => e.matchesNothing)).toBe(true);
    expect(result.warnings.every((w) => w.code === 'invalid-entry')).toBe(true);
  });

  it('reads the guide spellings hidden and readonly: [paths] as field masks (never ignored)', () => {
    const p = policy('research', [
      { resourceType: 'Patient', criteria: 'Patient?_tag=study-cohort-2024', interaction: ['read', 'search'], hidden: ['name', 'telecom'], readonly: ['id', 'meta'] } as never,
    ]);
    const result = buildEffectivePolicy({ membership: membership({ accessPolicy: { reference: 'AccessPolicy/research' } }), policies: store(p) });
    expect(result.entries[0]).toMatchObject({ hiddenFields: ['name', 'telecom'], readonlyFields: ['id', 'meta'] });
    expect(result.warnings.map((w) => w.code)).toEqual(['legacy-form', 'legacy-form']);
  });

  it('fails closed on mask forms it cannot read (a stored policy that skipped validation)', () => {
    const p = policy('odd', [
      { resourceType: 'Patient', hidden: 'name' } as never,
      { resourceType: 'Patient', readonly: 'true' } as never,
      { resourceType: 'Patient', hiddenFields: 'name' } as never,
    ]);
    const result = buildEffectivePolicy({ membership: membership({ accessPolicy: { reference: 'AccessPolicy/odd' } }), policies: store(p) });
    expect(result.entries.map((e) => e.matchesNothing)).toEqual([true, true, true]);
  });

  it('drops admin-only types for a non-admin and adds admin entries for an admin', () => {
    const p = policy('mixed', [{ resourceType: 'ProjectMembership' }, { resourceType: 'Patient' }]);
    const nonAdmin = buildEffectivePolicy({ membership: membership({ accessPolicy: { reference: 'AccessPolicy/mixed' } }), policies: store(p) });
    expect(nonAdmin.entries.map((e) => e.resourceType)).toEqual(['Patient']);
    expect(nonAdmin.warnings.map((w) => w.code)).toEqual(['admin-type-dropped']);
    const admin = buildEffectivePolicy({ membership: membership({ admin: true, accessPolicy: { reference: 'AccessPolicy/mixed' } }), policies: store(p) });
    expect(admin.entries.map((e) => e.resourceType)).toEqual(['ProjectMembership', 'Patient', 'Project', 'ProjectMembership', 'User', 'AccessPolicy', 'ClientApplication', 'Bot']);
    const user = admin.entries.find((e) => e.resourceType === 'User');
    expect(user?.hiddenFields).toEqual(['passwordHash', 'mfaSecret']);
    expect(admin.source.admin).toBe(true);
  });

  it('warns about the fields it does not apply (basedOn, ipAccessRule)', () => {
    const p = policy('x', [{ resourceType: 'Patient' }], { basedOn: [{ reference: 'AccessPolicy/y' }], ipAccessRule: [{ value: '10.0.0.0/8', action: 'allow' }] });
    const result = buildEffectivePolicy({ membership: membership({ accessPolicy: { reference: 'AccessPolicy/x' } }), policies: store(p) });
    expect(result.warnings.map((w) => w.code)).toEqual(['ignored-field', 'ignored-field']);
  });

  it('toAccessPolicy renders the effective policy as an AccessPolicy resource', () => {
    const p = policy('doc', [{ resourceType: 'Patient', readonly: true, criteria: 'Patient?_id=%profile.id' }]);
    const result = buildEffectivePolicy({ membership: membership({ profile: { reference: 'Patient/me' }, accessPolicy: { reference: 'AccessPolicy/doc' } }), policies: store(p) });
    expect(toAccessPolicy(result)).toEqual({
      resourceType: 'AccessPolicy',
      resource: [{ resourceType: 'Patient', interaction: ['read', 'vread', 'search', 'history'], criteria: 'Patient?_id=me' }],
    });
  });
});
