// A compiled structural validator. @medplum/core's validateResource crawls the resource through
// FHIRPath typed values and evaluates every FHIRPath invariant: about 2,000 Synthea resources/s here,
// which alone caps ingest far below the benchmark target. This one
// walks the JSON once against per-type property tables compiled from the same R4 StructureDefinitions
// (@medplum/core's type schemas) and checks what makes data unusable: unknown properties, array vs
// single, cardinality, required elements, primitive JSON types and formats, nested types, contained
// resources. It does not evaluate FHIRPath invariants (e.g. `obs-6`): alone it is the 'structure'
// validation of bulk ingest (CallContext.validation = 'structure', e.g. the importer of local files);
// 'full' validation runs it before the invariants (invariants.ts).
//
// It is also stricter than validateResource where validateResource lets bad data through: required
// value-set bindings (fhir/value-sets.ts), two values of one choice element (`deceasedBoolean` and
// `deceasedDateTime`), strings with a lone surrogate, calendar days that do not exist (2020-02-30),
// `__proto__` and `constructor` like any other unknown property, and nesting past MAX_JSON_DEPTH.
import { isResourceType, tryGetDataType } from '@medplum/core';
import type { CodeableConcept, Coding, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { MAX_JSON_DEPTH } from '../../../shared/contract/host.ts';
import { FhirError, type IssueCode } from '../../../shared/errors.ts';
import { isImpossibleDay } from '../../../shared/fhir/dates.ts';
import { codingKey, createValueSetCodes, type ValueSetCodes } from '../fhir/value-sets.ts';

interface PrimitiveRule {
  js: 'string' | 'number' | 'boolean';
  pattern?: RegExp;
  integer?: boolean;
  min?: number;
  /** A date, dateTime or instant: its day must exist in its month. */
  calendar?: boolean;
}

// Formats from the FHIR R4 datatypes page (http://hl7.org/fhir/R4/datatypes.html).
const YEAR = '([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)';
const DATE = `${YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?`;
const TIME = '([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]{1,9})?';
const ZONE = '(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))';
const TEXT = /^[\r\n\t\u0020-\uFFFF]+$/;
const NO_SPACE = /^\S*$/;
const PRIMITIVES: Record<string, PrimitiveRule> = {
  boolean: { js: 'boolean' },
  integer: { js: 'number', integer: true },
  positiveInt: { js: 'number', integer: true, min: 1 },
  unsignedInt: { js: 'number', integer: true, min: 0 },
  decimal: { js: 'number' },
  string: { js: 'string', pattern: TEXT },
  markdown: { js: 'string', pattern: TEXT },
  xhtml: { js: 'string' },
  code: { js: 'string', pattern: /^[^\s]+( [^\s]+)*$/ },
  id: { js: 'string', pattern: /^[A-Za-z0-9\-.]{1,64}$/ },
  uri: { js: 'string', pattern: NO_SPACE },
  url: { js: 'string', pattern: NO_SPACE },
  canonical: { js: 'string', pattern: NO_SPACE },
  oid: { js: 'string', pattern: /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/ },
  uuid: { js: 'string', pattern: /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/ },
  base64Binary: { js: 'string', pattern: /^([A-Za-z\d+/]{4})*([A-Za-z\d+/]{2}==|[A-Za-z\d+/]{3}=)?$/ },
  integer64: { js: 'string', pattern: /^-?[0-9]+$/ },
  date: { js: 'string', pattern: new RegExp(`^${DATE}$`), calendar: true },
  dateTime: { js: 'string', pattern: new RegExp(`^${YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T${TIME}${ZONE})?)?)?$`), calendar: true },
  instant: { js: 'string', pattern: new RegExp(`^${YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T${TIME}${ZONE}$`), calendar: true },
  time: { js: 'string', pattern: new RegExp(`^${TIME}$`) },
};
const MAX_STRING = 1024 * 1024;

interface Property {
  /** The element name without `[x]`, for messages and for grouping choice keys. */
  element: string;
  type: string;
  primitive?: PrimitiveRule;
  isArray: boolean;
  max: number;
  /** `_key`: the id/extension partner of a primitive (precomputed: no string building per value). */
  partnerKey: string;
  /** One type of a choice element (`value[x]`): at most one of its keys may be present. */
  choice: boolean;
  /** A required binding that can be checked: its value set's URL and codes. */
  binding?: { url: string; codes: ValueSetCodes };
}

interface CompiledType {
  props: Map<string, Property>;
  /** Elements with min > 0: any one of `keys` or their `_key` partners must be present. */
  required: { element: string; keys: string[] }[];
}

function primitiveOf(code: string): PrimitiveRule | undefined {
  return PRIMITIVES[code] ?? (code.startsWith('http://hl7.org/fhirpath/System.') ? PRIMITIVES.string : undefined);
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Compiled tables, built lazily per type name; immutable once built (the definitions never change). */
const compiledTypes = new Map<string, CompiledType | null>();
/** Expansions of required bindings' value sets, read from the definitions the first time one is met. */
const valueSetCodes = createValueSetCodes();
const BOUND_TYPES = new Set(['code', 'Coding', 'CodeableConcept']);

function compile(typeName: string): CompiledType | null {
  let compiled = compiledTypes.get(typeName);
  if (compiled !== undefined) {
    return compiled;
  }
  const schema = tryGetDataType(typeName);
  if (!schema) {
    compiledTypes.set(typeName, null);
    return null;
  }
  compiled = { props: new Map(), required: [] };
  for (const [name, el] of Object.entries(schema.elements)) {
    if (name.includes('.')) {
      continue; // nested paths of inner types live in their own schema
    }
    const isChoice = name.endsWith('[x]');
    const element = isChoice ? name.slice(0, -3) : name;
    const keys: string[] = [];
    const url = el.binding?.strength === 'required' ? el.binding.valueSet : undefined;
    for (const t of el.type) {
      const key = isChoice ? element + capitalize(t.code) : element;
      keys.push(key, `_${key}`);
      const codes = url && BOUND_TYPES.has(t.code) ? valueSetCodes(url) : undefined;
      compiled.props.set(key, {
        element,
        type: t.code,
        primitive: primitiveOf(t.code),
        isArray: !!el.isArray,
        max: el.max,
        partnerKey: `_${key}`,
        choice: isChoice,
        ...(url && codes ? { binding: { url: url.split('|')[0], codes } } : {}),
      });
    }
    if (el.min > 0) {
      compiled.required.push({ element, keys });
    }
  }
  compiledTypes.set(typeName, compiled);
  return compiled;
}

/**
 * Issues plus the path being visited, kept as a stack of segments and joined only when an issue is
 * reported: building a path string per property would dominate the walk.
 */
interface Walk {
  issues: OperationOutcomeIssue[];
  path: (string | number)[];
}

function pathOf(walk: Walk): string {
  let out = '';
  for (const seg of walk.path) {
    out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  }
  return out;
}

function issue(walk: Walk, text: string, extra?: string, code: IssueCode = 'structure'): void {
  const path = extra === undefined ? pathOf(walk) : `${pathOf(walk)}.${extra}`;
  walk.issues.push({ severity: 'error', code, details: { text }, expression: [path] });
}

function hasNoKeys(obj: object): boolean {
  for (const _ in obj) {
    return false;
  }
  return true;
}

const NON_WHITESPACE = /\S/;

function checkPrimitive(rule: PrimitiveRule, type: string, value: unknown, walk: Walk): void {
  if (typeof value !== rule.js) {
    issue(walk, `Invalid JSON type: expected ${rule.js}, but got ${typeof value}`);
    return;
  }
  if (rule.js === 'string') {
    const s = value as string;
    if (!NON_WHITESPACE.test(s)) {
      issue(walk, 'String must contain non-whitespace content');
    } else if (s.length > MAX_STRING) {
      issue(walk, 'String cannot be larger than 1 MB');
    } else if (rule.pattern && !rule.pattern.test(s)) {
      issue(walk, `Invalid ${type} format`);
    } else if (!s.isWellFormed()) {
      issue(walk, 'Invalid string: a lone surrogate (half of a UTF-16 pair)');
    } else if (rule.calendar && isImpossibleDay(s)) {
      issue(walk, `Invalid ${type}: ${s.slice(0, 10)} is not a day of the calendar`);
    }
  } else if (rule.js === 'number') {
    const n = value as number;
    if (!Number.isFinite(n)) {
      issue(walk, 'Invalid numeric value');
    } else if (rule.integer && !Number.isInteger(n)) {
      issue(walk, 'Expected number to be an integer');
    } else if (rule.min !== undefined && n < rule.min) {
      issue(walk, rule.min > 0 ? 'Expected number to be positive' : 'Expected number to be non-negative');
    }
  }
}

/** Whether a value of a bound element is in its value set (a CodeableConcept: any one of its codings). */
function inValueSet(type: string, value: unknown, codes: ValueSetCodes): boolean {
  if (type === 'code') {
    return codes.has(value as string);
  }
  const codings = type === 'Coding' ? [value as Coding] : ((value as CodeableConcept).coding ?? []);
  if (codings.length === 0) {
    return true; // text only: nothing coded to check (as Medplum's terminology validation)
  }
  return codings.some((c) => typeof c?.code === 'string' && (c.system === undefined ? codes.has(c.code) : codes.has(codingKey(c.system, c.code))));
}

function checkBinding(prop: Property, value: unknown, walk: Walk): void {
  const binding = prop.binding as NonNullable<Property['binding']>;
  if (!inValueSet(prop.type, value, binding.codes)) {
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 100)) : 'the coding';
    issue(walk, `Value ${shown} did not satisfy terminology binding ${binding.url}`, undefined, 'code-invalid');
  }
}

