// Compiles a search parameter's FHIRPath expression into a plain JavaScript extractor over the
// resource's JSON. Evaluating FHIRPath with an interpreter for every parameter of every resource is
// the ingest bottleneck, and search expressions use a small subset of the language: paths, `|`
// unions, `as`/`ofType` on choice types (`value[x]`), `where(resolve() is Type)`,
// `where(field = 'literal')` and `extension('url')`. Element types are tracked through the
// StructureDefinitions so choice elements resolve to their JSON keys (`valueQuantity`) at compile
// time. Anything else falls back to fhirpath.js's compiled expression (once per parameter).
import {
  AsAtom,
  DotAtom,
  EqualsAtom,
  FhirPathAtom,
  FunctionAtom,
  IsAtom,
  LiteralAtom,
  SymbolAtom,
  UnionAtom,
  parseFhirPath,
  tryGetDataType,
} from '@medplum/core';
import type { Atom } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4';

/** Returns the values an expression selects in a resource (raw JSON values, arrays flattened). */
export type Extractor = (resource: Resource) => unknown[];

interface Compiled {
  /** Maps the input collection to the output collection. */
  run: (input: unknown[], root: Resource) => unknown[];
  /** FHIR type codes the outputs may have; undefined when unknown. */
  types: string[] | undefined;
  /** Set when the last step read a choice element, so a following `as(T)` can pick its JSON key. */
  choice?: { base: Compiled; name: string; options: string[] };
}

class Unsupported extends Error {}

const RESOURCE_LEVEL = new Set(['Resource', 'DomainResource']);

/**
 * The extractor for `expression` evaluated on resources of `resourceType`. `compiled` tells whether
 * the fast path was used (false: fhirpath.js fallback).
 */
export function compileExtractor(resourceType: string, expression: string): { extract: Extractor; compiled: boolean } {
  try {
    const atom = parseFhirPath(expression);
    const c = compileAtom(atom, { run: (input) => input, types: [resourceType] }, resourceType);
    const run = c.run;
    return { extract: (resource) => run([resource], resource), compiled: true };
  } catch (err) {
    if (!(err instanceof Unsupported)) {
      throw err;
    }
    return { extract: fhirpathExtractor(expression), compiled: false };
  }
}

/** fhirpath.js compiled once; `resolve()` answers a stub resource of the referenced type, synchronously. */
export function fhirpathExtractor(expression: string): Extractor {
  const fn = fhirpath.compile(expression, r4model, {
    userInvocationTable: {
      resolve: {
        fn: (inputs: unknown[]) =>
          inputs.flatMap((ref) => {
            const type = referenceType(ref);
            return type ? [{ resourceType: type }] : [];
          }),
        arity: { 0: [] },
      },
    },
  });
  return (resource) => {
    try {
      return (fn(resource) as unknown[]).filter((v) => v !== undefined && v !== null);
    } catch {
      return [];
    }
  };
}

/** The resource type a Reference (or reference string) points to, when it says. */
export function referenceType(ref: unknown): string | undefined {
  const s = typeof ref === 'string' ? ref : typeof (ref as { reference?: unknown })?.reference === 'string' ? (ref as { reference: string }).reference : undefined;
  if (!s) {
    return undefined;
  }
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/[^/]+(?:\/_history\/[^/]+)?$/.exec(s);
  return m ? m[1] : undefined;
}

function compileAtom(atom: Atom, input: Compiled, resourceType: string): Compiled {
  if (atom instanceof FhirPathAtom) {
    return compileAtom(atom.child, input, resourceType);
  }
  if (atom instanceof UnionAtom) {
    const left = compileAtom(atom.left, input, resourceType);
    const right = compileAtom(atom.right, input, resourceType);
    const types = left.types && right.types ? [...new Set([...left.types, ...right.types])] : undefined;
    return { run: (items, root) => [...left.run(items, root), ...right.run(items, root)], types };
  }
  if (atom instanceof DotAtom) {
    const left = compileAtom(atom.left, input, resourceType);
    return compileAtom(atom.right, left, resourceType);
  }
  if (atom instanceof AsAtom) {
    const left = compileAtom(atom.left, input, resourceType);
    return castTo(left, symbolName(atom.right));
  }
  if (atom instanceof SymbolAtom) {
    return compileSymbol(atom.name, input, resourceType);
  }
  if (atom instanceof FunctionAtom) {
    return compileFunction(atom, input);
  }
  throw new Unsupported(String(atom));
}

function symbolName(atom: Atom): string {
  if (atom instanceof SymbolAtom) {
    return atom.name;
  }
  throw new Unsupported(String(atom));
}

function compileSymbol(name: string, input: Compiled, resourceType: string): Compiled {
  // The leading type name selects the resource itself.
  if (input.types?.length === 1 && input.types[0] === resourceType && (name === resourceType || RESOURCE_LEVEL.has(name))) {
    return input;
  }
  if (name.startsWith('%') || name === '$this') {
    throw new Unsupported(name);
  }
  return fieldAccess(input, name);
}

