// The FHIRPath invariants of 'full' validation, compiled. @medplum/core's validateResource crawls every
// element of a resource's type schema through FHIRPath typed values (for each object, every element
// the schema declares, present or not) and spends most of its time there: ~1,000 Synthea resources/s,
// far below the store's ingest rate, so REST writes and transaction Bundles were bound by it.
//
// This evaluates the same invariants on the same values with the same evaluator, and walks only what
// is there. What validateResource checks, and so what this checks:
//   - the root constraints of the resource's type (dom-2, dom-4, dom-5, obs-6...), on the resource;
//   - for every object it reaches (the resource, its backbone elements and data types, contained and
//     Bundle entry resources, a primitive's `_key` Element), each element's own constraints on each of
//     the element's values (ext-1 on every `extension`, obs-3 on `Observation.referenceRange`...);
//   - only constraints of severity 'error', less the four it skips (ele-1, dom-3, org-1, sdf-19);
//   - with %context, %resource (the innermost resource), %rootResource and %ucum set as it sets them;
//   - a constraint that throws is an error; a value's first failing constraint is its only issue.
// The values come from @medplum/core's own getNestedProperty (so %context is the typed value its
// crawler would pass), the expressions are parsed once, and the issues are its createConstraintIssue.
// The R4 type schemas have no dotted element keys, fixed or pattern values, slicing or minimum above
// one, so the structural rest of validateResource is the structural check's (structure.ts), which runs
// first. test/store/invariants.test.ts holds the two to the same answers.
import {
  UCUM,
  createConstraintIssue,
  createProcessingIssue,
  evalFhirPathTyped,
  getDataType,
  getNestedProperty,
  parseFhirPath,
  toTypedValue,
  tryGetDataType,
  type FhirPathAtom,
  type InternalSchemaElement,
  type TypedValue,
} from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../../../shared/errors.ts';
import { propertyOf } from './structure.ts';

/** Constraints validateResource leaves out (its skippedConstraintKeys). */
const SKIPPED = new Set(['ele-1', 'dom-3', 'org-1', 'sdf-19']);

interface Invariant {
  key: string;
  severity: 'error';
  expression: string;
  description: string;
  atom: FhirPathAtom;
  /**
   * The properties the expression reads from its context (`contained` for dom-2), when that is all it
   * reads: no variable, no function of the context itself. Undefined when it may read more.
   */
  reads?: string[];
}

interface Site {
  /** The element's key in the type schema (`value[x]`). */
  schemaKey: string;
  /** JSON keys whose presence gives the element a value (each type of a choice, and `_key` partners). */
  presentKeys: string[];
  invariants: Invariant[];
}

interface CompiledType {
  root: Invariant[];
  sites: Site[];
}

const compiled = new Map<string, CompiledType>();
const atoms = new Map<string, FhirPathAtom>();

function invariantsOf(constraints: { key: string; severity: string; expression: string; description: string }[] | undefined): Invariant[] {
  return (constraints ?? [])
    .filter((c) => c.severity === 'error' && !SKIPPED.has(c.key))
    .map((c) => {
      let atom = atoms.get(c.expression);
      if (!atom) {
        atom = parseFhirPath(c.expression);
        atoms.set(c.expression, atom);
      }
      return { key: c.key, severity: 'error' as const, expression: c.expression, description: c.description, atom, reads: contextReads(atom) };
    });
}

/** What a node of @medplum/core's FHIRPath syntax tree holds (its classes are not exported). */
interface Node {
  child?: Node;
  name?: string;
  args?: Node[];
  operator?: string;
  left?: Node;
  right?: Node;
  expr?: Node;
  value?: unknown;
}

/**
 * The context's properties an expression navigates, if that is all it reads from the context: paths
 * from the context (`a.b.exists()`), literals, and operators over them. A variable (`%resource`,
 * `$this`), a function of the context itself (`where(...)` at the start), a type name, or any node
 * not known here makes it undefined: such an expression is always evaluated.
 */
