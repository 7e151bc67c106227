// The hot searches must be answered through indexes: EXPLAIN QUERY PLAN shows SEARCH steps on the
// index tables and the resource primary key, and no full SCAN of any table.
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../electron/host/store/index.ts';
import type { Store } from '../../electron/host/store/index.ts';
import { explainableSearch } from '../../electron/host/search/search.ts';
import { BASE_URL } from './helpers.ts';

let store: Store;

beforeAll(() => {
  store = createStore({ path: ':memory:', baseUrl: BASE_URL });
  const p = store.create<Resource>({ resourceType: 'Patient', name: [{ family: 'Doe' }] }).resource;
  store.create({ resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '1' }] }, subject: { reference: `Patient/${p.id}` }, effectiveDateTime: '2020-01-01' });
  store.db.exec('ANALYZE');
});

afterAll(() => store.close());

function plan(type: string, query: string): string[] {
  const project = (store.db.prepare('SELECT project FROM resource LIMIT 1').pluck().get() as string) ?? 'p';
  const { sql, params } = explainableSearch(store.db, type, query, { project, baseUrl: BASE_URL });
  return (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail);
}

/** SCANs are allowed only over the driving rid sets (co-routines of index lookups), never over a table. */
function expectIndexed(steps: string[], uses: RegExp): void {
  const subqueries = new Set(steps.map((s) => /^(?:CO-ROUTINE|MATERIALIZE) (\S+)/.exec(s)?.[1]).filter(Boolean));
  expect(steps.filter((s) => /^SCAN /.test(s) && !subqueries.has(s.slice(5).trim())), steps.join('\n')).toEqual([]);
  expect(steps.some((s) => uses.test(s)), steps.join('\n')).toBe(true);
}

describe('query plans of the hot searches', () => {
  it('token by code', () => {
    expectIndexed(plan('Observation', 'code=http://loinc.org|8302-2'), /SEARCH idx_token USING PRIMARY KEY \(pid=\? AND code=\?/);
  });
  it('reference by subject', () => {
    expectIndexed(plan('Observation', 'subject=Patient/123'), /SEARCH idx_ref USING PRIMARY KEY \(pid=\? AND ref_id=\? AND ref_type=\?\)/);
  });
  it('string by name (prefix range)', () => {
    expectIndexed(plan('Patient', 'name=smi'), /SEARCH idx_string USING PRIMARY KEY \(pid=\? AND norm>\? AND norm<\?\)/);
  });
  it('date range', () => {
    expectIndexed(plan('Observation', 'date=ge2020-01-01&date=lt2021-01-01'), /SEARCH idx_date USING .*\(pid=\? AND (hi>\?|lo<\?)\)/);
    expectIndexed(plan('Observation', 'date=2020'), /SEARCH idx_date USING .*\(pid=\? AND (lo>\?|hi<\?)/);
  });
  it("a patient's observations by code and date: one lookup drives, the others probe by (rid, pid)", () => {
    const steps = plan('Observation', 'subject=Patient/123&date=ge2020&date=lt2021&code=1');
    // Candidates are checked for liveness through the narrow covering index, never the wide rows.
    expectIndexed(steps, /SEARCH r USING COVERING INDEX resource_live \(rid=\?\)/);
    expect(steps.some((s) => /idx_token USING COVERING INDEX idx_token_rid \(rid=\? AND pid=\?/.test(s))).toBe(true);
    // The exact code is probed before the date range: most of a patient's observations fail it, and
    // then the date is never looked at (at a million resources this search was 3.5x the floor).
    const probe = (table: string) => steps.findIndex((s) => s.includes(`SEARCH ${table} USING COVERING INDEX`));
    expect(probe('idx_token'), steps.join('\n')).toBeGreaterThan(-1);
    expect(probe('idx_token'), steps.join('\n')).toBeLessThan(probe('idx_date'));
    // ...and both on the driving set's rid, before the candidate is looked up in the resource table.
    expect(probe('idx_date'), steps.join('\n')).toBeLessThan(probe('r'));
  });
  it('a chain to one identified target drives; the code is probed by (rid, pid)', () => {
    const steps = plan('Observation', 'subject:Patient.identifier=http://x|1&code=1');
    expectIndexed(steps, /SEARCH a\d+ USING PRIMARY KEY \(pid=\? AND ref_id=\? AND ref_type=\?\)/);
    expect(steps.some((s) => /idx_token USING COVERING INDEX idx_token_rid \(rid=\? AND pid=\?/.test(s)), steps.join('\n')).toBe(true);
  });
  it('a combo parameter (stored through its parts) is a lookup per part, and a probe by (rid, pid IN ...)', () => {
    expectIndexed(plan('Observation', 'combo-code=http://loinc.org|8480-6'), /SEARCH idx_token USING PRIMARY KEY \(pid=\? AND code=\? AND system=\?/);
    expectIndexed(plan('Observation', 'combo-value-quantity=gt100'), /SEARCH idx_quantity USING PRIMARY KEY \(pid=\? AND value>\?/);
    const steps = plan('Observation', 'subject=Patient/123&combo-code=8480-6');
    expectIndexed(steps, /SEARCH idx_ref USING PRIMARY KEY \(pid=\? AND ref_id=\? AND ref_type=\?\)/);
    expect(steps.some((s) => /idx_token USING COVERING INDEX idx_token_rid \(rid=\? AND pid=\?/.test(s)), steps.join('\n')).toBe(true);
  });
  it('chain and reverse chain', () => {
    expectIndexed(plan('Observation', 'subject:Patient.name=doe'), /SEARCH idx_string USING PRIMARY KEY/);
    expectIndexed(plan('Patient', '_has:Observation:subject:code=1'), /SEARCH idx_token USING PRIMARY KEY/);
  });
  it('_include and _revinclude start from the page rows', () => {
    const seen: string[] = [];
    const prepare = store.db.prepare.bind(store.db);
    const spy = (sql: string): ReturnType<typeof prepare> => {
      seen.push(sql);
      return prepare(sql);
    };
    store.db.prepare = spy as typeof store.db.prepare;
    try {
      store.search('Observation', '_include=Observation:subject&_revinclude=Provenance:target&_count=7');
    } finally {
      store.db.prepare = prepare;
    }
    const includes = seen.filter((sql) => sql.includes('json_each(?) j') && sql.includes('idx_ref x'));
    expect(includes).toHaveLength(2);
    for (const sql of includes) {
      const steps = (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...sql.split('?').slice(1).map(() => '[1]')) as { detail: string }[]).map((r) => r.detail);
      expect(steps[0], steps.join('\n')).toMatch(/^SCAN j/);
      expect(steps.filter((s) => /^SCAN (?!j)/.test(s)), steps.join('\n')).toEqual([]);
    }
  });

  it('sync pulls (_lastUpdated watermark, sorted) read the (type, last_updated) index in order', () => {
    const steps = plan('Observation', '_lastUpdated=gt2020-01-01&_sort=_lastUpdated&_count=100');
    expectIndexed(steps, /SEARCH r USING INDEX resource_type_updated \(type=\? AND last_updated>\?\)/);
    expect(steps.some((s) => s.includes('TEMP B-TREE')), steps.join('\n')).toBe(false);
  });

  it('compartment and _id', () => {
    expectIndexed(plan('Observation', '_compartment=Patient/123'), /SEARCH compartment USING PRIMARY KEY/);
    expectIndexed(plan('Patient', '_id=abc'), /SEARCH r USING INDEX resource_type_id \(type=\? AND id=\?\)/);
  });
});
