// decideWrite / decideDelete, and what a read governed by an entry shows (the enforcement point's
// governingEntry + removeHiddenFields), with an in-memory matcher standing in for the SQL one.
import { matchesSearchRequest, parseSearchRequest } from '@medplum/core';
import type { AccessPolicy, AccessPolicyResource, Observation, Patient, Resource, ServiceRequest } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { isFhirError } from '../../shared/errors.ts';
import { decideDelete, decideWrite } from '../../electron/host/access/policy/decisions.ts';
import { removeHiddenFields } from '../../electron/host/access/policy/fields.ts';
import { entriesFor, governingEntry } from '../../electron/host/access/policy/interactions.ts';
import type { EffectivePolicy, Interaction } from '../../electron/host/access/policy/types.ts';

/** A read as the enforcement point answers it: the governing entry's masks, or nothing (404 / absent). */
function visibleVersion<T extends Resource>(policy: Pick<EffectivePolicy, 'entries'>, interaction: Interaction, resource: T, matches: EntryMatcher): T | undefined {
  const entry = governingEntry(entriesFor(policy, resource.resourceType, interaction), (e) => matches(e, resource));
  return entry ? removeHiddenFields(resource, entry.hiddenFields) : undefined;
}
import type { EntryMatcher } from '../../electron/host/access/policy/decisions.ts';
import { buildEffectivePolicy } from '../../electron/host/access/policy/policy-build.ts';
import { createWriteConstraintCache } from '../../electron/host/access/policy/write-constraints.ts';

const matches: EntryMatcher = (entry, resource) =>
  (!entry.criteria || matchesSearchRequest(resource, parseSearchRequest(entry.criteria))) &&
  (!entry.compartment || Boolean(resource.meta?.compartment?.some((c) => c.reference === entry.compartment)));

function effective(resource: AccessPolicyResource[]) {
  const policy: AccessPolicy = { resourceType: 'AccessPolicy', id: 'p', resource };
  return buildEffectivePolicy({
    membership: { resourceType: 'ProjectMembership', id: 'm', project: { reference: 'Project/x' }, user: { reference: 'User/u' }, profile: { reference: 'Practitioner/1' }, accessPolicy: { reference: 'AccessPolicy/p' } },
    policies: new Map([['AccessPolicy/p', policy]]),
  });
}

function status(fn: () => unknown): number | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (isFhirError(err)) {
      return err.status;
    }
    throw err;
  }
}

