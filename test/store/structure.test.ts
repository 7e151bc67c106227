// The compiled structural validator (CallContext.validation = 'structure'): it accepts every Synthea
// resource, and on randomly damaged copies it rejects whatever @medplum/core's validateResource
// rejects, except FHIRPath invariants (which it does not evaluate, by design), and rejects more only
// for required bindings (which validateResource does not check: see bindings.test.ts).
import { validateResource } from '@medplum/core';
import type { Patient, Resource } from '@medplum/fhirtypes';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadFhirDefinitions } from '../../electron/host/fhir/definitions.ts';
import { createStore, type Store } from '../../electron/host/store/index.ts';
import { assertStructurallyValid } from '../../electron/host/store/structure.ts';
import { FhirError } from '../../shared/errors.ts';
import { rowCounts, smallestSyntheaBundles } from './helpers.ts';

let resources: Resource[];
beforeAll(() => {
  loadFhirDefinitions();
  resources = smallestSyntheaBundles(3).flatMap((b) => b.entry!.map((e) => e.resource!));
});

function rejects(fn: () => unknown): { rejected: boolean; text: string } {
  try {
    fn();
    return { rejected: false, text: '' };
  } catch (err) {
    const issues = (err as FhirError).outcome?.issue ?? [];
    return { rejected: true, text: issues.map((i) => `${i.expression?.[0]}: ${i.details?.text}`).join('; ') };
  }
}

function leafPaths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const key = Array.isArray(value) ? Number(k) : k;
      out.push([...prefix, key]);
      leafPaths(v, [...prefix, key], out);
    }
  }
  return out;
}

describe('structural validation', () => {
  it('accepts every resource of the Synthea fixtures', () => {
    for (const r of resources) {
      expect(rejects(() => assertStructurallyValid(r)).text).toBe('');
    }
  });

  it('rejects damaged resources that validateResource rejects (invariants aside)', () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const damage: ((v: unknown) => unknown)[] = [
      () => 'not a date, not a code?',
      () => 12345.5,
      () => null,
      () => true,
      (v) => (Array.isArray(v) ? v[0] : [v]),
      () => ({ unexpected: 'object' }),
    ];
    let compared = 0;
    const missed: string[] = [];
    let stricter = 0;
    const unexplained: string[] = [];
    for (let i = 0; i < 1500; i++) {
      const r = structuredClone(resources[random(resources.length)]) as unknown as Record<string, unknown>;
      const paths = leafPaths(r).filter((p) => p[0] !== 'resourceType');
      const path = paths[random(paths.length)];
      let parent = r as Record<string | number, unknown>;
      for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
      const last = path[path.length - 1];
      parent[last] = damage[random(damage.length)](parent[last]);

      const medplum = rejects(() => validateResource(r as unknown as Resource));
      const ours = rejects(() => assertStructurallyValid(r as unknown as Resource));
      if (medplum.rejected) {
        compared++;
        if (!ours.rejected && !/Constraint .* not met/.test(medplum.text)) {
          missed.push(`${path.join('.')}: ${medplum.text}`);
        }
      } else if (ours.rejected) {
        // Stricter than validateResource only where that is the point: bindings it does not check.
        stricter++;
        if (!ours.text.split('; ').every((t) => /did not satisfy terminology binding/.test(t))) {
          unexplained.push(`${path.join('.')}: ${ours.text}`);
        }
      }
    }
    expect(compared).toBeGreaterThan(500);
    expect(missed).toEqual([]);
    expect(stricter).toBeGreaterThan(3);
    expect(unexplained).toEqual([]);
  });

  it('names the path of each problem', () => {
    const bad = { resourceType: 'Patient', name: [{ given: ['Ann', 7] }], birthDate: '1990-13-01', foo: 1, contact: [{ gender: ['x'] }] };
    const { text } = rejects(() => assertStructurallyValid(bad as unknown as Resource));
    expect(text).toContain('Patient.name[0].given[1]: Invalid JSON type');
    expect(text).toContain('Patient.birthDate: Invalid date format');
    expect(text).toContain('Patient.foo: Invalid additional property');
    expect(text).toContain('Patient.contact[0].gender: Expected single value');
    const missing = rejects(() => assertStructurallyValid({ resourceType: 'Observation', code: { text: 'x' } } as Resource));
    expect(missing.text).toContain('Observation.status: Missing required property');
  });
});

describe('validation mode through the store', () => {
  let store: Store;
  afterEach(() => store.close());

  it("'structure' imports the same data and rejects bad input with 400, changing nothing", () => {
    store = createStore({ path: ':memory:' });
    const [bundle] = smallestSyntheaBundles(1);
    store.processBundle(bundle, { validation: 'structure' });
    const before = rowCounts(store.db);
    expect(before.resource).toBe(bundle.entry!.length);
    for (const bad of [{ resourceType: 'Patient', birthDate: 'soon' }, { resourceType: 'Patient', name: 'Ann' }, { resourceType: 'Nope' }]) {
      let status = 0;
      try {
        store.create(bad as unknown as Patient, undefined, { validation: 'structure' });
      } catch (err) {
        status = (err as FhirError).status;
      }
      expect(status).toBe(400);
    }
    expect(rowCounts(store.db)).toEqual(before);
  });
});
