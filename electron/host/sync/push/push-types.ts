// What push takes and answers (push.ts), and the entries it plans: one outbox row as a batch entry.
import type { BundleEntry } from '@medplum/fhirtypes';
import type { Db } from '../../db/types.ts';
import type { Replica } from '../../access/index.ts';
import type { FailureGroup } from '../failures.ts';
import type { Outbox, OutboxRow } from '../outbox.ts';
import type { Remote } from '../remote/remote.ts';

export interface PushOptions {
  db: Db;
  remote: Remote;
  clock?: () => Date;
  /** Rows per run (default 10,000). */
  limit?: number;
  /** Only this project's changes (default: all). */
  project?: string;
  /** Entries per batch Bundle (default 250). */
  batchSize?: number;
  /** Batch Bundles in flight at once (default 2). */
  concurrency?: number;
  /** Largest request body, bytes (default MAX_BUNDLE_BYTES: under Medplum's 1 MB maxJsonSize). */
  maxBundleBytes?: number;
  /**
   * The local store and outbox: needed to merge on 409/412 (the base is read with store.vread, the
   * merged result is written locally inside outbox.remote). Without them a 409/412 is a conflict record.
   */
  store?: Replica;
  outbox?: Outbox;
  /** Waits between retry rounds of failed entries (injectable for tests). */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Stops the push between Bundles (the run was stopped). */
  signal?: AbortSignal;
}

export interface PushSummary {
  pushed: number;
  held: number;
  conflicts: number;
  /** Changes that met a remote edit and were merged automatically (counted in pushed too). */
  merged: number;
  quarantined: number;
  /** Left pending for a later run (transient failures, or waiting on a dependency that failed transiently). */
  retryLater: number;
  /** Changes that stay on this workstation by design (not failures): see the header. */
  keptLocal: number;
  /** The remote refused the token (after one refresh): the run stopped. */
  unauthorized: boolean;
  /** Why changes were held, quarantined or left for later, grouped (failures.ts). */
  failures: FailureGroup[];
}

/** One outbox row as a batch entry, with what to do with its answer. */
export interface PlannedEntry {
  row: OutboxRow;
  entry: BundleEntry;
  /** Remote id of an update/delete (undefined for a create or a conditional delete). */
  remoteId?: string;
}