describe('decideWrite', () => {
  it('scenario 2: moving a resource out of reach, or writing one outside it, is 403', () => {
    const policy = effective([
      { resourceType: 'ServiceRequest', criteria: 'ServiceRequest?status=active' },
      { resourceType: 'ServiceRequest', criteria: 'ServiceRequest?status=completed', readonly: true },
    ]);
    const sr = (s: ServiceRequest['status']): ServiceRequest => ({ resourceType: 'ServiceRequest', id: 's', status: s, intent: 'order', subject: { reference: 'Patient/p' } });
    expect(status(() => decideWrite({ policy, after: sr('active'), matches }))).toBe('ok');
    expect(status(() => decideWrite({ policy, after: sr('completed'), matches }))).toBe(403);
    expect(status(() => decideWrite({ policy, before: sr('active'), after: sr('completed'), matches }))).toBe(403);
    expect(status(() => decideWrite({ policy, before: sr('completed'), after: sr('completed'), matches }))).toBe(403);
    expect(status(() => decideWrite({ policy, before: sr('active'), after: sr('active'), matches }))).toBe('ok');
  });

  it('a type without create/update entries is 403', () => {
    const policy = effective([{ resourceType: 'Patient', readonly: true }]);
    expect(status(() => decideWrite({ policy, after: { resourceType: 'Patient' }, matches }))).toBe(403);
  });

  it('applies readonly on create and keeps hidden + readonly values on update', () => {
    const policy = effective([{ resourceType: 'Patient', hiddenFields: ['name.family'], readonlyFields: ['identifier'] }]);
    const created = decideWrite<Patient>({ policy, after: { resourceType: 'Patient', identifier: [{ value: 'x' }], name: [{ family: 'F', given: ['G'] }] }, matches });
    expect(created.resource).toEqual({ resourceType: 'Patient', name: [{ family: 'F', given: ['G'] }] });
    const stored: Patient = { resourceType: 'Patient', id: 'p', identifier: [{ value: 'MRN' }], name: [{ family: 'F', given: ['G'] }] };
    const updated = decideWrite<Patient>({ policy, before: stored, after: { resourceType: 'Patient', id: 'p', name: [{ given: ['G', 'H'] }] }, matches });
    expect(updated.resource).toEqual({ resourceType: 'Patient', id: 'p', identifier: [{ value: 'MRN' }], name: [{ family: 'F', given: ['G', 'H'] }] });
  });

  it('hidden fields of the read entry survive an update through an entry that hides nothing', () => {
    const policy = effective([
      { resourceType: 'Patient', hiddenFields: ['name.family'], interaction: ['read', 'search'] },
      { resourceType: 'Patient', interaction: ['update'] },
    ]);
    const stored: Patient = { resourceType: 'Patient', id: 'p', name: [{ family: 'F', given: ['G'] }] };
    const seen = visibleVersion(policy, 'read', stored, matches) as Patient;
    expect(seen.name).toEqual([{ given: ['G'] }]);
    const saved = decideWrite<Patient>({ policy, before: stored, after: { ...seen, gender: 'female' }, matches });
    expect(saved.resource).toEqual({ ...stored, gender: 'female' });
  });

  it('scenario 7 through the write decision, compiling constraints once with a cache', () => {
    const policy = effective([
      {
        resourceType: 'Observation',
        writeConstraint: [
          { language: 'text/fhirpath', expression: "%before.exists() implies %before.status != 'final'", description: 'final is final' },
          { language: 'text/fhirpath', expression: "status = 'final' implies subject.exists()", description: 'final needs a subject' },
        ],
      },
    ]);
    const cache = createWriteConstraintCache();
    const write = (after: Observation, before?: Observation) => status(() => decideWrite({ policy, before, after, matches, constraintsOf: cache.forEntry }));
    const prelim: Observation = { resourceType: 'Observation', id: 'o', status: 'preliminary', code: { text: 'x' } };
    const final: Observation = { ...prelim, status: 'final', subject: { reference: 'Patient/p' } };
    expect(write(prelim)).toBe('ok');
    expect(write({ ...prelim, status: 'final' })).toBe(403);
    expect(write(final, prelim)).toBe('ok');
    expect(write({ ...final, status: 'cancelled' }, final)).toBe(403);
  });

  it('write constraints see the protected version, not what the client tried', () => {
    const policy = effective([
      { resourceType: 'Observation', readonlyFields: ['status'], writeConstraint: [{ language: 'text/fhirpath', expression: "status = 'preliminary'", description: 'preliminary only' }] },
    ]);
    const stored: Observation = { resourceType: 'Observation', id: 'o', status: 'preliminary', code: { text: 'x' } };
    const d = decideWrite({ policy, before: stored, after: { ...stored, status: 'final' }, matches });
    expect(d.resource.status).toBe('preliminary');
  });
});

describe('visibleVersion and decideDelete', () => {
  const policy = effective([
    { resourceType: 'Patient', criteria: 'Patient?active=true', hiddenFields: ['telecom'], interaction: ['read', 'search', 'delete'] },
    { resourceType: 'Patient', criteria: 'Patient?gender=female', hiddenFields: ['name'], interaction: ['read'] },
  ]);
  const p = (extra: Partial<Patient>): Patient => ({ resourceType: 'Patient', id: 'p', name: [{ family: 'F' }], telecom: [{ value: '555' }], ...extra });

  it('the first matching entry governs the masks; no match means invisible', () => {
    expect(visibleVersion(policy, 'read', p({ active: true, gender: 'female' }), matches)).toEqual({ resourceType: 'Patient', id: 'p', name: [{ family: 'F' }], active: true, gender: 'female' });
    expect(visibleVersion(policy, 'read', p({ gender: 'female' }), matches)).toEqual({ resourceType: 'Patient', id: 'p', telecom: [{ value: '555' }], gender: 'female' });
    expect(visibleVersion(policy, 'read', p({}), matches)).toBeUndefined();
    expect(visibleVersion(policy, 'search', p({ gender: 'female' }), matches)).toBeUndefined();
  });

  it('delete needs a delete entry the stored version matches', () => {
    expect(decideDelete(policy, p({ active: true }), matches).origin.index).toBe(0);
    expect(status(() => decideDelete(policy, p({ gender: 'female' }), matches))).toBe(403);
    expect(status(() => decideDelete(policy, { resourceType: 'Observation', status: 'final', code: {} } as Resource, matches))).toBe(403);
  });
});
