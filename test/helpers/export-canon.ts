// Compares two bulk-data exports (outpost export: <Type>.ndjson per type) resource for resource, up to
// the ids the server assigned: two imports of the same Synthea Bundles give the same resources under
// different UUIDs. Each resource is reduced to its content without id, versionId and lastUpdated, with
// every reference to an exported resource replaced by a label of what it points to, refined a few
// rounds (each label folds in the labels of its targets) so that two exports are equal exactly when
// one is the other with its ids renamed. A duplicate, a missing resource or a changed field shows up.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

interface Loaded {
  key: string;
  body: unknown;
}

function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function withReferences(value: unknown, replace: (reference: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => withReferences(v, replace));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, k === 'reference' && typeof v === 'string' ? replace(v) : withReferences(v, replace)]),
    );
  }
  return value;
}

const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** The export's resources in canonical form, sorted (a multiset as a sorted list). */
export function canonicalExport(folder: string, rounds = 4): string[] {
  const resources: Loaded[] = [];
  for (const file of readdirSync(folder).filter((f) => f.endsWith('.ndjson')).sort()) {
    for (const line of readFileSync(join(folder, file), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as { resourceType: string; id: string; meta?: Record<string, unknown> };
      const { id, meta, ...rest } = r;
      const { versionId: _v, lastUpdated: _l, ...keptMeta } = meta ?? {};
      resources.push({ key: `${r.resourceType}/${id}`, body: Object.keys(keptMeta).length ? { ...rest, meta: keptMeta } : rest });
    }
  }
  let labels = new Map(resources.map((r) => [r.key, 'x']));
  const render = (r: Loaded) => stable(withReferences(r.body, (ref) => (labels.has(ref) ? `${ref.split('/')[0]}/<${labels.get(ref)}>` : ref)));
  for (let i = 0; i < rounds; i++) {
    labels = new Map(resources.map((r) => [r.key, hash(render(r))]));
  }
  return resources.map(render).sort();
}

/** What differs between two canonical exports, in a few words (empty when they are equal). */
export function exportDifference(a: string[], b: string[]): string {
  if (a.length === b.length && a.every((x, i) => x === b[i])) return '';
  const count = (list: string[]) => {
    const m = new Map<string, number>();
    for (const x of list) m.set(x, (m.get(x) ?? 0) + 1);
    return m;
  };
  const ca = count(a);
  const cb = count(b);
  const onlyA = [...ca].filter(([k, n]) => (cb.get(k) ?? 0) < n).map(([k]) => k.slice(0, 160));
  const onlyB = [...cb].filter(([k, n]) => (ca.get(k) ?? 0) < n).map(([k]) => k.slice(0, 160));
  return `${a.length} vs ${b.length} resources; only in the first: ${onlyA.length} (${onlyA.slice(0, 3).join(' | ')}); only in the second: ${onlyB.length} (${onlyB.slice(0, 3).join(' | ')})`;
}
