// Replication: what sync needs to keep this workstation's copy equal to the remote server's, around
// every policy. A pulled version is stored as the server holds it (a User keeps its local verifier), a
// remote deletion deletes, a type the credential lost is purged with its history, a push merge writes
// the merged version. No session reaches it: the host hands it to the sync service only (host.ts), the
// lint rule keeps the raw store out of sync/, and sync's routes act as the session (a Repository).
// Every sync run is audited as a whole (its sync-run AuditEvent, with counts and failures).
import { purgeRows } from '../db/replication.ts';
import { createSearchIndexer } from '../search/index.ts';
import type { Store, StoreChange } from '../store/types.ts';

export type { StoreChange };

export interface Replica extends Pick<Store, 'read' | 'vread' | 'update' | 'delete' | 'search' | 'deferIndexing'> {
  /** An update inside the caller's transaction, without a savepoint of its own (the caller rolls back when it throws). */
  inCallerTransaction: Pick<Store['inCallerTransaction'], 'update'>;
  /** Removes the stored row `rid`, every version of it and its index rows (a type the remote revoked). */
  purge(rid: number): void;
}

export function createReplica(store: Store): Replica {
  const indexer = createSearchIndexer();
  return {
    read: (type, id, ctx) => store.read(type, id, ctx),
    vread: (type, id, versionId, ctx) => store.vread(type, id, versionId, ctx),
    update: (resource, opts, ctx) => store.update(resource, opts, ctx),
    inCallerTransaction: { update: (resource, opts, ctx) => store.inCallerTransaction.update(resource, opts, ctx) },
    delete: (type, id, ctx) => store.delete(type, id, ctx),
    search: (type, query, ctx) => store.search(type, query, ctx),
    deferIndexing: (fn) => store.deferIndexing(fn),
    purge(rid) {
      indexer.remove(store.db, rid);
      purgeRows(store.db, rid);
    },
  };
}
