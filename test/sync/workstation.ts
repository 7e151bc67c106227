// A workstation for sync tests: a store with sync's migrations and outbox, and a remote to a test server.
// `receive` stands in for pull: it stores a remote resource under its remote id (pull maps unknown remote
// ids to themselves) with its id map row, so both workstations edit the same resource offline.
import { createReplica } from '../../electron/host/access/index.ts';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { createStore, type Store } from '../../electron/host/store/index.ts';
import { createOutbox, syncMigrations, type Outbox } from '../../electron/host/sync/index.ts';
import { pushOutbox, type PushOptions, type PushSummary } from '../../electron/host/sync/push/push.ts';
import { createRemote, type Remote } from '../../electron/host/sync/remote/remote.ts';
import type { TestFhirServer } from '../helpers/fhir-server.ts';

export interface Workstation {
  store: Store;
  outbox: Outbox;
  remote: Remote;
  sleeps: number[];
  push(opts?: Partial<PushOptions>): Promise<PushSummary>;
  receive<T extends Resource>(remote: T): T;
  remoteIdOf(type: string, localId: string): string | undefined;
  outboxRows(): { type: string; id: string; op: string; state: string; last_error: string | null }[];
}

export function workstation(server: TestFhirServer, path = ':memory:'): Workstation {
  const outbox = createOutbox();
  const store = createStore({ path, defaultProject: 'p1', migrations: [...syncMigrations], onChange: outbox.onChange });
  const sleeps: number[] = [];
  const sleep = async (ms: number) => void sleeps.push(ms);
  const remote = createRemote({ baseUrl: server.baseUrl, token: server.token, sleep, random: () => 0.5 });
  return {
    store,
    outbox,
    remote,
    sleeps,
    push: (opts = {}) => pushOutbox({ db: store.db, remote, store: createReplica(store), outbox, sleep, random: () => 0.5, ...opts }),
    receive<T extends Resource>(r: T): T {
      const { meta: _meta, ...content } = r;
      const written = outbox.remote(() => store.update<T>({ ...content, id: r.id } as T)).resource;
      store.db
        .prepare('INSERT OR REPLACE INTO sync_id_map (type, local_id, remote_id, remote_version, base_version) VALUES (?, ?, ?, ?, ?)')
        .run(r.resourceType, r.id, r.id, r.meta?.versionId ?? null, Number(written.meta?.versionId));
      return written;
    },
    remoteIdOf: (type, id) => (store.db.prepare('SELECT remote_id FROM sync_id_map WHERE type = ? AND local_id = ?').get(type, id) as { remote_id: string } | undefined)?.remote_id,
    outboxRows: () => store.db.prepare('SELECT type, id, op, state, last_error FROM sync_outbox ORDER BY seq').all() as ReturnType<Workstation['outboxRows']>,
  };
}

export async function remoteSearch<T extends Resource>(server: TestFhirServer, query: string): Promise<T[]> {
  const res = await fetch(server.baseUrl + query, { headers: { authorization: `Bearer ${server.token}` } });
  const bundle = (await res.json()) as Bundle<T>;
  return (bundle.entry ?? []).map((e) => e.resource as T);
}