function contextReads(atom: FhirPathAtom): string[] | undefined {
  const reads = new Set<string>();
  const hasVariable = (node: Node | undefined): boolean =>
    !!node &&
    ((typeof node.name === 'string' && /^[%$]/.test(node.name)) ||
      [node.child, node.left, node.right, node.expr, ...(node.args ?? [])].some((n) => n !== undefined && hasVariable(n)));
  const visit = (node: Node | undefined): boolean => {
    if (!node) return false;
    if (node.child !== undefined && node.operator === undefined) return visit(node.child);
    if (node.args !== undefined) return false; // a function of the context itself
    if (typeof node.name === 'string') {
      if (!/^[a-z][A-Za-z0-9]*$/.test(node.name)) return false; // a variable or a type name
      reads.add(node.name);
      return true;
    }
    if (node.operator === '.') return visit(node.left); // the right side works on what the left found
    if (node.operator === 'is' || node.operator === 'as') return visit(node.left);
    if (node.operator !== undefined) return visit(node.left) && visit(node.right);
    if (node.expr !== undefined) return visit(node.left) && visit(node.expr);
    return node.value !== undefined && node.left === undefined; // a literal
  };
  return visit(atom as unknown as Node) && !hasVariable(atom as unknown as Node) ? [...reads] : undefined;
}

