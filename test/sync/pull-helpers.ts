// Shared set-up of the pull tests: a local store wired with sync's outbox, a paging test remote, and
// generators of remote data.
import type { Observation, Patient, Resource } from '@medplum/fhirtypes';
import { createReplica } from '../../electron/host/access/index.ts';
import { createStore, type Store } from '../../electron/host/store/index.ts';
import { createOutbox, syncMigrations, type Outbox } from '../../electron/host/sync/index.ts';
import { createPageWriter, type PageWriter } from '../../electron/host/sync/pull/pull-page.ts';
import { createRemote, type Remote } from '../../electron/host/sync/remote/remote.ts';
import type { PagingFhirServer } from '../helpers/fhir-paging.ts';

export const PROJECT = 'p1';

export interface Local {
  store: Store;
  outbox: Outbox;
}

export function openLocal(path = ':memory:'): Local {
  const outbox = createOutbox();
  const store = createStore({ path, defaultProject: PROJECT, migrations: [...syncMigrations], onChange: outbox.onChange });
  return { store, outbox };
}

/** The pull's page writer on `local`, as the host wires it (the replica, sync's outbox), at a fixed time. */
export function pageWriterOf(local: Local): PageWriter {
  return createPageWriter({ db: local.store.db, store: createReplica(local.store), outbox: local.outbox, project: PROJECT, clock: () => new Date('2026-12-07T12:00:00Z') });
}

/** A remote that does not retry (a dropped page fails the pull at once). */
export function remoteOf(server: PagingFhirServer, maxTries = 1): Remote {
  return createRemote({ baseUrl: server.baseUrl, token: server.token, maxTries, sleep: async () => undefined });
}

/** `patients` Patients, each with `perPatient` Observations referencing it (Patients first). */
export function* clinicalData(patients: number, perPatient: number, prefix = 'r'): Generator<Resource> {
  for (let p = 0; p < patients; p++) {
    yield { resourceType: 'Patient', id: `${prefix}-pat-${p}`, name: [{ family: `Family${p}`, given: ['Pat'] }], gender: p % 2 ? 'female' : 'male' } as Patient;
  }
  for (let p = 0; p < patients; p++) {
    for (let o = 0; o < perPatient; o++) {
      yield {
        resourceType: 'Observation',
        id: `${prefix}-obs-${p}-${o}`,
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
        subject: { reference: `Patient/${prefix}-pat-${p}` },
        valueQuantity: { value: 60 + ((p + o) % 40), unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
      } as Observation;
    }
  }
}

export function countLive(store: Store, type: string): number {
  return store.db.prepare<[string], number>('SELECT count(*) FROM resource WHERE type = ? AND deleted = 0').pluck().get(type) ?? 0;
}

export function outboxRow(store: Store, type: string, id: string): { op: string; state: string; last_error: string | null } | undefined {
  return store.db.prepare<[string, string], { op: string; state: string; last_error: string | null }>('SELECT op, state, last_error FROM sync_outbox WHERE type = ? AND id = ?').get(type, id);
}
