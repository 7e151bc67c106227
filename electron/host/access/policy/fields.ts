// Field masks of an AccessPolicy entry: hiddenFields removed from what a role reads, and on write
// readonly and hidden fields protected from what the client sends.
//
// Array rule of protectOnWrite (Outpost goes further than Medplum, which loses nested hidden data):
// on update, a protected path inside an array (`name.family`) keeps the stored value of the element
// the client's element IS. An element of the new version is the same as a stored one when, in this
// order: both carry the same `id`; or their visible, writable content is identical; or they sit at the
// same index (an element edited in place). Stored elements the client did not send back are kept when
// the role could not see them at all (every part hidden, so the client never had them) or when they
// carry readonly data (removing them would change it), at their original position; other removed
// elements are removed. New elements get no hidden or readonly data.
import type { Resource } from '@medplum/fhirtypes';
import type { PathSegment } from './field-paths.ts';
import { matchingKeys, resolveFieldPath } from './field-paths.ts';
import type { PolicyEntry } from './types.ts';

export { hiddenSearchParams } from './hidden-params.ts';

type Json = Record<string, unknown>;
type Kind = 'hidden' | 'readonly';

interface MaskNode {
  segment: PathSegment;
  /** Set on a leaf: the whole value under this segment is protected. */
  kind?: Kind;
  children: MaskNode[];
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sameSegment(a: PathSegment, b: PathSegment): boolean {
  return a.name === b.name && a.choice === b.choice && a.type === b.type;
}

/** Builds the mask tree of a resource type from its paths. A shorter path wins over longer ones below it. */
function buildMask(resourceType: string, paths: { path: string; kind: Kind }[]): MaskNode[] {
  const roots: MaskNode[] = [];
  for (const { path, kind } of paths) {
    let level = roots;
    const segments = resolveFieldPath(resourceType, path).segments;
    segments.forEach((segment, i) => {
      let node = level.find((n) => sameSegment(n.segment, segment));
      if (!node) {
        node = { segment, children: [] };
        level.push(node);
      }
      if (node.kind) {
        level = []; // an ancestor is already protected as a whole
        return;
      }
      if (i === segments.length - 1) {
        node.kind = kind;
        node.children = [];
      }
      level = node.children;
    });
  }
  return roots;
}

/** Removes, in place, every value under the mask nodes (only those of `kinds`); prunes emptied containers. */
function strip(obj: Json, nodes: MaskNode[], kinds: ReadonlySet<Kind>): void {
  for (const node of nodes) {
    for (const key of matchingKeys(obj, node.segment)) {
      if (node.kind) {
        if (kinds.has(node.kind)) {
          delete obj[key];
          delete obj[`_${key}`];
        }
        continue;
      }
      const value = obj[key];
      if (Array.isArray(value)) {
        for (const el of value) {
          if (isObject(el)) {
            strip(el, node.children, kinds);
          }
        }
        const kept = value.filter((el) => !isObject(el) || Object.keys(el).length > 0);
        if (kept.length === 0) {
          delete obj[key];
        } else {
          obj[key] = kept;
        }
      } else if (isObject(value)) {
        strip(value, node.children, kinds);
        if (Object.keys(value).length === 0) {
          delete obj[key];
        }
      }
    }
  }
}

const HIDDEN: ReadonlySet<Kind> = new Set(['hidden']);
const ALL_KINDS: ReadonlySet<Kind> = new Set(['hidden', 'readonly']);

/**
 * A deep copy of the resource without its hidden fields. Dotted paths traverse arrays implicitly;
 * `value` / `value[x]` remove every value[x] variant, `valueQuantity.value` only that part; primitive
 * companions (`_birthDate`) go with their value; objects and arrays left empty are removed.
 */
export function removeHiddenFields<T extends Resource>(resource: T, hiddenFields: readonly string[]): T {
  const copy = structuredClone(resource);
  if (hiddenFields.length > 0) {
    strip(copy as unknown as Json, buildMask(resource.resourceType, hiddenFields.map((path) => ({ path, kind: 'hidden' }))), HIDDEN);
  }
  return copy;
}

/** The masks of the entry that governs a resource (the caller picks the first entry that matches it). */
export function masksOf(entry: Pick<PolicyEntry, 'hiddenFields' | 'readonlyFields'> | undefined): { hidden: string[]; readonly: string[] } {
  return { hidden: entry?.hiddenFields ?? [], readonly: entry?.readonlyFields ?? [] };
}

/** Key-order independent JSON, to compare elements as data. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonical).join(',')}]`;
  }
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function without(el: unknown, nodes: MaskNode[], kinds: ReadonlySet<Kind>): unknown {
  if (!isObject(el)) {
    return el;
  }
  const copy = structuredClone(el);
  strip(copy, nodes, kinds);
  return copy;
}

/** Must a stored element the client did not send back be kept? (see the file comment) */
function keepRemoved(stored: unknown, nodes: MaskNode[]): boolean {
  if (!isObject(stored)) {
    return false;
  }
  const visible = without(stored, nodes, HIDDEN) as Json;
  if (Object.keys(visible).length === 0) {
    return true;
  }
  const readonlyOnly = nodes.length > 0 && canonical(without(stored, nodes, new Set(['readonly']))) !== canonical(stored);
  return readonlyOnly;
}

function mergeArrays(before: unknown[], after: unknown[], nodes: MaskNode[]): unknown[] {
  const matchOf = new Array<number>(after.length).fill(-1);
  const used = new Set<number>();
  const pair = (ai: number, bi: number): void => {
    matchOf[ai] = bi;
    used.add(bi);
  };
  // 1. same element id
  after.forEach((a, ai) => {
    if (isObject(a) && typeof a.id === 'string') {
      const bi = before.findIndex((b, i) => !used.has(i) && isObject(b) && b.id === a.id);
      if (bi >= 0) {
        pair(ai, bi);
      }
    }
  });
  // 2. identical visible, writable content
  const beforeKeys = before.map((b) => canonical(without(b, nodes, ALL_KINDS)));
  after.forEach((a, ai) => {
    if (matchOf[ai] >= 0) {
      return;
    }
    const key = canonical(without(a, nodes, ALL_KINDS));
    const bi = beforeKeys.findIndex((k, i) => !used.has(i) && k === key);
    if (bi >= 0) {
      pair(ai, bi);
    }
  });
  // 3. same index: an element edited in place
  after.forEach((_a, ai) => {
    if (matchOf[ai] < 0 && ai < before.length && !used.has(ai)) {
      pair(ai, ai);
    }
  });

  const merged = after.map((a, ai) => {
    const bi = matchOf[ai];
    if (!isObject(a)) {
      return a;
    }
    const b = bi >= 0 ? before[bi] : undefined;
    mergeInto(isObject(b) ? b : undefined, a, nodes);
    return a;
  });
  // Stored elements to keep, re-inserted before the first merged element that came after them.
  const result: unknown[] = [];
  const kept = before.map((b, bi) => (!used.has(bi) && keepRemoved(b, nodes) ? bi : -1)).filter((bi) => bi >= 0);
  let k = 0;
  merged.forEach((m, ai) => {
    const bi = matchOf[ai];
    while (k < kept.length && bi >= 0 && kept[k] < bi) {
      result.push(structuredClone(before[kept[k++]]));
    }
    result.push(m);
  });
  while (k < kept.length) {
    result.push(structuredClone(before[kept[k++]]));
  }
  return result;
}

/** Restores, in `after` (mutated), the protected values of `before`; new data under a mask is removed. */
function mergeInto(before: Json | undefined, after: Json, nodes: MaskNode[]): void {
  for (const node of nodes) {
    const keysBefore = before ? matchingKeys(before, node.segment) : [];
    const keysAfter = matchingKeys(after, node.segment);
    if (node.kind) {
      for (const key of keysAfter) {
        delete after[key];
        delete after[`_${key}`];
      }
      for (const key of keysBefore) {
        after[key] = structuredClone(before?.[key]);
        if (before && `_${key}` in before) {
          after[`_${key}`] = structuredClone(before[`_${key}`]);
        }
      }
      continue;
    }
    for (const key of new Set([...keysAfter, ...keysBefore])) {
      const a = after[key];
      const b = before?.[key];
      const children = node.children;
      if (a === undefined) {
        // The client sent nothing here: keep what it could not see or may not change.
        if (Array.isArray(b)) {
          const kept = b.filter((el) => keepRemoved(el, children)).map((el) => structuredClone(el));
          if (kept.length > 0) {
            after[key] = kept;
          }
        } else if (keepRemoved(b, children)) {
          after[key] = structuredClone(b);
        }
      } else if (Array.isArray(a)) {
        after[key] = mergeArrays(Array.isArray(b) ? b : b === undefined ? [] : [b], a, children);
      } else if (isObject(a)) {
        mergeInto(isObject(b) ? b : undefined, a, children);
      }
    }
  }
}

export interface ProtectOnWriteInput<T extends Resource> {
  /** The stored current version (undefined on create). */
  before?: T;
  /** What the client sent. Not mutated. */
  after: T;
  hidden: readonly string[];
  readonly: readonly string[];
  isCreate: boolean;
}

/**
 * The resource to store. On create, readonly fields are dropped (hidden ones may be written: the
 * policy review warns about such roles). On update, readonly AND hidden fields keep their stored value
 * whatever the client sent, nested ones included (see the array rule at the top of this file).
 * With no field to protect, `after` itself is returned: nothing changes, and deep-copying every
 * written resource cost ~7% of a bulk import (the caller's access checks also reuse what they
 * already answered for that object).
 */
export function protectOnWrite<T extends Resource>(input: ProtectOnWriteInput<T>): T {
  const type = input.after.resourceType;
  if (input.isCreate || !input.before) {
    if (input.readonly.length === 0) {
      return input.after;
    }
    const result = structuredClone(input.after);
    strip(result as unknown as Json, buildMask(type, input.readonly.map((path) => ({ path, kind: 'readonly' }))), ALL_KINDS);
    return result;
  }
  const paths = [
    ...input.hidden.map((path) => ({ path, kind: 'hidden' as const })),
    ...input.readonly.map((path) => ({ path, kind: 'readonly' as const })),
  ];
  if (paths.length === 0) {
    return input.after;
  }
  const result = structuredClone(input.after);
  mergeInto(input.before as unknown as Json, result as unknown as Json, buildMask(type, paths));
  return result;
}
