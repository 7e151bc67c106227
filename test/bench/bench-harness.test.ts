// The benchmark's replicated data must be valid input for the store: every copy of a Synthea Bundle
// has ids and identifiers of its own, and every reference still points inside its Bundle. (The
// benchmark itself is run by `npm run bench -- store`, never by the tests.)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { fixturesDir, loadTemplates, replicateBundles, resolveBundle } from './replicate.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const templates = loadTemplates(fixturesDir(repoRoot));
const templateResources = templates.reduce((n, t) => n + t.resourceCount, 0);

function referencesIn(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) {
    node.forEach((item) => referencesIn(item, out));
  } else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'reference' && typeof value === 'string') {
        out.push(value);
      } else {
        referencesIn(value, out);
      }
    }
  }
  return out;
}

describe('benchmark data replicator', () => {
  const bundles: Bundle[] = [...replicateBundles(templates, { resources: templateResources + 1 })].map((g) => g.bundle);

  it('replicates the fixtures with fresh, distinct ids until the requested size', () => {
    expect(templateResources).toBe(13_612);
    // One whole copy, then the first Bundle of the second copy.
    expect(bundles).toHaveLength(templates.length + 1);
    const ids = bundles.flatMap((b) => (b.entry ?? []).map((e) => e.resource?.id));
    const fullUrls = bundles.flatMap((b) => (b.entry ?? []).map((e) => e.fullUrl));
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(fullUrls).size).toBe(fullUrls.length);
    const originalText = templates.map((t) => t.pieces.join('')).join('');
    expect(originalText).not.toContain(ids[0]);
  });

  it('keeps every reference inside its own Bundle', () => {
    let checked = 0;
    for (const bundle of bundles) {
      const fullUrls = new Set((bundle.entry ?? []).map((e) => e.fullUrl));
      const refs = referencesIn(bundle.entry?.map((e) => e.resource)).filter((r) => !r.startsWith('#'));
      expect(refs.filter((r) => !fullUrls.has(r))).toEqual([]);
      checked += refs.length;
    }
    expect(checked).toBeGreaterThan(40_000);
    const resolved = resolveBundle(structuredClone(bundles[0]));
    expect(referencesIn(resolved).filter((r) => r.startsWith('urn:uuid:'))).toEqual([]);
  });

  it('gives the second copy of a patient identifiers of their own, and keeps dates and codes', () => {
    const first = bundles[0].entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as Patient;
    const copy = bundles[templates.length].entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as Patient;
    expect(copy.birthDate).toBe(first.birthDate);
    expect(copy.name?.[0]?.family).toBe(first.name?.[0]?.family);
    const values = (p: Patient): string[] => (p.identifier ?? []).map((i) => `${i.system}|${i.value}`);
    expect(values(copy).filter((v) => values(first).includes(v))).toEqual([]);
  });

  it('produces the same data on every pass (seeded)', () => {
    const again = [...replicateBundles(templates, { resources: 1 })][0].bundle;
    expect(again.entry?.map((e) => e.resource?.id)).toEqual(bundles[0].entry?.map((e) => e.resource?.id));
  });
});
