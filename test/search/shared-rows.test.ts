// Parameters stored through other parameters' rows (shared-rows.ts): Observation `combo-code` is
// `code | component.code`, so ingest writes `code` and `component-code` rows only and combo searches
// read those. Searches answer as before; a database written by an older version (with combo rows of
// its own) is cleaned by migration 6 and still answers the same.
import fs from 'node:fs';
import path from 'node:path';
import type { Bundle, Observation, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getParamRegistry, paramId } from '../../electron/host/search/params.ts';
import { obsoleteSharedRows, storedThrough } from '../../electron/host/search/shared-rows.ts';
import { createStore } from '../../electron/host/store/index.ts';
import type { Store } from '../../electron/host/store/index.ts';
import { tempDir } from '../store/helpers.ts';

const dir = tempDir('outpost-shared-rows-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function ids(bundle: Bundle): string[] {
  return (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource?.id as string).sort();
}

const loinc = 'http://loinc.org';
const bp: Observation = {
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: loinc, code: '85354-9', display: 'Blood pressure panel' }] },
  component: [
    { code: { coding: [{ system: loinc, code: '8480-6', display: 'Systolic' }] }, valueQuantity: { value: 142, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
    { code: { coding: [{ system: loinc, code: '8462-4', display: 'Diastolic' }] }, valueQuantity: { value: 91, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
  ],
};
const weight: Observation = {
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: loinc, code: '29463-7', display: 'Body weight' }], text: 'Weight' },
  valueQuantity: { value: 80, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
};
const smoking: Observation = {
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: loinc, code: '72166-2' }] },
  valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '266919005', display: 'Never smoker' }] },
};

/** Searches over combo parameters with what they must find (keys of the created resources). */
const SEARCHES: [string, string[]][] = [
  ['combo-code=85354-9', ['bp']],
  ['combo-code=8480-6', ['bp']],
  ['combo-code=http://loinc.org|29463-7,8462-4', ['bp', 'weight']],
  ['combo-code:not=8480-6', ['smoking', 'weight']],
  ['combo-code:text=systol', ['bp']],
  ['combo-code:text=weight', ['weight']],
  ['combo-code:missing=false', ['bp', 'smoking', 'weight']],
  ['combo-value-quantity=gt100', ['bp']],
  ['combo-value-quantity=80|http://unitsofmeasure.org|kg', ['weight']],
  ['combo-value-quantity=lt95', ['bp', 'weight']],
  ['combo-value-quantity:missing=true', ['smoking']],
  ['combo-code-value-quantity=8462-4$lt95', ['bp']],
  ['combo-code-value-quantity=29463-7$80', ['weight']],
  ['combo-code-value-quantity=8480-6$lt95', []],
  ['combo-value-concept=266919005', ['smoking']],
  ['combo-code-value-concept=72166-2$266919005', ['smoking']],
];

function load(store: Store): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const [key, r] of [['bp', bp], ['weight', weight], ['smoking', smoking]] as [string, Resource][]) {
    keys[key] = store.create(r).resource.id as string;
  }
  return keys;
}

function expectSearches(store: Store, keys: Record<string, string>): void {
  for (const [query, want] of SEARCHES) {
    expect(ids(store.search('Observation', query)), query).toEqual(want.map((k) => keys[k]).sort());
  }
}

describe('parameters stored through other parameters', () => {
  let store: Store;
  let keys: Record<string, string>;
  beforeAll(() => {
    store = createStore({ path: path.join(dir, 'fresh.db') });
    keys = load(store);
  });
  afterAll(() => store.close());

  it('finds Observation combo-* parameters (the union of the value and component parameters)', () => {
    expectSearches(store, keys);
    const page = store.search('Observation', 'combo-code=85354-9,29463-7,72166-2&_sort=-combo-value-quantity');
    expect(page.entry?.map((e) => e.resource?.id)).toEqual([keys.bp, keys.weight, keys.smoking]);
  });

  it('writes no rows of its own for a combo parameter', () => {
    const combo = getParamRegistry().get('Observation', 'combo-code');
    expect(combo && storedThrough(combo)?.map((d) => d.code).sort()).toEqual(['code', 'component-code']);
    for (const { table, pids } of obsoleteSharedRows()) {
      const n = store.db.prepare(`SELECT count(*) AS n FROM ${table} WHERE pid IN (${pids.map(() => '?').join(', ')})`).get(...pids) as { n: number };
      expect(n.n, table).toBe(0);
    }
    // The parts do have theirs.
    const code = paramId('Observation', 'component-code');
    expect((store.db.prepare('SELECT count(*) AS n FROM idx_token WHERE pid = ?').get(code) as { n: number }).n).toBe(2);
  });

  it('upgrades a database written with combo rows of their own: migration 6 removes them, searches answer the same', () => {
    const file = path.join(dir, 'old.db');
    const old = createStore({ path: file });
    const oldKeys = load(old);
    // What versions before migration 6 wrote: the combo parameters' own rows (copies of their parts' rows).
    const pid = (code: string): number => paramId('Observation', code);
    const copy = (table: string, from: string[], to: string, columns: string): void => {
      for (const f of from) {
        old.db.prepare(`INSERT OR IGNORE INTO ${table} (pid, ${columns}) SELECT ?, ${columns} FROM ${table} WHERE pid = ?`).run(pid(to), pid(f));
      }
    };
    copy('idx_token', ['code', 'component-code'], 'combo-code', 'code, system, rid');
    copy('idx_string', ['code:text', 'component-code:text'], 'combo-code:text', 'norm, rid, raw');
    copy('idx_quantity', ['value-quantity', 'component-value-quantity'], 'combo-value-quantity', 'value, system, code, unit, rid');
    copy('idx_composite', ['code-value-quantity', 'component-code-value-quantity'], 'combo-code-value-quantity', 'c1_code, c1_system, rid, k, v_system, v_code, v_unit, v_num, v_lo, v_hi');
    old.db.prepare('DELETE FROM schema_migration WHERE version = 6').run();
    const comboRows = (): number => (old.db.prepare('SELECT count(*) AS n FROM idx_token WHERE pid = ?').get(pid('combo-code')) as { n: number }).n;
    expect(comboRows()).toBe(5);
    old.close();

    const upgraded = createStore({ path: file });
    try {
      expect(upgraded.db.prepare('SELECT count(*) AS n FROM schema_migration WHERE version = 6').get()).toEqual({ n: 1 });
      for (const { table, pids } of obsoleteSharedRows()) {
        const n = upgraded.db.prepare(`SELECT count(*) AS n FROM ${table} WHERE pid IN (${pids.map(() => '?').join(', ')})`).get(...pids) as { n: number };
        expect(n.n, table).toBe(0);
      }
      expectSearches(upgraded, oldKeys);
      expect(upgraded.db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      upgraded.close();
    }
  });
});
