// Three-way merge of a resource edited on both sides, by element path.
//
// A path is a dot-joined chain of element names through plain objects ('gender', 'code.text',
// 'maritalStatus.coding'); arrays are compared whole (FHIR lists have no stable identity per item:
// merging two edits of `name[]` item by item could build a name nobody wrote). Server-managed parts
// are ignored: `id`, `meta`, and the Outpost identifier/tag push adds to find its creates again.
// Both sides changing a path to the SAME value is not a conflict. A path one side changed that is a
// prefix of a path the other changed (an object replaced vs one of its fields edited) overlaps.
import type { Resource } from '@medplum/fhirtypes';
import { errors } from '../../../../shared/errors.ts';
import { OUTPOST_ID_SYSTEM } from '../references.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/** The resource as merging sees it: no id/meta, no Outpost identifier (an empty identifier list goes). */
export function comparable(resource: Resource | null | undefined): Obj {
  if (!resource) return {};
  const copy = JSON.parse(JSON.stringify(resource)) as Obj;
  delete copy.id;
  delete copy.meta;
  if (Array.isArray(copy.identifier)) {
    const kept = copy.identifier.filter((i) => !(isObject(i) && i.system === OUTPOST_ID_SYSTEM));
    if (kept.length > 0) copy.identifier = kept;
    else delete copy.identifier;
  }
  return copy;
}

/** Paths whose values differ between a and b (leaves of the object tree; arrays whole). */
export function changedPaths(a: Obj, b: Obj, prefix = ''): string[] {
  const out: string[] = [];
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const path = prefix ? `${prefix}.${key}` : key;
    const va = a[key];
    const vb = b[key];
    if (isObject(va) && isObject(vb)) {
      out.push(...changedPaths(va, vb, path));
    } else if (!deepEqual(va, vb)) {
      out.push(path);
    }
  }
  return out;
}

export function getPath(obj: Obj, path: string): Json | undefined {
  let cur: Json | undefined = obj;
  for (const key of path.split('.')) {
    if (!isObject(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/** Sets (or, with undefined, removes) a path; removes objects left empty by a removal. */
export function setPath(obj: Obj, path: string, value: Json | undefined): void {
  const keys = path.split('.');
  const parents: Obj[] = [obj];
  let cur = obj;
  for (const key of keys.slice(0, -1)) {
    if (!isObject(cur[key])) {
      if (value === undefined) return;
      cur[key] = {};
    }
    cur = cur[key] as Obj;
    parents.push(cur);
  }
  const last = keys[keys.length - 1];
  if (value === undefined) {
    delete cur[last];
    for (let i = parents.length - 1; i > 0; i--) {
      if (Object.keys(parents[i]).length > 0) break;
      delete parents[i - 1][keys[i - 1]];
    }
  } else {
    cur[last] = JSON.parse(JSON.stringify(value)) as Json;
  }
}

const overlaps = (a: string, b: string): boolean => a === b || a.startsWith(b + '.') || b.startsWith(a + '.');

export interface MergeResult {
  /** remote + the local changes (no id/meta: the caller adds the identity it writes under). */
  merged: Obj;
  /** Paths both sides changed differently: when non-empty, `merged` must not be used. */
  conflicts: string[];
  /** Paths the local side changed (what the merge took from local). */
  localChanges: string[];
}

/** Merges local and remote edits of `base`. Without a base every differing path is a conflict. */
export function threeWayMerge(base: Resource | null, local: Resource, remote: Resource): MergeResult {
  const l = comparable(local);
  const r = comparable(remote);
  if (!base) {
    const diff = changedPaths(l, r);
    return { merged: r, conflicts: diff, localChanges: diff };
  }
  const b = comparable(base);
  const localChanges = changedPaths(b, l);
  const remoteChanges = changedPaths(b, r);
  const conflicts = localChanges.filter((lp) => remoteChanges.some((rp) => overlaps(lp, rp) && !deepEqual(getPath(l, lp), getPath(r, lp)) && !deepEqual(getPath(l, rp), getPath(r, rp))));
  const merged = JSON.parse(JSON.stringify(r)) as Obj;
  for (const path of localChanges) {
    setPath(merged, path, getPath(l, path));
  }
  return { merged, conflicts, localChanges };
}

/**
 * A person's merge by field: `choices` maps paths to the side to keep; a path both sides changed
 * (against base) with no choice is refused (400), so nothing is decided silently.
 */
export function mergeByField(base: Resource | null, local: Resource, remote: Resource, choices: Record<string, 'local' | 'remote'>): Obj {
  for (const [path, side] of Object.entries(choices)) {
    if (side !== 'local' && side !== 'remote') {
      throw errors.badRequest(`Field ${path}: choose 'local' or 'remote'`);
    }
  }
  const { merged: automatic, conflicts } = threeWayMerge(base, local, remote);
  const undecided = conflicts.filter((p) => !Object.keys(choices).some((c) => overlaps(c, p)));
  if (undecided.length > 0) {
    throw errors.badRequest(`Choose local or remote for: ${undecided.join(', ')}`);
  }
  const l = comparable(local);
  const r = comparable(remote);
  const merged = automatic;
  for (const [path, side] of Object.entries(choices)) {
    setPath(merged, path, getPath(side === 'local' ? l : r, path));
  }
  return merged;
}
