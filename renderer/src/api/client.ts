// The renderer's one client: MedplumClient from @medplum/core over whichever transport the window has.
// Only the zustand stores call it. The login (tokens, the role list) lives in the tab's sessionStorage when
// given one, as Medplum's app keeps it in its storage: a reload keeps the session (the host still locks
// it when idle), closing the tab or signing out forgets it (MedplumClient.clear empties the storage).
import { ClientStorage, MedplumClient, MemoryStorage } from '@medplum/core';
import { lockAwareFetch, type LockGate } from './lock-gate.ts';
import { sessionGuardFetch } from './session-guard.ts';
import type { Transport } from './transport.ts';

export interface ClientOptions {
  transport: Transport;
  gate: LockGate;
  /**
   * Called when the host no longer knows the session (expired, ended by an admin, logged out elsewhere):
   * a 401 with no refresh token, or a refresh the host refused. Called on the next task, after the failed
   * request has been handled by its store, so clearing the stores is the last word.
   */
  onUnauthenticated?: () => void;
  /** Where the login is kept across reloads (over the tab's sessionStorage); memory only without it. */
  storage?: ClientStorage;
}

export function createOutpostClient(options: ClientOptions): MedplumClient {
  const ended = (): void => {
    if (options.onUnauthenticated) {
      setTimeout(options.onUnauthenticated, 0);
    }
  };
  return new MedplumClient({
    baseUrl: options.transport.baseUrl,
    fetch: sessionGuardFetch(lockAwareFetch(options.transport.fetch, options.gate), () => options.onUnauthenticated?.()),
    storage: options.storage ?? new ClientStorage(new MemoryStorage()),
    // Every view reads fresh data: a role switch or another window's write must show at once.
    cacheTime: 0,
    onUnauthenticated: ended,
  });
}
