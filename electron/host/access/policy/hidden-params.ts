// The existence-oracle rule (Outpost goes further than Medplum): a role must not search, sort or chain
// on a search parameter that reads a hidden field, or `Patient?family=Smith` would tell it who is
// called Smith. This finds, from the SearchParameter FHIRPath expressions, the parameters whose data
// lies inside (or contains) a hidden field.
import { getSearchParameters } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../../fhir/definitions.ts';
import type { PathSegment } from './field-paths.ts';
import { pathsOverlap, resolveFieldPath } from './field-paths.ts';

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** `(X.value as Quantity)` and `X.value as Quantity` -> `X.value.as(Quantity)`. */
function normalizeAs(expression: string): string {
  return expression
    .replace(/\(\s*([A-Za-z_][A-Za-z0-9_.]*)\s+as\s+([A-Za-z_][A-Za-z0-9_]*)\s*\)/g, '$1.as($2)')
    .replace(/([A-Za-z_][A-Za-z0-9_.]*)\s+as\s+([A-Za-z_][A-Za-z0-9_]*)/g, '$1.as($2)');
}

/**
 * The element paths (relative to the resource) an expression reads, as dotted strings with choice
 * types applied (`valueQuantity`). A path stops at the first function other than as()/ofType():
 * `telecom.where(system='phone')` reads `telecom`.
 */
export function expressionPaths(resourceType: string, expression: string, roots: readonly string[]): string[] {
  const text = normalizeAs(expression);
  const paths: string[] = [];
  for (const root of roots) {
    let from = 0;
    for (;;) {
      const at = text.indexOf(`${root}.`, from);
      if (at < 0) {
        break;
      }
      from = at + root.length + 1;
      if (at > 0 && /[A-Za-z0-9_.%]/.test(text[at - 1])) {
        continue; // part of another identifier or path
      }
      const path = pick(resourceType, scanPath(text, from));
      if (path) {
        paths.push(path);
      }
    }
  }
  return paths;
}

function scanPath(text: string, start: number): string[] {
  const segments: string[] = [];
  let pos = start;
  for (;;) {
    IDENT.lastIndex = pos;
    const m = IDENT.exec(text);
    if (!m) {
      break;
    }
    pos += m[0].length;
    if (text[pos] === '(') {
      const cast = /^\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)/.exec(text.slice(pos));
      if ((m[0] === 'as' || m[0] === 'ofType') && cast && segments.length > 0) {
        segments[segments.length - 1] += `|${cast[1]}`;
        pos += cast[0].length;
        if (text[pos] === '.') {
          pos++;
          continue;
        }
      }
      break;
    }
    segments.push(m[0]);
    if (text[pos] !== '.') {
      break;
    }
    pos++;
  }
  if (segments.length === 0) {
    return [];
  }
  const typed = segments.map((s) => s.replace(/\|(.*)$/, (_m, t: string) => capitalize(t))).join('.');
  const untyped = segments.map((s) => s.replace(/\|.*$/, '')).join('.');
  return typed === untyped ? [typed] : [typed, untyped];
}

/** Of [typed, untyped] candidates, the typed one when the schema knows it (a choice), else the plain one. */
function pick(resourceType: string, candidates: string[]): string | undefined {
  return candidates.find((c) => !resolveFieldPath(resourceType, c).problem) ?? candidates[candidates.length - 1];
}

function resolvedPaths(resourceType: string, sp: SearchParameter): PathSegment[][] {
  const roots = [resourceType, 'Resource', 'DomainResource'];
  const bases = sp.expression ? expressionPaths(resourceType, sp.expression, roots) : [];
  if (sp.type !== 'composite') {
    return bases.map((path) => resolveFieldPath(resourceType, path).segments);
  }
  // Components are relative to the composite's base: the resource itself (`Observation`) or a path.
  const selfBase = (sp.expression ?? '').split('|').some((part) => part.replace(/[()\s]/g, '') === resourceType);
  const out: PathSegment[][] = [];
  for (const base of selfBase ? ['', ...bases] : bases) {
    for (const component of sp.component ?? []) {
      const rel = scanPath(normalizeAs(component.expression ?? ''), 0).map((r) => (base ? `${base}.${r}` : r));
      const path = pick(resourceType, rel);
      if (path) {
        out.push(resolveFieldPath(resourceType, path).segments);
      }
    }
  }
  return out;
}

/**
 * The element paths each search parameter of a type reads. Derived from the immutable R4 definitions
 * only, so it is memoized per type for the life of the process (like @medplum/core's own index).
 */
const paramPathsByType = new Map<string, readonly { code: string; paths: PathSegment[][] }[]>();

function paramPaths(resourceType: string): readonly { code: string; paths: PathSegment[][] }[] {
  let list = paramPathsByType.get(resourceType);
  if (!list) {
    loadFhirDefinitions();
    list = Object.entries(getSearchParameters(resourceType) ?? {}).map(([code, sp]) => ({ code, paths: resolvedPaths(resourceType, sp) }));
    paramPathsByType.set(resourceType, list);
  }
  return list;
}

/**
 * The search parameter codes of a type that read data inside a hidden field (or read a field that
 * contains one): searching, sorting or chaining on them must be refused for the role.
 */
export function hiddenSearchParams(resourceType: string, hiddenFields: readonly string[]): Set<string> {
  const refused = new Set<string>();
  if (hiddenFields.length === 0) {
    return refused;
  }
  loadFhirDefinitions();
  const hidden = hiddenFields.map((f) => resolveFieldPath(resourceType, f).segments);
  for (const { code, paths } of paramPaths(resourceType)) {
    if (paths.some((p) => hidden.some((h) => pathsOverlap(h, p)))) {
      refused.add(code);
    }
  }
  return refused;
}
