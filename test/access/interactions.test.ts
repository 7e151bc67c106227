import { satisfiedAccessPolicy } from '@medplum/core';
import type { AccessPolicy, AccessPolicyResource, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { entriesFor, governingEntry } from '../../electron/host/access/policy/interactions.ts';

/** The enforcement point's 403 pre-check: some entry lets the role do the interaction on the type. */
const typeAllowed = (...args: Parameters<typeof entriesFor>): boolean => entriesFor(...args).length > 0;
import { buildEffectivePolicy } from '../../electron/host/access/policy/policy-build.ts';
import type { Interaction } from '../../electron/host/access/policy/types.ts';
import { ALL_INTERACTIONS } from '../../electron/host/access/policy/types.ts';

function effective(resource: AccessPolicyResource[], admin = false) {
  const policy: AccessPolicy = { resourceType: 'AccessPolicy', id: 'p', resource };
  return buildEffectivePolicy({
    membership: { resourceType: 'ProjectMembership', id: 'm', project: { reference: 'Project/x' }, user: { reference: 'User/u' }, profile: { reference: 'Practitioner/1' }, admin, accessPolicy: { reference: 'AccessPolicy/p' } },
    policies: new Map([['AccessPolicy/p', policy]]),
  });
}

describe('entriesFor / typeAllowed', () => {
  it('matches by type and interaction, in policy order', () => {
    const p = effective([
      { resourceType: 'Patient', interaction: ['read'] },
      { resourceType: 'Observation', interaction: ['search'] },
      { resourceType: 'Patient', criteria: 'Patient?active=true', interaction: ['read', 'update'] },
    ]);
    expect(entriesFor(p, 'Patient', 'read').map((e) => e.origin.index)).toEqual([0, 2]);
    expect(entriesFor(p, 'Patient', 'update').map((e) => e.origin.index)).toEqual([2]);
    expect(typeAllowed(p, 'Patient', 'delete')).toBe(false);
    expect(typeAllowed(p, 'Observation', 'search')).toBe(true);
    expect(typeAllowed(p, 'Encounter', 'read')).toBe(false);
  });

  it('PATCH counts as update', () => {
    const p = effective([{ resourceType: 'Patient', interaction: ['update'] }]);
    expect(typeAllowed(p, 'Patient', 'patch')).toBe(true);
    expect(typeAllowed(effective([{ resourceType: 'Patient', interaction: ['read'] }]), 'Patient', 'patch')).toBe(false);
  });

  it('* never covers admin types, nor credentials-bearing program profiles, nor protected types', () => {
    const p = effective([{ resourceType: '*' }]);
    for (const type of ['User', 'Project', 'ProjectMembership', 'AccessPolicy', 'ClientApplication', 'Bot', 'PasswordChangeRequest', 'UserSecurityRequest', 'Login', 'JsonWebKey']) {
      for (const i of ALL_INTERACTIONS) {
        expect(typeAllowed(p, type, i), `${type} ${i}`).toBe(false);
      }
    }
    expect(typeAllowed(p, 'Patient', 'delete')).toBe(true);
    expect(typeAllowed(p, 'Binary', 'create')).toBe(true);
  });

  it('explicit entries grant program profiles; admin types only to admins', () => {
    const nonAdmin = effective([{ resourceType: 'ClientApplication', interaction: ['read'] }, { resourceType: 'User' }]);
    expect(typeAllowed(nonAdmin, 'ClientApplication', 'read')).toBe(true);
    expect(typeAllowed(nonAdmin, 'User', 'read')).toBe(false);
    const admin = effective([{ resourceType: 'Patient', interaction: ['read'] }], true);
    for (const type of ['User', 'ProjectMembership', 'AccessPolicy', 'ClientApplication', 'Bot']) {
      expect(typeAllowed(admin, type, 'update'), type).toBe(true);
    }
    expect(typeAllowed(admin, 'Project', 'read')).toBe(true);
    expect(typeAllowed(admin, 'Project', 'delete')).toBe(false);
    // admin does not bypass the policy for clinical data
    expect(typeAllowed(admin, 'Patient', 'update')).toBe(false);
    expect(typeAllowed(admin, 'Observation', 'read')).toBe(false);
  });

  it('entries that match nothing grant nothing', () => {
    const p = effective([{ resourceType: 'Observation', compartment: { reference: 'Patient/{%patient.id}' } }]);
    expect(p.entries[0].matchesNothing).toBe(true);
    expect(typeAllowed(p, 'Observation', 'read')).toBe(false);
  });

  it('governingEntry is the first entry the resource matches', () => {
    const p = effective([
      { resourceType: 'Patient', criteria: 'Patient?active=true', hiddenFields: ['name'] },
      { resourceType: 'Patient', hiddenFields: ['telecom'] },
    ]);
    const entries = entriesFor(p, 'Patient', 'read');
    expect(governingEntry(entries, (e) => !e.criteria)?.hiddenFields).toEqual(['telecom']);
    expect(governingEntry(entries, () => true)?.hiddenFields).toEqual(['name']);
  });
});

/** A small deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("agreement with @medplum/core's satisfiedAccessPolicy over generated policies (no criteria)", () => {
  const entryTypes = ['*', 'Patient', 'Observation', 'Binary', 'ClientApplication', 'Bot'];
  const probeTypes = ['Patient', 'Observation', 'Binary', 'Encounter', 'ClientApplication', 'Bot', 'AccessPolicy', 'User', 'Project', 'ProjectMembership'];
  // Where Outpost deliberately goes further than Medplum: `*` does not reach AccessPolicy (spec: policy
  // changes need admin) nor ClientApplication / Bot (they hold secrets and code).
  const outpostStricterUnderWildcard = new Set(['AccessPolicy', 'ClientApplication', 'Bot']);

  it('gives the same allow/deny for every type and interaction, except the documented stricter cases', () => {
    const random = prng(20261127);
    let compared = 0;
    let stricter = 0;
    for (let n = 0; n < 300; n++) {
      const resource: AccessPolicyResource[] = [];
      const count = 1 + Math.floor(random() * 4);
      for (let k = 0; k < count; k++) {
        const entry: AccessPolicyResource = { resourceType: entryTypes[Math.floor(random() * entryTypes.length)] };
        const shape = random();
        if (shape < 0.4) {
          entry.interaction = ALL_INTERACTIONS.filter(() => random() < 0.4) as AccessPolicyResource['interaction'];
        }
        if (random() < 0.4) {
          entry.readonly = random() < 0.7;
        }
        resource.push(entry);
      }
      const medplumPolicy: AccessPolicy = { resourceType: 'AccessPolicy', resource };
      const ours = effective(resource);
      for (const type of probeTypes) {
        for (const interaction of ALL_INTERACTIONS as Interaction[]) {
          const theirs = Boolean(satisfiedAccessPolicy({ resourceType: type } as Resource, interaction, medplumPolicy));
          const mine = typeAllowed(ours, type, interaction);
          compared++;
          if (theirs !== mine) {
            const explained =
              theirs && !mine && outpostStricterUnderWildcard.has(type) && !resource.some((e) => e.resourceType === type && entryAllows(e, interaction));
            expect(explained, `${JSON.stringify(resource)} ${type} ${interaction}: medplum ${theirs}, outpost ${mine}`).toBe(true);
            stricter++;
          }
        }
      }
    }
    expect(compared).toBe(300 * probeTypes.length * ALL_INTERACTIONS.length);
    expect(stricter).toBeGreaterThan(0); // the stricter cases were exercised
  });
});

function entryAllows(e: AccessPolicyResource, interaction: Interaction): boolean {
  if (e.interaction) {
    return e.interaction.includes(interaction);
  }
  return !e.readonly || ['read', 'vread', 'search', 'history'].includes(interaction);
}
