// All the renderer's stores, made together over one client. Logout and role switch clear every store
// except the session itself (which resets its own state).
import type { ClientStorage, MedplumClient } from '@medplum/core';
import type { StoreApi } from 'zustand/vanilla';
import { createHostApi } from '../api/host-api.ts';
import type { LockGate } from '../api/lock-gate.ts';
import { createAdminStore, type AdminState } from './admin.ts';
import { createAuditStore, type AuditState } from './audit.ts';
import { createChartStore, type ChartState } from './chart.ts';
import { createPatientsStore, type PatientsState } from './patients.ts';
import { createSessionStore, type SessionState } from './session.ts';
import { createSyncStore, type SyncState } from './sync.ts';
import { createTransferStore, type TransferState } from './transfer.ts';

export interface Stores {
  session: StoreApi<SessionState>;
  patients: StoreApi<PatientsState>;
  chart: StoreApi<ChartState>;
  admin: StoreApi<AdminState>;
  audit: StoreApi<AuditState>;
  sync: StoreApi<SyncState>;
  transfer: StoreApi<TransferState>;
}

export interface StoreOptions {
  /** Opens the home page (a new role, a sign-out), or the page given. */
  goHome?: (hash?: string) => void;
  /** The client's storage: the session keeps its role list there, beside MedplumClient's login. */
  storage?: ClientStorage;
}

export function createStores(medplum: MedplumClient, gate: LockGate, options: StoreOptions = {}): Stores {
  // The host's own API (sign-in, administration, sync, import) through the contract's typed client.
  const api = createHostApi(medplum);
  const patients = createPatientsStore(medplum);
  const chart = createChartStore(medplum);
  const admin = createAdminStore(medplum, api);
  const audit = createAuditStore(medplum);
  const sync = createSyncStore(medplum, api);
  const transfer = createTransferStore(medplum, api);
  const clearOthers = (): void => {
    for (const s of [patients, chart, admin, audit, sync, transfer]) {
      s.getState().reset();
    }
  };
  const session = createSessionStore(medplum, api, gate, clearOthers, options);
  return { session, patients, chart, admin, audit, sync, transfer };
}