/** Whether `obj` has a value for any of `names` (a choice element's typed keys and `_` partners included). */
function readsSomething(obj: Record<string, unknown>, names: string[]): boolean {
  for (const key in obj) {
    if (obj[key] === undefined) continue;
    const k = key.startsWith('_') ? key.slice(1) : key;
    for (const n of names) {
      if (k === n || (k.length > n.length && k.startsWith(n) && k.charCodeAt(n.length) >= 65 && k.charCodeAt(n.length) <= 90)) return true;
    }
  }
  return false;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function presentKeys(schemaKey: string, element: InternalSchemaElement): string[] {
  const names = schemaKey.endsWith('[x]') ? element.type.map((t) => schemaKey.slice(0, -3) + capitalize(t.code)) : [schemaKey];
  return names.flatMap((n) => [n, `_${n}`]);
}

function compile(typeName: string): CompiledType {
  let type = compiled.get(typeName);
  if (!type) {
    const schema = tryGetDataType(typeName);
    type = { root: invariantsOf(schema?.constraints), sites: [] };
    for (const [schemaKey, element] of Object.entries(schema?.elements ?? {})) {
      const invariants = invariantsOf(element.constraints);
      if (invariants.length) {
        type.sites.push({ schemaKey, presentKeys: presentKeys(schemaKey, element), invariants });
      }
    }
    compiled.set(typeName, type);
  }
  return type;
}

interface Walk {
  issues: OperationOutcomeIssue[];
  root: TypedValue;
  ucum: TypedValue;
  /** The resources entered, innermost last (%resource). */
  resources: Resource[];
}

/** validateResource's isExpressionTrue: exactly one `true`; an evaluation error is an issue of its own. */
function holds(walk: Walk, invariant: Invariant, value: TypedValue & { path: string }): boolean {
  const variables: Record<string, TypedValue> = { '%context': value, '%ucum': walk.ucum, '%rootResource': walk.root };
  if (walk.resources.length > 0) {
    variables['%resource'] = toTypedValue(walk.resources[walk.resources.length - 1]);
  }
  try {
    const result = evalFhirPathTyped(invariant.atom, [value], variables);
    return result.length === 1 && result[0].value === true;
  } catch (err) {
    walk.issues.push(createProcessingIssue(value.path, 'Error evaluating invariant expression', err as Error, { fhirpath: invariant.expression }));
    return false;
  }
}

/**
 * What an expression that reads only `reads` gives on a value of `type` that has none of them: the same
 * as on an empty value of that type. Computed once per type and invariant.
 */
const onAbsent = new Map<string, boolean | null>();

/** The cached answer, or undefined where there is none (an evaluation on the empty value that threw: evaluate each time). */
function whenAbsent(walk: Walk, invariant: Invariant, type: string): boolean | undefined {
  const key = `${type}|${invariant.key}|${invariant.expression}`;
  let result = onAbsent.get(key);
  if (result === undefined) {
    const scratch: Walk = { ...walk, issues: [] };
    const held = holds(scratch, invariant, { type, value: {}, path: type });
    result = scratch.issues.length ? null : held;
    onAbsent.set(key, result);
  }
  return result ?? undefined;
}

function check(walk: Walk, invariants: Invariant[], value: TypedValue & { path: string }): void {
  // A plain object (a primitive with extensions is a String or Number object: always evaluated).
  const obj = value.value !== null && typeof value.value === 'object' && Object.getPrototypeOf(value.value) === Object.prototype ? (value.value as Record<string, unknown>) : undefined;
  for (const invariant of invariants) {
    const cached = obj !== undefined && invariant.reads !== undefined && !readsSomething(obj, invariant.reads) ? whenAbsent(walk, invariant, value.type) : undefined;
    if (!(cached ?? holds(walk, invariant, value))) {
      walk.issues.push(createConstraintIssue(value.path, invariant));
      return;
    }
  }
}

function hasAny(obj: Record<string, unknown>, keys: string[]): boolean {
  for (const k of keys) {
    if (obj[k] !== undefined) return true;
  }
  return false;
}

function visit(walk: Walk, obj: Record<string, unknown>, typeName: string, path: string): void {
  const isResource = typeof obj.resourceType === 'string';
  if (isResource) walk.resources.push(obj as unknown as Resource);
  const type = compile(typeName);
  if (type.sites.length) {
    const typed = { type: typeName, value: obj, path };
    for (const site of type.sites) {
      if (!hasAny(obj, site.presentKeys)) continue;
      for (const values of getNestedProperty(typed, site.schemaKey, { withPath: true })) {
        for (const value of Array.isArray(values) ? values : [values]) {
          if (value?.value !== undefined) check(walk, site.invariants, value);
        }
      }
    }
  }
  for (const key in obj) {
    const child = obj[key];
    if (child === undefined || child === null || key === 'resourceType') continue;
    const prop = propertyOf(typeName, key);
    if (!prop || prop.primitive) continue;
    const base = `${path}.${prop.schemaKey}`;
    if (Array.isArray(child)) {
      child.forEach((item, i) => visitValue(walk, item, prop.type, `${base}[${i}]`));
    } else {
      visitValue(walk, child, prop.type, base);
    }
  }
  if (isResource) walk.resources.pop();
}

function visitValue(walk: Walk, value: unknown, type: string, path: string): void {
  if (value === null || typeof value !== 'object') return;
  const typeName = type === 'Resource' ? (value as Resource).resourceType : type;
  visit(walk, value as Record<string, unknown>, typeName, path);
}

/** The invariant issues validateResource would report for a resource the structural check accepted. */
export function invariantIssues(resource: Resource): OperationOutcomeIssue[] {
  const root = toTypedValue(resource);
  // validateResource enters the root resource before its root constraints (and again as it crawls it).
  const walk: Walk = { issues: [], root, ucum: toTypedValue(UCUM), resources: [resource] };
  const path = getDataType(resource.resourceType).path;
  check(walk, compile(resource.resourceType).root, { ...root, path });
  visit(walk, resource as unknown as Record<string, unknown>, resource.resourceType, path);
  return walk.issues;
}

/** Throws a 400 FhirError with every invariant issue (as validateResource's OperationOutcome). */
export function assertInvariants(resource: Resource): void {
  const issues = invariantIssues(resource);
  if (issues.length) {
    throw new FhirError(400, { resourceType: 'OperationOutcome', issue: issues });
  }
}
