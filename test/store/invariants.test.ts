// 'full' validation's FHIRPath invariants, compiled (store/invariants.ts), against the oracle they
// replace: @medplum/core's validateResource. On the Synthea fixtures and on resources damaged to break
// invariants (structurally valid, so the invariants decide), both must report the same issues: the
// same constraints at the same paths, no more and no fewer.
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { Observation, Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFhirDefinitions } from '../../electron/host/fhir/definitions.ts';
import { createStore } from '../../electron/host/store/index.ts';
import { invariantIssues } from '../../electron/host/store/invariants.ts';
import { assertStructurallyValid } from '../../electron/host/store/structure.ts';
import { FhirError } from '../../shared/errors.ts';
import { readBundle, rowCounts, syntheaFiles } from './helpers.ts';

let resources: Resource[];
beforeAll(() => {
  loadFhirDefinitions();
  // Every eighth resource of every fixture: each type, each patient's shapes.
  resources = syntheaFiles()
    .flatMap((f) => readBundle(f).entry!.map((e) => e.resource!))
    .filter((_, i) => i % 8 === 0);
});

/** validateResource's error issues as `path: text` (none when it accepts). */
function oracle(r: Resource): string[] {
  try {
    validateResource(r);
    return [];
  } catch (err) {
    return ((err as OperationOutcomeError).outcome.issue ?? []).filter((i) => i.severity === 'error').map((i) => `${i.expression?.[0]}: ${i.details?.text}`).sort();
  }
}

function ours(r: Resource): string[] {
  return invariantIssues(r).map((i) => `${i.expression?.[0]}: ${i.details?.text}`).sort();
}

function structurallyValid(r: Resource): boolean {
  try {
    assertStructurallyValid(r);
    return true;
  } catch {
    return false;
  }
}

/** Objects in a resource (with the key that holds them), to damage one at random. */
function objectsOf(value: unknown, out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(value)) {
    value.forEach((v) => objectsOf(v, out));
  } else if (value && typeof value === 'object') {
    out.push(value as Record<string, unknown>);
    Object.values(value).forEach((v) => objectsOf(v, out));
  }
  return out;
}

const CODE = { coding: [{ system: 'http://loinc.org', code: '8867-4' }] };

/** Damages that keep a resource structurally valid but may break an invariant (or one validateResource does not check). */
const damages: ((r: Record<string, unknown>, pick: <T>(xs: T[]) => T) => void)[] = [
  // ext-1: an extension with both a value and extensions, or with neither.
  (r, pick) => {
    const host = pick(objectsOf(r).filter((o) => !('resourceType' in o) || o === r));
    const bad = pick([{ url: 'http://example.org/x', valueString: 'a', extension: [{ url: 'y', valueString: 'b' }] }, { url: 'http://example.org/x' }, { url: 'http://example.org/ok', valueString: 'fine' }]);
    host.extension = [...((host.extension as unknown[]) ?? []), bad];
  },
  // dom-2, dom-4, dom-5: what a contained resource may not carry; and ref-1 (a local reference), which
  // validateResource checks on References only as a type's root constraint, that is never.
  (r, pick) => {
    const contained = pick<Record<string, unknown>>([
      { resourceType: 'Patient', id: 'c1', contained: [{ resourceType: 'Patient', id: 'c2' }] },
      { resourceType: 'Patient', id: 'c1', meta: { versionId: '3' } },
      { resourceType: 'Patient', id: 'c1', meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] } },
      { resourceType: 'Organization', id: 'c1' },
      { resourceType: 'Practitioner', id: 'c1', name: [{ family: 'X', period: { start: '2020-01-01', end: '2019-01-01' } }] },
    ]);
    r.contained = [contained];
    const refHolder = objectsOf(r).find((o) => typeof o.reference === 'string');
    if (refHolder) refHolder.reference = pick(['#c1', '#missing']);
  },
  // obs-6, obs-7, obs-3 on Observations; per-1 on any Period (a root constraint: never checked nested).
  (r, pick) => {
    if (r.resourceType === 'Observation') {
      const o = r as unknown as Observation;
      const which = pick([0, 1, 2]);
      if (which === 0) o.dataAbsentReason = { text: 'not asked' };
      if (which === 1) o.component = [{ code: o.code, valueString: 'same code' }];
      if (which === 2) o.referenceRange = [{ type: { text: 'normal' } }];
    } else {
      const period = objectsOf(r).find((x) => typeof x.start === 'string' && typeof x.end === 'string');
      if (period) [period.start, period.end] = [period.end, period.start];
    }
  },
  // A random element removed (what is left may break an invariant that needed it).
  (r, pick) => {
    const o = pick(objectsOf(r));
    const keys = Object.keys(o).filter((k) => k !== 'resourceType');
    if (keys.length > 1) delete o[pick(keys)];
  },
  // Attachment data without a content type (att-1, a root constraint) and a Quantity code without a system (qty-3).
  (r) => {
    const q = objectsOf(r).find((o) => typeof o.value === 'number' && 'unit' in o);
    if (q) delete q.system;
    r.text = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' };
    r.extension = [...((r.extension as unknown[]) ?? []), { url: 'http://example.org/photo', valueAttachment: { data: 'AAAA' } }];
  },
];

