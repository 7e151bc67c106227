// The compiled search-parameter extractors must select exactly what fhirpath.js selects for the same
// expression, for every parameter they handle, over real data (Synthea, after the store rewrote the
// urn:uuid references so `where(resolve() is Patient)` has something to check).
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFhirDefinitions } from '../../electron/host/fhir/definitions.ts';
import { compileExtractor, fhirpathExtractor } from '../../electron/host/search/extract.ts';
import { getIndexPlan } from '../../electron/host/search/indexer.ts';
import { getParamRegistry } from '../../electron/host/search/params.ts';
import type { Store } from '../../electron/host/store/index.ts';
import { allResources, loadSyntheaStore } from './helpers.ts';

let store: Store;
let resources: Resource[];

beforeAll(() => {
  loadFhirDefinitions();
  store = loadSyntheaStore(3);
  resources = allResources(store);
});

afterAll(() => store.close());

/**
 * The reference expression for fhirpath.js: `as` (a singleton operator there; search semantics apply
 * it per item, as Medplum does) becomes ofType(), and `resolve() is X` (fhirpath.js cannot type a
 * resolver's plain object) becomes the equivalent check on the reference string.
 */
function referenceExpression(expression: string): string {
  return expression
    .replace(/ as (\w+)\)/g, '.ofType($1))')
    .replace(/\.as\((\w+)\)/g, '.ofType($1)')
    .replace(/resolve\(\) is (\w+)/g, "reference.startsWith('$1/')");
}

/** A canonical multiset-free form: FHIRPath unions remove duplicates, so compare as sets. */
function canonical(values: unknown[]): string[] {
  return [...new Set(values.map((v) => JSON.stringify(v)))].sort();
}

describe('compiled FHIRPath extractors', () => {
  it('compile almost every search parameter expression of every resource type', () => {
    let total = 0;
    const fallbacks: string[] = [];
    for (const type of getParamRegistry().resourceTypes) {
      for (const p of getIndexPlan(type)) {
        total++;
        if (!p.compiled) {
          fallbacks.push(`${type}.${p.def.code}`);
        }
      }
    }
    expect(total).toBeGreaterThan(2000);
    // Only expressions outside the compiled subset (indexers, boolean logic, resolve().resourceType).
    expect(fallbacks.sort()).toEqual(['Bundle.composition', 'Bundle.message', 'Patient.deceased', 'ProjectMembership.profile-type']);
  });

  it('agree with fhirpath.js on Synthea resources for every compiled parameter', () => {
    const mismatches: string[] = [];
    let compared = 0;
    let nonEmpty = 0;
    const reference = new Map<string, ReturnType<typeof fhirpathExtractor>>();
    for (const resource of resources) {
      for (const p of getIndexPlan(resource.resourceType)) {
        if (!p.compiled || !p.def.expression) {
          continue;
        }
        const key = `${resource.resourceType}.${p.def.code}`;
        let slow = reference.get(key);
        if (!slow) {
          slow = fhirpathExtractor(referenceExpression(p.def.expression));
          reference.set(key, slow);
        }
        const fast = canonical(p.extract(resource));
        const expected = canonical(slow(resource));
        compared++;
        if (fast.length) {
          nonEmpty++;
        }
        if (JSON.stringify(fast) !== JSON.stringify(expected)) {
          mismatches.push(`${key} on ${resource.id}: ${fast.length} vs ${expected.length}`);
        }
      }
    }
    expect(mismatches.slice(0, 20)).toEqual([]);
    expect(compared).toBeGreaterThan(10_000);
    expect(nonEmpty).toBeGreaterThan(3_000);
  });

  it('handle choice types, unions, where filters and extension() on hand-made resources', () => {
    const obs = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      valueQuantity: { value: 5, unit: 'mg' },
      subject: { reference: 'Patient/p1' },
      performer: [{ reference: 'Practitioner/d1' }, { reference: 'Organization/o1' }],
      extension: [{ url: 'http://e/x', valueString: 'ext' }],
    } as Resource;
    const run = (type: string, expr: string, r: Resource): unknown[] => compileExtractor(type, expr).extract(r);
    expect(run('Observation', '(Observation.value as Quantity)', obs)).toEqual([{ value: 5, unit: 'mg' }]);
    expect(run('Observation', 'Observation.value.as(string)', obs)).toEqual([]);
    expect(run('Observation', 'Observation.performer.where(resolve() is Organization)', obs)).toEqual([{ reference: 'Organization/o1' }]);
    expect(run('Observation', 'Observation.subject | Observation.performer', obs)).toHaveLength(3);
    expect(run('Observation', "Observation.extension('http://e/x').value", obs)).toEqual(['ext']);
    const patient = { resourceType: 'Patient', telecom: [{ system: 'phone', value: '555' }, { system: 'email', value: 'a@b' }] } as Resource;
    expect(run('Patient', "Patient.telecom.where(system='email')", patient)).toEqual([{ system: 'email', value: 'a@b' }]);
    expect(compileExtractor('Patient', "Patient.telecom.where(system='email')").compiled).toBe(true);
  });
});
