// StoreOptions.onChange: every new version is told inside its write transaction (sync's outbox hook).
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { afterEach, describe, expect, it } from 'vitest';
import { createStore, type Store, type StoreChange } from '../../electron/host/store/index.ts';

let store: Store | undefined;
afterEach(() => store?.close());

const patient: Patient = { resourceType: 'Patient', name: [{ family: 'Hook' }] };

describe('StoreOptions.onChange', () => {
  it('tells create, update, delete with versions; an update that changes nothing is not told', () => {
    const changes: StoreChange[] = [];
    store = createStore({ path: ':memory:', defaultProject: 'p1', onChange: (_db, c) => changes.push(c) });
    const created = store.create(patient).resource;
    store.update({ ...created, gender: 'female' });
    store.update({ ...created, gender: 'female' });
    store.delete('Patient', created.id as string);
    store.update({ ...created, gender: 'male' });
    // Each create and update carries the version as stored; a delete none.
    expect(changes.map((c) => [c.resource?.meta?.versionId, (c.resource as Patient | undefined)?.gender])).toEqual([
      ['1', undefined],
      ['2', 'female'],
      [undefined, undefined],
      ['4', 'male'],
    ]);
    expect(changes.map(({ resource: _r, ...c }) => c)).toEqual([
      { op: 'create', resourceType: 'Patient', id: created.id, project: 'p1', version: 1 },
      { op: 'update', resourceType: 'Patient', id: created.id, project: 'p1', version: 2 },
      { op: 'delete', resourceType: 'Patient', id: created.id, project: 'p1', version: 3 },
      { op: 'update', resourceType: 'Patient', id: created.id, project: 'p1', version: 4 },
    ]);
  });

  it('runs inside the write transaction: its own writes commit with the change, and a throw rolls the change back', () => {
    let fail = false;
    store = createStore({
      path: ':memory:',
      onChange: (db, c) => {
        db.prepare('INSERT INTO hook_log (id) VALUES (?)').run(c.id);
        if (fail) throw new Error('hook refused');
      },
    });
    store.db.exec('CREATE TABLE hook_log (id TEXT)');
    const created = store.create(patient).resource;
    expect(store.db.prepare('SELECT count(*) AS n FROM hook_log').get()).toEqual({ n: 1 });
    fail = true;
    expect(() => store!.update({ ...created, gender: 'other' })).toThrow('hook refused');
    expect(store.read<Patient>('Patient', created.id as string).gender).toBeUndefined();
    expect(store.db.prepare('SELECT count(*) AS n FROM hook_log').get()).toEqual({ n: 1 });
  });

  it('tells every entry of a transaction Bundle', () => {
    const changes: StoreChange[] = [];
    store = createStore({ path: ':memory:', onChange: (_db, c) => changes.push(c) });
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:6f1c1a52-3b0e-4c55-9d0c-6a3f0b7b2a11', resource: patient, request: { method: 'POST', url: 'Patient' } },
        {
          resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'urn:uuid:6f1c1a52-3b0e-4c55-9d0c-6a3f0b7b2a11' } },
          request: { method: 'POST', url: 'Encounter' },
        },
      ],
    };
    store.processBundle(bundle);
    expect(changes.map((c) => `${c.op} ${c.resourceType}`)).toEqual(['create Patient', 'create Encounter']);
  });
});