function checkValue(prop: Property, value: unknown, walk: Walk): void {
  const before = walk.issues.length;
  if (value === null || value === undefined) {
    issue(walk, 'Invalid null value');
  } else if (prop.primitive) {
    checkPrimitive(prop.primitive, prop.type, value, walk);
  } else if (typeof value !== 'object' || Array.isArray(value)) {
    issue(walk, `Invalid JSON type: expected ${prop.type} object`);
  } else if (hasNoKeys(value)) {
    issue(walk, 'Invalid empty non-primitive value');
  } else if (walk.path.length > MAX_JSON_DEPTH) {
    issue(walk, `Nested deeper than ${MAX_JSON_DEPTH} levels`);
  } else if (prop.type === 'Resource') {
    checkResource(value as Resource, walk);
  } else {
    checkObject(value as Record<string, unknown>, prop.type, walk);
  }
  if (prop.binding && walk.issues.length === before) {
    checkBinding(prop, value, walk);
  }
}

function checkItems(prop: Property, items: unknown[], partner: unknown[] | undefined, walk: Walk): void {
  for (let i = 0; i < items.length; i++) {
    // A null primitive in an array is allowed only where its `_key` partner carries an extension.
    if (items[i] === null && partner?.[i]) {
      continue;
    }
    walk.path.push(i);
    checkValue(prop, items[i], walk);
    walk.path.pop();
  }
}

