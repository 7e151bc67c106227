// Consistency over generated policies and Synthea data: for every session, a resource is readable by
// id exactly when it appears in the unrestricted search of its type; and, for the simple criteria
// @medplum/core's satisfiedAccessPolicy evaluates (token, reference, date; no chains), its allow/deny
// agrees with Outpost's SQL.
import { satisfiedAccessPolicy } from '@medplum/core';
import type { AccessPolicy, AccessPolicyResource, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSyntheaBundles } from '../helpers/fixtures.ts';
import { createClinic, type TestClinic } from './helpers.ts';

let c: TestClinic;
const TYPES = ['Patient', 'Observation', 'Condition', 'Encounter'];
let byType: Record<string, Resource[]> = {};

beforeAll(() => {
  c = createClinic({ audit: false });
  const system = c.host.access.system(c.project);
  for (const bundle of readSyntheaBundles(3)) {
    system.processBundle(bundle, { validation: 'structure' });
  }
  byType = Object.fromEntries(
    TYPES.map((t) => [t, (c.host.rawStore.db.prepare('SELECT content FROM resource WHERE type = ? AND project = ? ORDER BY rid').pluck().all(t, c.project) as string[]).map((x) => JSON.parse(x) as Resource)]),
  );
}, 120_000);
afterAll(() => c?.close());

function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function criteriaFor(type: string, random: () => number): string | undefined {
  const patients = byType.Patient;
  const someone = patients[Math.floor(random() * patients.length)];
  const options: Record<string, string[]> = {
    Patient: ['gender=female', 'gender=male', `_id=${someone.id}`, 'birthdate=ge1980-01-01'],
    Observation: ['status=final', 'category=vital-signs', `subject=Patient/${someone.id}`, 'date=ge2015-01-01', 'category=laboratory'],
    Condition: ['clinical-status=active', `subject=Patient/${someone.id}`, 'onset-date=lt2000-01-01'],
    Encounter: ['class=AMB', `subject=Patient/${someone.id}`, 'date=ge2018-01-01', 'status=finished'],
  };
  const roll = random();
  if (roll < 0.2) {
    return undefined;
  }
  const list = options[type];
  return `${type}?${list[Math.floor(random() * list.length)]}`;
}

describe('consistency over generated policies (Synthea)', () => {
  it('readable by id exactly when found by the unrestricted search; agrees with satisfiedAccessPolicy', async () => {
    const random = prng(424242);
    let compared = 0;
    let allowed = 0;
    for (let n = 0; n < 8; n++) {
      const resource: AccessPolicyResource[] = [];
      for (const type of TYPES) {
        const entries = random() < 0.3 ? 2 : random() < 0.85 ? 1 : 0;
        for (let k = 0; k < entries; k++) {
          const criteria = criteriaFor(type, random);
          resource.push({ resourceType: type, ...(criteria ? { criteria } : {}) });
        }
      }
      const policy = c.policy(resource);
      const who = await c.person(`Gen${n}`, { accessPolicy: { reference: `AccessPolicy/${policy}` } });
      const token = await c.login(who.email);
      const medplumPolicy: AccessPolicy = { resourceType: 'AccessPolicy', resource };
      for (const type of TYPES) {
        const search = await c.call(token, 'GET', `${type}?_count=1000&_elements=id`);
        const allowedType = resource.some((r) => r.resourceType === type);
        expect(search.status, `${JSON.stringify(resource)} ${type}`).toBe(allowedType ? 200 : 403);
        const found = new Set<string>((search.body.entry ?? []).map((e: any) => e.resource.id));
        if (allowedType) {
          expect(search.body.total).toBe(found.size);
        }
        const sample = byType[type].filter((_, i) => i % Math.max(1, Math.floor(byType[type].length / 25)) === 0);
        for (const r of sample) {
          const read = await c.call(token, 'GET', `${type}/${r.id}`);
          const readable = read.status === 200;
          expect(read.status, `${type}/${r.id}`).toBe(allowedType ? (found.has(r.id as string) ? 200 : 404) : 403);
          const theirs = Boolean(satisfiedAccessPolicy(r, 'read', medplumPolicy));
          expect(readable, `${JSON.stringify(resource)} ${type}/${r.id}: medplum ${theirs}`).toBe(theirs);
          compared++;
          allowed += readable ? 1 : 0;
        }
      }
    }
    expect(compared).toBeGreaterThan(500);
    expect(allowed).toBeGreaterThan(compared / 10);
    expect(allowed).toBeLessThan(compared - compared / 10);
  }, 300_000);
});