/** Reads a field; for a choice element (`value[x]`) reads every `value<Type>` key the schema allows. */
function fieldAccess(input: Compiled, name: string): Compiled {
  if (!input.types) {
    throw new Unsupported(name);
  }
  const direct: string[] = [];
  const choice: string[] = [];
  for (const type of input.types) {
    const schema = tryGetDataType(type);
    if (!schema) {
      throw new Unsupported(`${type}.${name}`);
    }
    const el = schema.elements[name];
    const choiceEl = schema.elements[`${name}[x]`];
    if (el) {
      direct.push(...el.type.map((t) => elementTypeCode(t.code, schema.name, name)));
    } else if (choiceEl) {
      choice.push(...choiceEl.type.map((t) => t.code));
    }
  }
  if (direct.length && choice.length) {
    throw new Unsupported(name);
  }
  if (choice.length) {
    const options = [...new Set(choice)];
    const keys = options.map((t) => name + capitalize(t));
    const base = input;
    const run = (items: unknown[], root: Resource): unknown[] => {
      const out: unknown[] = [];
      for (const item of base.run(items, root)) {
        if (item && typeof item === 'object') {
          for (const key of keys) {
            pushValue(out, (item as Record<string, unknown>)[key]);
          }
        }
      }
      return out;
    };
    return { run, types: options, choice: { base, name, options } };
  }
  const base = input.run;
  const run = (items: unknown[], root: Resource): unknown[] => {
    const out: unknown[] = [];
    for (const item of base(items, root)) {
      if (item && typeof item === 'object') {
        pushValue(out, (item as Record<string, unknown>)[name]);
      }
    }
    return out;
  };
  return { run, types: direct.length ? [...new Set(direct)] : [] };
}

/** Backbone elements are typed by their inner type name (ObservationComponent) in Medplum's schema. */
function elementTypeCode(code: string, parent: string, name: string): string {
  if (code === 'BackboneElement' || code === 'Element') {
    const inner = parent + capitalize(name);
    return tryGetDataType(inner) ? inner : code;
  }
  return code;
}

function pushValue(out: unknown[], value: unknown): void {
  if (value === undefined || value === null) {
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) {
      if (v !== undefined && v !== null) {
        out.push(v);
      }
    }
  } else {
    out.push(value);
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function sameType(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** `x as T`, `x.as(T)`, `x.ofType(T)`. */
function castTo(input: Compiled, typeName: string): Compiled {
  if (input.choice) {
    const option = input.choice.options.find((o) => sameType(o, typeName));
    if (!option) {
      return { run: () => [], types: [] };
    }
    const key = input.choice.name + capitalize(option);
    const base = input.choice.base.run;
    const run = (items: unknown[], root: Resource): unknown[] => {
      const out: unknown[] = [];
      for (const item of base(items, root)) {
        if (item && typeof item === 'object') {
          pushValue(out, (item as Record<string, unknown>)[key]);
        }
      }
      return out;
    };
    return { run, types: [option] };
  }
  if (input.types?.length === 1) {
    // uri/canonical/url and string/markdown/code are the same JSON value; anything else must match exactly.
    const t = input.types[0];
    const compatible = sameType(t, typeName) || (isUriLike(t) && isUriLike(typeName));
    return compatible ? { run: input.run, types: [typeName] } : { run: () => [], types: [] };
  }
  throw new Unsupported(`as ${typeName}`);
}

function isUriLike(t: string): boolean {
  return ['uri', 'url', 'canonical'].includes(t.toLowerCase());
}

function compileFunction(atom: FunctionAtom, input: Compiled): Compiled {
  const { name, args } = atom;
  if ((name === 'as' || name === 'ofType') && args.length === 1) {
    return castTo(input, symbolName(args[0]));
  }
  if (name === 'where' && args.length === 1) {
    return compileWhere(args[0], input);
  }
  if (name === 'extension' && args.length === 1 && args[0] instanceof LiteralAtom && typeof args[0].value.value === 'string') {
    const url = args[0].value.value;
    const base = input.run;
    const run = (items: unknown[], root: Resource): unknown[] => {
      const out: unknown[] = [];
      for (const item of base(items, root)) {
        const exts = (item as { extension?: { url?: string }[] })?.extension;
        if (Array.isArray(exts)) {
          for (const e of exts) {
            if (e?.url === url) {
              out.push(e);
            }
          }
        }
      }
      return out;
    };
    return { run, types: ['Extension'] };
  }
  throw new Unsupported(name);
}

function compileWhere(cond: Atom, input: Compiled): Compiled {
  const base = input.run;
  // where(resolve() is Patient): a reference type check on the reference string.
  if (cond instanceof IsAtom && cond.left instanceof FunctionAtom && cond.left.name === 'resolve' && cond.left.args.length === 0) {
    const type = symbolName(cond.right);
    const run = (items: unknown[], root: Resource): unknown[] => base(items, root).filter((ref) => referenceType(ref) === type);
    return { run, types: input.types };
  }
  // where(system = 'phone'): a field equal to a string literal.
  if (cond instanceof EqualsAtom && cond.left instanceof SymbolAtom && cond.right instanceof LiteralAtom && typeof cond.right.value.value === 'string') {
    const field = cond.left.name;
    const literal = cond.right.value.value;
    const run = (items: unknown[], root: Resource): unknown[] =>
      base(items, root).filter((item) => (item as Record<string, unknown> | undefined)?.[field] === literal);
    return { run, types: input.types };
  }
  throw new Unsupported('where');
}

/**
 * Extractor of a composite's component: `componentExpression` is evaluated on each element that
 * `baseExpression` selects. Undefined when either cannot be compiled (the composite is then not indexed).
 */
export function compileRelativeExtractor(resourceType: string, baseExpression: string, componentExpression: string): Extractor | undefined {
  try {
    const base = compileAtom(parseFhirPath(baseExpression), { run: (input) => input, types: [resourceType] }, resourceType);
    const c = compileAtom(parseFhirPath(componentExpression), { run: (input) => input, types: base.types }, resourceType);
    const run = c.run;
    return (element) => run([element], element);
  } catch (err) {
    if (err instanceof Unsupported) {
      return undefined;
    }
    throw err;
  }
}