const ELEMENT_PROP: Property = { element: '_', type: 'Element', isArray: false, max: 1, partnerKey: '', choice: false };

function checkProperty(obj: Record<string, unknown>, key: string, compiled: CompiledType, walk: Walk): void {
  const value = obj[key];
  const prop = compiled.props.get(key);
  if (!prop) {
    const partner = key.startsWith('_') ? compiled.props.get(key.slice(1)) : undefined;
    if (partner?.primitive) {
      // The id/extension partner of a primitive: an Element, or an array of them (null where none).
      if (Array.isArray(value)) {
        value.forEach((v, i) => {
          if (v !== null) {
            walk.path.push(i);
            checkValue(ELEMENT_PROP, v, walk);
            walk.path.pop();
          }
        });
      } else {
        checkValue(ELEMENT_PROP, value, walk);
      }
    } else {
      walk.path.pop();
      issue(walk, `Invalid additional property "${key}"`, key);
      walk.path.push(key);
    }
    return;
  }
  if (value === null) {
    issue(walk, 'Invalid null value');
  } else if (prop.isArray) {
    if (!Array.isArray(value)) {
      issue(walk, 'Expected array of values for property');
    } else if (value.length === 0) {
      issue(walk, 'Invalid empty value');
    } else {
      if (value.length > prop.max) {
        issue(walk, `Invalid number of values: expected at most ${prop.max}, but found ${value.length}`);
      }
      checkItems(prop, value, prop.primitive ? (obj[prop.partnerKey] as unknown[] | undefined) : undefined, walk);
    }
  } else if (Array.isArray(value)) {
    issue(walk, 'Expected single value for property');
  } else {
    checkValue(prop, value, walk);
  }
}

