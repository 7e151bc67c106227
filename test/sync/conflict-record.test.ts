// Conflict records: recorded with their snapshots, listed per project, and the outbox row waits.
import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { createStore } from '../../electron/host/store/index.ts';
import { createOutbox, listConflicts, outboxCounts, recordConflict, syncMigrations } from '../../electron/host/sync/index.ts';

describe('conflict records', () => {
  it('a recorded conflict is listed with its sides and holds the outbox row; a newer one replaces it', () => {
    const outbox = createOutbox();
    const store = createStore({ path: ':memory:', defaultProject: 'p1', migrations: [...syncMigrations], onChange: outbox.onChange });
    const local = store.create<Patient>({ resourceType: 'Patient', gender: 'male' }).resource;
    const remote: Patient = { resourceType: 'Patient', id: 'r1', gender: 'female', meta: { versionId: 'v2' } };
    const first = recordConflict(store.db, { type: 'Patient', id: local.id as string, project: 'p1', reason: 'edited-both', local, remote, base: null, fields: ['gender'] });
    expect(outboxCounts(store.db)).toMatchObject({ pending: 0, conflict: 1 });
    const [c] = listConflicts(store.db, 'p1');
    expect(c).toMatchObject({ id: first, resourceType: 'Patient', resourceId: local.id, reason: 'edited-both', fields: ['gender'], remoteVersion: 'v2' });
    expect((c.remote as Patient).gender).toBe('female');
    expect(listConflicts(store.db, 'other')).toEqual([]);
    const second = recordConflict(store.db, { type: 'Patient', id: local.id as string, project: 'p1', reason: 'deleted-remotely', local, remote: null, base: null });
    expect(listConflicts(store.db).map((x) => x.id)).toEqual([second]);
    store.close();
  });
});
