// The sync panel: online/offline, last sync, the outbox of pending changes and conflicts. The sync
// module (a later issue) fills it in; until the host has the endpoint the panel says so in words.
import type { MedplumClient } from '@medplum/core';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { errorText, isNotFound } from '../api/outcome.ts';

/** Expected from the sync issue: GET answers SyncStatus; POST `conflicts/<id>/resolve` {keep: 'local'|'remote'}. */
export const SYNC_PATH = 'outpost/sync';

export interface OutboxItem {
  id: string;
  resourceType: string;
  resourceId: string;
  operation: 'create' | 'update' | 'delete' | string;
  changedAt?: string;
}

export interface SyncConflict {
  id: string;
  resourceType: string;
  resourceId: string;
  local?: Record<string, unknown>;
  remote?: Record<string, unknown>;
  message?: string;
}

export interface SyncStatus {
  online: boolean;
  lastSync?: string;
  pending: OutboxItem[];
  conflicts: SyncConflict[];
}

export interface SyncState {
  status?: SyncStatus;
  unavailable: boolean;
  loading: boolean;
  error?: string;
  progress?: { phase: string; done: number; total?: number; message?: string };
  load(): Promise<void>;
  resolve(conflictId: string, keep: 'local' | 'remote'): Promise<void>;
  setProgress(progress: SyncState['progress']): void;
  reset(): void;
}

export function createSyncStore(medplum: MedplumClient): StoreApi<SyncState> {
  return createStore<SyncState>((set, get) => ({
    unavailable: false,
    loading: false,

    async load() {
      set({ loading: true, error: undefined });
      try {
        const status = (await medplum.get(`${SYNC_PATH}/status`, { cache: 'no-cache' })) as SyncStatus;
        set({ status: { online: Boolean(status.online), lastSync: status.lastSync, pending: status.pending ?? [], conflicts: status.conflicts ?? [] }, loading: false, unavailable: false });
      } catch (err) {
        set({ loading: false, unavailable: isNotFound(err), error: isNotFound(err) ? undefined : errorText(err) });
      }
    },

    async resolve(conflictId, keep) {
      try {
        await medplum.post(`${SYNC_PATH}/conflicts/${encodeURIComponent(conflictId)}/resolve`, { keep });
        await get().load();
      } catch (err) {
        set({ error: errorText(err) });
      }
    },

    setProgress(progress) {
      set({ progress });
    },

    reset() {
      set({ status: undefined, unavailable: false, loading: false, error: undefined, progress: undefined });
    },
  }));
}