function checkObject(obj: Record<string, unknown>, typeName: string, walk: Walk, isResource = false): void {
  const compiled = compile(typeName);
  if (!compiled) {
    issue(walk, `Unknown type ${typeName}`);
    return;
  }
  let choices: string[] | undefined;
  for (const key in obj) {
    // An undefined property is an absent one (in-process callers spread objects; JSON never has it).
    if ((isResource && key === 'resourceType') || obj[key] === undefined) {
      continue;
    }
    walk.path.push(key);
    checkProperty(obj, key, compiled, walk);
    walk.path.pop();
    const prop = compiled.props.get(key);
    if (prop?.choice) {
      if (choices?.includes(prop.element)) {
        issue(walk, `Only one of ${prop.element}[x] may be given`, key);
      }
      (choices ??= []).push(prop.element);
    }
  }
  for (const req of compiled.required) {
    if (!req.keys.some((k) => obj[k] !== undefined)) {
      issue(walk, 'Missing required property', req.element);
    }
  }
}

function checkResource(resource: Resource, walk: Walk): void {
  const type = resource.resourceType;
  if (typeof type !== 'string' || !isResourceType(type)) {
    issue(walk, `Unknown resource type: ${String(type).slice(0, 64)}`, 'resourceType');
    return;
  }
  checkObject(resource as unknown as Record<string, unknown>, type, walk, true);
}

/** Throws a 400 FhirError listing every structural issue (paths like `Patient.name[0].given`). */
export function assertStructurallyValid(resource: Resource): void {
  const walk: Walk = { issues: [], path: [String(resource.resourceType)] };
  checkResource(resource, walk);
  if (walk.issues.length) {
    throw new FhirError(400, { resourceType: 'OperationOutcome', issue: walk.issues });
  }
}

/**
 * What the structural check resolved for the present property `key` of an object of `typeName`: its
 * type (a primitive's `_key` partner: 'Element'), whether that type is primitive, and the element's key
 * in the type schema (`value[x]` for `valueQuantity`). Undefined for a key the type does not have.
 * For walks over a resource this check has already accepted (invariants.ts).
 */
export function propertyOf(typeName: string, key: string): PropertyView | undefined {
  let byKey = views.get(typeName);
  if (!byKey) {
    byKey = new Map();
    views.set(typeName, byKey);
  }
  let view = byKey.get(key);
  if (view === undefined) {
    const props = compile(typeName)?.props;
    const prop = props?.get(key);
    const partner = key.startsWith('_') ? props?.get(key.slice(1)) : undefined;
    view = prop
      ? { type: prop.type, primitive: prop.primitive !== undefined, schemaKey: prop.choice ? `${prop.element}[x]` : prop.element }
      : partner?.primitive
        ? { type: 'Element', primitive: false, schemaKey: key }
        : null;
    byKey.set(key, view);
  }
  return view ?? undefined;
}

export interface PropertyView {
  type: string;
  primitive: boolean;
  schemaKey: string;
}

/** propertyOf's answers, per type and key (immutable, like the compiled tables). */
const views = new Map<string, Map<string, PropertyView | null>>();

/** The codes a required binding allows at `typeName`.`key` (undefined: no checked binding). For tests and reviews. */
export function requiredBindingOf(typeName: string, key: string): { url: string; codes: string[] } | undefined {
  const binding = compile(typeName)?.props.get(key)?.binding;
  return binding ? { url: binding.url, codes: [...binding.codes].filter((c) => !c.includes('\u0000')) } : undefined;
}
