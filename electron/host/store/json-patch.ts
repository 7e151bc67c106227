// JSON Patch (RFC 6902): add, remove, replace, move, copy, test, applied to a copy of the document.
// Any failure, a failed `test` included, is a 400 (as Medplum answers) and the document is untouched.
import { errors } from '../../../shared/errors.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Container = Json[] | { [key: string]: Json };

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: Json;
}

function parsePointer(pointer: unknown, index: number): string[] {
  if (typeof pointer !== 'string' || (pointer !== '' && !pointer.startsWith('/'))) {
    throw errors.badRequest(`Patch operation ${index}: invalid JSON pointer ${JSON.stringify(pointer)}`);
  }
  return pointer === '' ? [] : pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(arr: Json[], token: string, forInsert: boolean, index: number): number {
  if (forInsert && token === '-') {
    return arr.length;
  }
  if (!/^(0|[1-9]\d*)$/.test(token)) {
    throw errors.badRequest(`Patch operation ${index}: invalid array index ${token}`);
  }
  const i = Number(token);
  if (i > arr.length || (!forInsert && i === arr.length)) {
    throw errors.badRequest(`Patch operation ${index}: array index ${token} out of bounds`);
  }
  return i;
}

function isContainer(v: Json | undefined): v is Container {
  return typeof v === 'object' && v !== null;
}

/** The parent container of the pointer's target, and the last token. */
function locate(doc: Json, tokens: string[], index: number): { parent: Container; key: string } {
  let node: Json | undefined = doc;
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i];
    node = Array.isArray(node) ? node[arrayIndex(node, t, false, index)] : isContainer(node) && Object.hasOwn(node, t) ? node[t] : undefined;
    if (!isContainer(node)) {
      throw errors.badRequest(`Patch operation ${index}: path /${tokens.slice(0, i + 1).join('/')} does not exist`);
    }
  }
  if (!isContainer(node)) {
    throw errors.badRequest(`Patch operation ${index}: the target's parent is not an object or array`);
  }
  return { parent: node, key: tokens[tokens.length - 1] };
}

function getValue(doc: Json, tokens: string[], index: number): Json {
  if (tokens.length === 0) {
    return doc;
  }
  const { parent, key } = locate(doc, tokens, index);
  if (Array.isArray(parent)) {
    return parent[arrayIndex(parent, key, false, index)];
  }
  if (!Object.hasOwn(parent, key)) {
    throw errors.badRequest(`Patch operation ${index}: path /${tokens.join('/')} does not exist`);
  }
  return parent[key];
}

function addValue(doc: Json, tokens: string[], value: Json, index: number): Json {
  if (tokens.length === 0) {
    return value;
  }
  const { parent, key } = locate(doc, tokens, index);
  if (Array.isArray(parent)) {
    parent.splice(arrayIndex(parent, key, true, index), 0, value);
  } else {
    parent[key] = value;
  }
  return doc;
}

function removeValue(doc: Json, tokens: string[], index: number): Json {
  if (tokens.length === 0) {
    throw errors.badRequest(`Patch operation ${index}: cannot remove the whole document`);
  }
  const { parent, key } = locate(doc, tokens, index);
  if (Array.isArray(parent)) {
    const removed = parent.splice(arrayIndex(parent, key, false, index), 1);
    return removed[0];
  }
  if (!Object.hasOwn(parent, key)) {
    throw errors.badRequest(`Patch operation ${index}: path /${tokens.join('/')} does not exist`);
  }
  const old = parent[key];
  delete parent[key];
  return old;
}

function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) {
    return true;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isContainer(a) && isContainer(b) && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

export function isJsonPatch(patch: unknown): patch is Operation[] {
  return Array.isArray(patch);
}

/** Applies the operations to a deep copy of `document` and returns the copy. */
export function applyJsonPatch<T>(document: T, operations: unknown): T {
  if (!Array.isArray(operations)) {
    throw errors.badRequest('A JSON Patch must be an array of operations');
  }
  let doc = structuredClone(document) as Json;
  operations.forEach((raw: unknown, index) => {
    if (!isContainer(raw as Json) || Array.isArray(raw)) {
      throw errors.badRequest(`Patch operation ${index} is not an object`);
    }
    const op = raw as Operation;
    const path = parsePointer(op.path, index);
    const needsValue = op.op === 'add' || op.op === 'replace' || op.op === 'test';
    if (needsValue && op.value === undefined) {
      throw errors.badRequest(`Patch operation ${index} (${op.op}) needs a value`);
    }
    switch (op.op) {
      case 'add':
        doc = addValue(doc, path, structuredClone(op.value as Json), index);
        break;
      case 'remove':
        removeValue(doc, path, index);
        break;
      case 'replace':
        if (path.length === 0) {
          doc = structuredClone(op.value as Json);
        } else {
          getValue(doc, path, index);
          removeValue(doc, path, index);
          doc = addValue(doc, path, structuredClone(op.value as Json), index);
        }
        break;
      case 'move': {
        const from = parsePointer(op.from, index);
        if (path.length > from.length && from.every((t, i) => path[i] === t)) {
          throw errors.badRequest(`Patch operation ${index}: cannot move a value into itself`);
        }
        const value = removeValue(doc, from, index);
        doc = addValue(doc, path, value, index);
        break;
      }
      case 'copy': {
        const value = getValue(doc, parsePointer(op.from, index), index);
        doc = addValue(doc, path, structuredClone(value), index);
        break;
      }
      case 'test': {
        let actual: Json | undefined;
        try {
          actual = getValue(doc, path, index);
        } catch {
          actual = undefined;
        }
        if (!jsonEqual(actual, op.value)) {
          throw errors.badRequest(`Patch test failed at ${op.path}`, op.path);
        }
        break;
      }
      default:
        throw errors.badRequest(`Patch operation ${index}: unknown op ${JSON.stringify(op.op)}`);
    }
  });
  return doc as T;
}
