// A real host (':memory:') with the auth routes mounted and the test clinic seeded, reachable through a
// stand-in of the Electron bridge (window.outpost) that calls host.handle, as main's IPC handler does.
import { MemoryStorage } from '@medplum/core';
import type { OutpostBridge } from '../../shared/contract/bridge.ts';
import { createHost, type Host } from '../../electron/host/host.ts';
import { seedClinic, type SeededClinic } from '../e2e/seed.ts';

export interface TestHost {
  host: Host;
  bridge: OutpostBridge;
  clinic: SeededClinic;
  /** Moves the auth clock forward (idle lock). */
  advance(ms: number): void;
  close(): void;
}

export function createTestHost(options: { idleLockMs?: number } = {}): TestHost {
  // MedplumClient keeps the PKCE verifier in sessionStorage, which Node lacks.
  const g = globalThis as { sessionStorage?: Storage };
  g.sessionStorage ??= new MemoryStorage() as unknown as Storage;
  let offset = 0;
  const clock = (): Date => new Date(Date.now() + offset);
  // The host mounts the auth routes itself (issue 3); the clock drives sessions and idle lock.
  const host = createHost({ dataDir: ':memory:', clock, authOptions: { idleLockMs: options.idleLockMs } });
  const clinic = seedClinic(host.rawStore);
  const bridge: OutpostBridge = {
    request: (envelope) => host.handle(envelope),
    on: () => () => undefined,
  };
  return {
    host,
    bridge,
    clinic,
    advance: (ms) => {
      offset += ms;
    },
    close: () => host.close(),
  };
}
