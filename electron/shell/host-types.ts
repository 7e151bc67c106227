// What the shell needs of the host (electron/host/host.ts): its one door, a way to close, and, when the
// auth layer provides it, a way to lock every session. The shell is coded against this shape so it can
// be tested with a fake host and so it does not care where the host runs (its own process in the app:
// host-client.ts; in this process behind the port: host-serve.ts).
import type { EmitBridgeEvent } from '../../shared/contract/bridge.ts';
import type { HostRequest, HostResponse } from '../../shared/contract/host.ts';

export interface ShellHost {
  handle(request: HostRequest): Promise<HostResponse>;
  close(): void | Promise<void>;
  /** Locks every open session (auto-lock). Optional: a host without sessions has nothing to lock.
   *  Whatever it returns (the host answers how many it locked) is ignored. */
  lockAllSessions?(): unknown;
}

export interface ShellHostOptions {
  /** Where the host keeps its database (Electron: `app.getPath('userData')`). */
  dataDir: string;
  /** The database key (from the OS keychain); the store encrypts the file with it. */
  key?: string;
  /** Pushes an event to the renderer (sync progress, lock, role change). */
  emit?: EmitBridgeEvent;
  /** The OS keychain keeps `key`: the host seals sync's secrets with a key derived from it (else its 0600 key file). */
  keychain?: boolean;
  /** Sync in the background while the app runs. */
  sync?: { background?: boolean };
}

export type HostFactory = (options: ShellHostOptions) => ShellHost | Promise<ShellHost>;
