// Field masks over real data (the Synthea fixtures): what a role reads never holds a hidden value,
// and saving back exactly what it read (or a version without its readonly fields) loses nothing.
import type { Resource } from '@medplum/fhirtypes';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { describe, expect, it } from 'vitest';
import { protectOnWrite, removeHiddenFields } from '../../electron/host/access/policy/fields.ts';
import { readSyntheaBundles } from '../helpers/fixtures.ts';

const MASKS: Record<string, string[][]> = {
  Patient: [['name.family'], ['name', 'telecom', 'address', 'identifier'], ['address.line', 'identifier.type'], ['extension'], ['name.given', 'telecom.value'], ['extension.value']],
  Observation: [['valueQuantity.value'], ['value'], ['component.value', 'code.coding.display'], ['subject'], ['component.code']],
  Encounter: [['participant.individual', 'type.coding.code'], ['period.start', 'reasonCode']],
  Condition: [['code.coding'], ['onset']],
  Claim: [['item.productOrService.coding.code', 'total.value'], ['diagnosis.diagnosisReference']],
  ExplanationOfBenefit: [['item.adjudication.amount.value'], ['contained']],
  '*': [['meta', 'text'], ['identifier.value'], ['id']],
};

function masksFor(type: string): string[][] {
  return [...(MASKS[type] ?? []), ...MASKS['*']];
}

const compiled = new Map<string, (r: unknown) => unknown[]>();

function values(resource: Resource, path: string): unknown[] {
  // FHIRPath with the R4 model reads choice types both ways (value, valueQuantity).
  const expression = `${resource.resourceType}.${path}`;
  let fn = compiled.get(expression);
  if (!fn) {
    fn = fhirpath.compile(expression, r4) as unknown as (r: unknown) => unknown[];
    compiled.set(expression, fn);
  }
  return fn(resource);
}

describe('field masks over the Synthea fixtures', () => {
  // Up to 25 resources of each type from the first 3 bundles: every shape, a bounded run time.
  const perType = new Map<string, number>();
  const resources = readSyntheaBundles(3)
    .flatMap((b) => (b.entry ?? []).map((e) => e.resource as Resource))
    .filter((r) => {
      const n = perType.get(r.resourceType) ?? 0;
      perType.set(r.resourceType, n + 1);
      return n < 25;
    });

  it('hidden values never reach the reader; the input is never changed', () => {
    let checked = 0;
    let nonEmpty = 0;
    for (const r of resources) {
      for (const hidden of masksFor(r.resourceType)) {
        const original = JSON.stringify(r);
        const masked = removeHiddenFields(r, hidden);
        expect(JSON.stringify(r)).toBe(original);
        for (const path of hidden) {
          if (values(r, path).length > 0) {
            nonEmpty++;
          }
          expect(values(masked, path), `${r.resourceType}/${r.id} ${path}`).toEqual([]);
          checked++;
        }
      }
    }
    expect(nonEmpty).toBeGreaterThan(300); // the masks do hit real data
    expect(checked).toBeGreaterThan(nonEmpty);
  });

  it('saving back what was read keeps every hidden value (nothing is erased)', () => {
    for (const r of resources) {
      for (const hidden of masksFor(r.resourceType)) {
        const read = removeHiddenFields(r, hidden);
        const saved = protectOnWrite({ before: r, after: read, hidden, readonly: [], isCreate: false });
        expect(saved, `${r.resourceType}/${r.id} hidden ${hidden.join(',')}`).toEqual(r);
      }
    }
  });

  it('readonly fields removed or changed by the client come back as stored', () => {
    for (const r of resources) {
      for (const readonly of masksFor(r.resourceType)) {
        const stripped = removeHiddenFields(r, readonly); // the client dropped them
        expect(protectOnWrite({ before: r, after: stripped, hidden: [], readonly, isCreate: false }), `${r.resourceType}/${r.id} ${readonly.join(',')}`).toEqual(r);
        expect(protectOnWrite({ before: r, after: r, hidden: [], readonly, isCreate: false })).toEqual(r);
        const created = protectOnWrite({ after: r, hidden: [], readonly, isCreate: true });
        for (const path of readonly) {
          expect(values(created, path)).toEqual([]);
        }
      }
    }
  });
});