describe('compiled FHIRPath invariants', () => {
  it('find nothing in the Synthea fixtures, as validateResource', () => {
    expect(resources.length).toBeGreaterThan(1500);
    const differ = resources.filter((r) => ours(r).length > 0 || oracle(r).length > 0).map((r) => `${r.resourceType}/${r.id}: ${ours(r)} | ${oracle(r)}`);
    expect(differ).toEqual([]);
  });

  it('report the issues validateResource reports on damaged resources, no more and no fewer', () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const pick = <T>(xs: T[]): T => xs[random(xs.length)];
    let compared = 0;
    let broken = 0;
    const differ: string[] = [];
    const keys = new Set<string>();
    for (let i = 0; i < 900; i++) {
      const r = structuredClone(pick(resources)) as unknown as Record<string, unknown>;
      damages[random(damages.length)](r, pick);
      if (!structurallyValid(r as unknown as Resource)) continue; // the structural check decides those (structure.test.ts)
      compared++;
      const expected = oracle(r as unknown as Resource);
      const actual = ours(r as unknown as Resource);
      if (expected.length) broken++;
      expected.forEach((t) => keys.add(/Constraint (\S+)/.exec(t)?.[1] ?? t));
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        differ.push(`${String(r.resourceType)}: ours ${JSON.stringify(actual)} | validateResource ${JSON.stringify(expected)}`);
      }
    }
    expect(differ.slice(0, 5)).toEqual([]);
    expect(compared).toBeGreaterThan(600);
    expect(broken).toBeGreaterThan(150);
    // Each family of damage above broke what it aims at.
    for (const key of ['ext-1', 'dom-2', 'dom-4', 'dom-5', 'obs-6', 'obs-7', 'obs-3']) {
      expect(keys).toContain(key);
    }
  });

  it("make the store's 'full' validation refuse a broken invariant with 400, naming it, and change nothing", () => {
    const store = createStore({ path: ':memory:' });
    try {
      const before = rowCounts(store.db);
      const observation: Observation = {
        resourceType: 'Observation',
        status: 'final',
        code: CODE,
        valueQuantity: { value: 70, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
        dataAbsentReason: { text: 'not asked' },
      };
      let error: FhirError | undefined;
      try {
        store.create(observation);
      } catch (err) {
        error = err as FhirError;
      }
      expect(error?.status).toBe(400);
      expect(JSON.stringify(error?.outcome)).toContain('obs-6');
      expect(rowCounts(store.db)).toEqual(before);
      // The same resource passes the structural check of imports (invariants are 'full' validation's).
      expect(store.create(observation, undefined, { validation: 'structure' }).status).toBe(201);
    } finally {
      store.close();
    }
  });
});
