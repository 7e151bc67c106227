// A transaction Bundle's index rows are buffered and written sorted at its end (SearchIndexer.deferred).
// What a user could notice if that went wrong: searches inside the Bundle missing its own writes, stale
// rows after a create+update in one Bundle, rows left by a failed Bundle, or different rows than
// indexing one resource at a time would write. Each is checked here against the immediate path.
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { afterEach, describe, expect, it } from 'vitest';
import { createStore, type Store } from '../../electron/host/store/index.ts';
import { type Db } from '../../electron/host/db/types.ts';
import { rowCounts, smallestSyntheaBundles } from './helpers.ts';

const INDEX_TABLES: Record<string, string> = {
  idx_token: 'pid, code, system',
  idx_string: 'pid, norm, raw',
  idx_ref: 'pid, ref_id, ref_type',
  idx_date: 'pid, lo, hi',
  idx_number: 'pid, value',
  idx_quantity: 'pid, value, system, code, unit',
  idx_composite: 'pid, c1_code, c1_system, k, v_system, v_code, v_unit, v_num, v_lo, v_hi',
  compartment: 'ref_id, ref_type',
};

/** Every index row as `table|type/id|values`, sorted: comparable across stores whatever the rids. */
function indexRows(db: Db): string[] {
  const out: string[] = [];
  for (const [table, columns] of Object.entries(INDEX_TABLES)) {
    const rows = db.prepare(`SELECT r.type || '/' || r.id AS owner, ${columns} FROM ${table} t JOIN resource r ON r.rid = t.rid`).all() as Record<string, unknown>[];
    for (const row of rows) {
      out.push(`${table}|${JSON.stringify(row)}`);
    }
  }
  return out.sort();
}

const stores: Store[] = [];
function open(): Store {
  const store = createStore({ path: ':memory:' });
  stores.push(store);
  return store;
}
afterEach(() => stores.splice(0).forEach((s) => s.close()));

describe('index rows of a transaction Bundle', () => {
  it('are the rows that indexing each resource alone writes (real Synthea Bundles)', () => {
    const deferred = open();
    const immediate = open();
    for (const bundle of smallestSyntheaBundles(2)) {
      const response = deferred.processBundle(structuredClone(bundle));
      // The same final resources, written one call at a time (each call indexes immediately).
      for (const entry of response.entry ?? []) {
        const stored = entry.resource!;
        immediate.update(stored); // update-as-create keeps the id, so rows compare by type/id
      }
    }
    const rows = indexRows(deferred.db);
    expect(rows.length).toBeGreaterThan(1_000);
    expect(rows).toEqual(indexRows(immediate.db));
  });

  it('are visible to a search entry of the same Bundle', () => {
    const store = open();
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:1', resource: { resourceType: 'Patient', name: [{ family: 'Deferredson' }] }, request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'GET', url: 'Patient?name=deferredson' } },
      ],
    };
    const response = store.processBundle(bundle);
    const created = response.entry![0].resource as Patient;
    const searchset = response.entry![1].resource as Bundle;
    expect(searchset.entry?.map((e) => e.resource?.id)).toEqual([created.id]);
  });

  it('hold only the new values of a resource the Bundle updates, beside its creates (no stale rows)', () => {
    const store = open();
    const first = store.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Before' }] }).resource;
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:o', resource: { resourceType: 'Patient', name: [{ family: 'Other' }] }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', id: first.id, name: [{ family: 'After' }] }, request: { method: 'PUT', url: `Patient/${first.id}` } },
        { resource: { resourceType: 'Patient', name: [{ family: 'Other-patched' }] }, request: { method: 'PUT', url: 'Patient?name=nobody-has-this' } },
      ],
    };
    store.processBundle(bundle);
    const ids = (query: string): (string | undefined)[] => (store.search('Patient', query).entry ?? []).map((e) => e.resource?.id);
    expect(ids('name=before')).toEqual([]);
    expect(ids('name=after')).toEqual([first.id]);
    expect(ids('name=other')).toHaveLength(2); // Other and Other-patched (a prefix match)
  });

  it('leave nothing behind when the Bundle fails at its last entry', () => {
    const store = open();
    store.create({ resourceType: 'Patient', name: [{ family: 'Existing' }] });
    const before = rowCounts(store.db);
    const entries = smallestSyntheaBundles(1)[0].entry!.slice(0, 50);
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [...entries, { resource: { resourceType: 'Patient', id: 'x' }, request: { method: 'PUT', url: 'Patient/x', ifMatch: 'W/"7"' } }],
    };
    expect(() => store.processBundle(bundle)).toThrow();
    expect(rowCounts(store.db)).toEqual(before);
    // And the next Bundle adds its own rows only: nothing buffered by the failed one is written later.
    const next: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'Patient', name: [{ family: 'Next' }] }, request: { method: 'POST', url: 'Patient' } }] };
    const rowsBefore = indexRows(store.db).length;
    store.processBundle(structuredClone(next));
    const alone = open();
    alone.processBundle(structuredClone(next));
    expect(indexRows(store.db).length - rowsBefore).toBe(indexRows(alone.db).length);
    expect(store.search('Patient', '_summary=count').total).toBe(2);
  });

  it('never outlive a savepoint that rolled back inside the scope (a policy probe, a refused write)', () => {
    const store = open();
    const patient = (family: string): Patient => ({ resourceType: 'Patient', name: [{ family }], gender: 'female' });
    store.db.transaction(() =>
      store.deferIndexing(() => {
        store.inCallerTransaction.create(patient('Kept'));
        // A write in a savepoint that rolls back: SQLite hands its row id out again to the next insert.
        expect(() =>
          store.db.transaction(() => {
            store.inCallerTransaction.create(patient('Probed'));
            throw new Error('rolled back');
          })(),
        ).toThrow('rolled back');
        store.inCallerTransaction.create(patient('Later'));
      }),
    )();
    const found = (family: string): number => (store.search('Patient', `family=${family}`).entry ?? []).length;
    expect(found('Probed')).toBe(0);
    expect([found('Kept'), found('Later')]).toEqual([1, 1]);
    // Exactly the rows the two kept Patients write on their own.
    const alone = open();
    for (const p of store.search('Patient', '').entry ?? []) alone.update(p.resource as Patient);
    expect(indexRows(store.db)).toEqual(indexRows(alone.db));
  });

  it('stay for the writes of outer levels when a read inside a savepoint wrote them early and the savepoint rolled back', () => {
    const store = open();
    const patient = (family: string): Patient => ({ resourceType: 'Patient', name: [{ family }] });
    const found = (family: string): number => (store.search('Patient', `family=${family}`).entry ?? []).length;
    store.db.transaction(() =>
      store.deferIndexing(() => {
        store.inCallerTransaction.create(patient('Outer'));
        expect(() =>
          store.db.transaction(() => {
            store.db.transaction(() => {
              store.inCallerTransaction.create(patient('Inner'));
              expect(found('Outer')).toBe(1); // the search writes what is buffered, inside the savepoints
            })();
            throw new Error('the outer savepoint rolls back');
          })(),
        ).toThrow('rolls back');
        store.inCallerTransaction.create(patient('After'));
      }),
    )();
    expect([found('Outer'), found('Inner'), found('After')]).toEqual([1, 0, 1]);
    const alone = open();
    for (const p of store.search('Patient', '').entry ?? []) alone.update(p.resource as Patient);
    expect(indexRows(store.db)).toEqual(indexRows(alone.db));
  });
});
