// FHIRPath Patch (a Parameters resource of `operation` parts: add, insert, delete, replace, move),
// applied to a copy of the resource. Paths are evaluated with @medplum/core's FHIRPath engine; the
// element a path names is located by its last plain segment (`Patient.name[0].given`) or, for paths
// ending in a function (`Patient.identifier.where(system='x')`), by object identity in the copy.
import { evalFhirPathTyped, toTypedValue, tryGetDataType } from '@medplum/core';
import type { Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';

type Obj = Record<string, unknown>;

interface Slot {
  parent: Obj;
  key: string;
  /** Set when the element is one item of a list. */
  index?: number;
}

export function isFhirPathPatch(patch: unknown): patch is Parameters {
  return typeof patch === 'object' && patch !== null && (patch as Resource).resourceType === 'Parameters';
}

function valueOf(part: ParametersParameter): unknown {
  for (const [k, v] of Object.entries(part)) {
    if (k.startsWith('value') && k.length > 5 && v !== undefined) {
      return v;
    }
  }
  if (part.part?.length) {
    // An anonymous (backbone) value given as parts: each part is a property.
    const out: Obj = {};
    for (const p of part.part) {
      const v = valueOf(p);
      const existing = out[p.name];
      out[p.name] = existing === undefined ? v : Array.isArray(existing) ? [...existing, v] : [existing, v];
    }
    return out;
  }
  return undefined;
}

function valueTypeSuffix(part: ParametersParameter): string | undefined {
  return Object.keys(part).find((k) => k.startsWith('value') && k.length > 5)?.slice(5);
}

function evaluate(root: Resource, expression: string, index: number) {
  try {
    return evalFhirPathTyped(expression, [toTypedValue(root)]);
  } catch (err) {
    throw errors.badRequest(`FHIRPath Patch operation ${index}: invalid path ${expression}: ${(err as Error).message}`, expression);
  }
}

function findByIdentity(node: unknown, target: unknown): Slot | undefined {
  if (typeof node !== 'object' || node === null) {
    return undefined;
  }
  for (const [key, child] of Object.entries(node as Obj)) {
    if (child === target) {
      return { parent: node as Obj, key };
    }
    if (Array.isArray(child)) {
      const i = child.indexOf(target);
      if (i >= 0) {
        return { parent: node as Obj, key, index: i };
      }
      for (const item of child) {
        const found = findByIdentity(item, target);
        if (found) {
          return found;
        }
      }
    } else {
      const found = findByIdentity(child, target);
      if (found) {
        return found;
      }
    }
  }
  return undefined;
}

/** The slots (parent, key, index) of the elements a path selects. */
function slots(root: Resource, path: string, index: number): Slot[] {
  const plain = /^(.+)\.([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$/.exec(path);
  if (plain) {
    const [, parentExpr, key, idx] = plain;
    const out: Slot[] = [];
    for (const p of evaluate(root, parentExpr, index)) {
      const parent = p.value as Obj;
      if (typeof parent !== 'object' || parent === null) {
        continue;
      }
      const v = parent[key];
      if (Array.isArray(v)) {
        if (idx !== undefined) {
          if (Number(idx) < v.length) {
            out.push({ parent, key, index: Number(idx) });
          }
        } else {
          v.forEach((_, i) => out.push({ parent, key, index: i }));
        }
      } else if (v !== undefined && (idx === undefined || idx === '0')) {
        out.push({ parent, key });
      }
    }
    return out;
  }
  return evaluate(root, path, index)
    .map((tv) => findByIdentity(root, tv.value))
    .filter((s): s is Slot => s !== undefined);
}

function single(root: Resource, path: string, index: number): Slot {
  const found = slots(root, path, index);
  if (found.length !== 1) {
    throw errors.badRequest(`FHIRPath Patch operation ${index}: path ${path} matches ${found.length} elements, expected 1`, path);
  }
  return found[0];
}

/** The list a path names (`Patient.identifier`), created when absent. */
function list(root: Resource, path: string, index: number): unknown[] {
  const m = /^(.+)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(path);
  const parents = m ? evaluate(root, m[1], index) : [];
  if (!m || parents.length !== 1 || typeof parents[0].value !== 'object') {
    throw errors.badRequest(`FHIRPath Patch operation ${index}: path ${path} must name one list`, path);
  }
  const parent = parents[0].value as Obj;
  const v = parent[m[2]];
  if (v === undefined) {
    parent[m[2]] = [];
  } else if (!Array.isArray(v)) {
    parent[m[2]] = [v];
  }
  return parent[m[2]] as unknown[];
}

function removeSlot(s: Slot): void {
  if (s.index !== undefined) {
    const arr = s.parent[s.key] as unknown[];
    arr.splice(s.index, 1);
    if (arr.length === 0) {
      delete s.parent[s.key];
    }
  } else {
    delete s.parent[s.key];
  }
}

function addTo(root: Resource, path: string, name: string, part: ParametersParameter, value: unknown, index: number): void {
  const targets = evaluate(root, path, index);
  if (targets.length !== 1 || typeof targets[0].value !== 'object' || targets[0].value === null) {
    throw errors.badRequest(`FHIRPath Patch operation ${index}: path ${path} must match exactly one element`, path);
  }
  const parent = targets[0].value as Obj;
  const elements = tryGetDataType(targets[0].type)?.elements ?? {};
  let key = name;
  const suffix = valueTypeSuffix(part);
  if (!elements[name] && elements[`${name}[x]`] && suffix) {
    key = name + suffix;
  }
  const isArray = elements[name]?.isArray ?? Array.isArray(parent[key]);
  if (isArray) {
    parent[key] = [...((parent[key] as unknown[] | undefined) ?? []), value];
  } else {
    parent[key] = value;
  }
}

function part(op: ParametersParameter, name: string): ParametersParameter | undefined {
  return op.part?.find((p) => p.name === name);
}

function str(op: ParametersParameter, name: string, index: number): string {
  const p = part(op, name);
  const v = p?.valueString ?? p?.valueCode;
  if (typeof v !== 'string' || v === '') {
    throw errors.badRequest(`FHIRPath Patch operation ${index}: missing ${name}`);
  }
  return v;
}

function int(op: ParametersParameter, name: string, index: number): number {
  const v = part(op, name)?.valueInteger;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw errors.badRequest(`FHIRPath Patch operation ${index}: missing or invalid ${name}`);
  }
  return v;
}

export function applyFhirPathPatch<T extends Resource>(resource: T, patch: Parameters): T {
  const root = structuredClone(resource);
  (patch.parameter ?? []).forEach((op, index) => {
    if (op.name !== 'operation') {
      throw errors.badRequest(`FHIRPath Patch parameter ${index} must be named "operation"`);
    }
    const type = str(op, 'type', index);
    const path = str(op, 'path', index);
    const valuePart = part(op, 'value');
    const value = valuePart ? valueOf(valuePart) : undefined;
    switch (type) {
      case 'add':
        if (value === undefined || !valuePart) {
          throw errors.badRequest(`FHIRPath Patch operation ${index}: add needs a value`);
        }
        addTo(root, path, str(op, 'name', index), valuePart, value, index);
        break;
      case 'insert': {
        if (value === undefined) {
          throw errors.badRequest(`FHIRPath Patch operation ${index}: insert needs a value`);
        }
        const arr = list(root, path, index);
        const at = int(op, 'index', index);
        if (at > arr.length) {
          throw errors.badRequest(`FHIRPath Patch operation ${index}: index ${at} out of bounds`);
        }
        arr.splice(at, 0, value);
        break;
      }
      case 'delete': {
        const found = slots(root, path, index);
        if (found.length > 1) {
          throw errors.badRequest(`FHIRPath Patch operation ${index}: path ${path} matches ${found.length} elements`, path);
        }
        found.forEach(removeSlot);
        break;
      }
      case 'replace': {
        if (value === undefined) {
          throw errors.badRequest(`FHIRPath Patch operation ${index}: replace needs a value`);
        }
        const s = single(root, path, index);
        if (s.index !== undefined) {
          (s.parent[s.key] as unknown[])[s.index] = value;
        } else {
          s.parent[s.key] = value;
        }
        break;
      }
      case 'move': {
        const arr = list(root, path, index);
        const source = int(op, 'source', index);
        const destination = int(op, 'destination', index);
        if (source >= arr.length || destination >= arr.length) {
          throw errors.badRequest(`FHIRPath Patch operation ${index}: move index out of bounds`);
        }
        const [item] = arr.splice(source, 1);
        arr.splice(destination, 0, item);
        break;
      }
      default:
        throw errors.badRequest(`FHIRPath Patch operation ${index}: unknown type ${type}`);
    }
  });
  return root;
}
