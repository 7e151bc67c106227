// The renderer's one client: MedplumClient from @medplum/core over whichever transport the window has.
// Only the zustand stores call it. Nothing is persisted: tokens live in memory for the session only.
import { ClientStorage, MedplumClient, MemoryStorage } from '@medplum/core';
import { lockAwareFetch, type LockGate } from './lock-gate.ts';
import type { Transport } from './transport.ts';

export interface ClientOptions {
  transport: Transport;
  gate: LockGate;
  /** Called when the host no longer knows the session (expired, ended by an admin, logged out elsewhere). */
  onUnauthenticated?: () => void;
}

export function createOutpostClient(options: ClientOptions): MedplumClient {
  return new MedplumClient({
    baseUrl: options.transport.baseUrl,
    fetch: lockAwareFetch(options.transport.fetch, options.gate),
    storage: new ClientStorage(new MemoryStorage()),
    // Every view reads fresh data: a role switch or another window's write must show at once.
    cacheTime: 0,
    onUnauthenticated: options.onUnauthenticated,
  });
}
