// Dotted field paths of hiddenFields / readonlyFields (`name.family`, `telecom`, `valueQuantity.value`,
// `value[x]`, `value`) resolved against the FHIR StructureDefinitions, so that choice types are handled
// as FHIR paths: `value` and `value[x]` mean every value[x] variant, `valueQuantity` only the Quantity
// one. Resolution reads @medplum/core's schema index (immutable definitions); nothing is cached here.
import { capitalize, tryGetDataType } from '@medplum/core';
import type { InternalSchemaElement } from '@medplum/core';
import { loadFhirDefinitions } from '../../fhir/definitions.ts';

export interface PathSegment {
  /** Element name without `[x]`: `value` for every variant of value[x]. */
  name: string;
  /** True when the element is a choice type (value[x]). */
  choice: boolean;
  /** For a choice: the one variant named (`Quantity` for valueQuantity), undefined for all. Else the element's type. */
  type?: string;
  /** The choice's possible type codes (empty for non-choice). */
  choiceTypes: string[];
}

export interface ResolvedPath {
  path: string;
  segments: PathSegment[];
  /** Where resolution failed against the schema (unknown element, or navigation into a primitive). */
  problem?: string;
}

const PATH_SYNTAX = /^[A-Za-z_][A-Za-z0-9_]*(\[x\])?(\.[A-Za-z_][A-Za-z0-9_]*(\[x\])?)*$/;

export function isValidPathSyntax(path: string): boolean {
  return PATH_SYNTAX.test(path);
}

function elementsOf(typeName: string | undefined): Record<string, InternalSchemaElement> | undefined {
  if (!typeName) {
    return undefined;
  }
  loadFhirDefinitions();
  return tryGetDataType(typeName)?.elements;
}

/** Resolves one segment name in a type's elements. Unknown types or elements give a plain segment. */
function resolveSegment(typeName: string | undefined, raw: string): { segment: PathSegment; found: boolean } {
  const plain = raw.endsWith('[x]') ? raw.slice(0, -3) : raw;
  const elements = elementsOf(typeName);
  if (!elements) {
    return { segment: { name: plain, choice: raw.endsWith('[x]'), choiceTypes: [] }, found: false };
  }
  const choiceElement = elements[`${plain}[x]`];
  if (choiceElement) {
    return { segment: { name: plain, choice: true, choiceTypes: choiceElement.type.map((t) => t.code) }, found: true };
  }
  const element = raw.endsWith('[x]') ? undefined : elements[raw];
  if (element) {
    return { segment: { name: raw, choice: false, type: element.type[0]?.code, choiceTypes: [] }, found: true };
  }
  // A typed variant of a choice: valueQuantity -> value[x] restricted to Quantity.
  for (const [key, el] of Object.entries(elements)) {
    if (!key.endsWith('[x]')) {
      continue;
    }
    const base = key.slice(0, -3);
    if (raw.startsWith(base) && raw.length > base.length) {
      const variant = el.type.find((t) => capitalize(t.code) === raw.slice(base.length));
      if (variant) {
        return { segment: { name: base, choice: true, type: variant.code, choiceTypes: el.type.map((t) => t.code) }, found: true };
      }
    }
  }
  return { segment: { name: plain, choice: false, choiceTypes: [] }, found: false };
}

/** Resolves a dotted path from a resource (or data) type. */
export function resolveFieldPath(rootType: string, path: string): ResolvedPath {
  const segments: PathSegment[] = [];
  let typeName: string | undefined = rootType;
  let problem: string | undefined;
  let primitiveParent: string | undefined;
  for (const raw of path.split('.')) {
    if (primitiveParent && !problem) {
      problem = `'${primitiveParent}' is a primitive value: it has no element '${raw}'`;
    }
    const { segment, found } = resolveSegment(typeName, raw);
    if (!found && !problem && typeName) {
      problem = elementsOf(typeName) ? `${typeName} has no element '${raw}'` : `cannot resolve '${raw}' inside ${typeName}`;
    }
    segments.push(segment);
    typeName = found && !(segment.choice && !segment.type) ? segment.type : undefined;
    primitiveParent = typeName && /^[a-z]/.test(typeName) ? raw : undefined;
    if (primitiveParent) {
      typeName = undefined;
    }
  }
  return { path, segments, problem };
}

/** The JSON keys of one object that a segment designates (value[x] variants included; `_x` companions not). */
export function matchingKeys(obj: Record<string, unknown>, segment: PathSegment): string[] {
  if (!segment.choice) {
    return segment.name in obj ? [segment.name] : [];
  }
  const variants = segment.type ? [segment.type] : segment.choiceTypes;
  const keys = variants.map((t) => segment.name + capitalize(t)).filter((k) => k in obj);
  if (!segment.type && segment.choiceTypes.length === 0) {
    // Unknown schema: `value[x]` still means every valueXxx key.
    for (const k of Object.keys(obj)) {
      if (k.startsWith(segment.name) && /^[A-Z]/.test(k.slice(segment.name.length))) {
        keys.push(k);
      }
    }
  }
  return keys;
}

/** The type to resolve further segments with, for the value found under `key`. */
export function childType(segment: PathSegment, key: string): string | undefined {
  if (!segment.choice) {
    return segment.type;
  }
  const variant = key.slice(segment.name.length);
  return segment.choiceTypes.find((t) => capitalize(t) === variant) ?? undefined;
}

/** True when two segments can designate the same data. */
export function segmentsOverlap(a: PathSegment, b: PathSegment): boolean {
  if (a.name !== b.name) {
    return false;
  }
  if (!a.choice || !b.choice) {
    return true;
  }
  return a.type === undefined || b.type === undefined || a.type === b.type;
}

/** True when one path is inside the other (or equal): data of one is data of the other. */
export function pathsOverlap(a: PathSegment[], b: PathSegment[]): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (!segmentsOverlap(a[i], b[i])) {
      return false;
    }
  }
  return n > 0;
}
