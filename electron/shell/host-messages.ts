// What Electron's main process and the host process say to each other. The host (store, search,
// access, auth, audit, sync: synchronous SQLite) runs in its own process, Electron's utilityProcess, so
// an import, a tenant pull or a slow query never stops a window from repainting; main keeps the windows,
// the app:// protocol, the keys and the IPC checks, and hands each checked request over this port.
//
// One message shape for every transport: Electron's parentPort in the app, Node's IPC channel
// (serialization 'advanced', the same structured clone) when tests run the entry as a child process.
import type { BridgeEvent } from '../../shared/contract/bridge.ts';
import type { HostRequest, HostResponse } from '../../shared/contract/host.ts';

/** How main starts the host: sent once, as the first message, never on the command line or in the environment. */
export interface HostStart {
  dataDir: string;
  /** The database key main unsealed from the OS keychain (absent: the host's own key file). */
  key?: string;
  /** The key is kept by the OS keychain: sync's secrets are then sealed with a key derived from it. */
  keychain?: boolean;
  /** Sync in the background while the app runs. */
  sync?: { background?: boolean };
}

/** main -> host. Every message but `start` carries an id its answer repeats. */
export type ToHost =
  | { type: 'start'; start: HostStart }
  | { type: 'request'; id: number; request: HostRequest }
  | { type: 'lock-all'; id: number }
  | { type: 'ping'; id: number }
  | { type: 'close'; id: number }
  | { type: 'unsealed'; id: number; secrets: (string | null)[] };

/** host -> main. */
export type FromHost =
  | { type: 'ready' }
  | { type: 'start-failed'; message: string }
  | { type: 'response'; id: number; response: HostResponse }
  | { type: 'done'; id: number }
  | { type: 'pong'; id: number }
  | { type: 'event'; event: BridgeEvent }
  | { type: 'log'; message: string }
  /** Secrets sealed by the OS keychain before the host had its own process: main unseals them (base64 in, utf8 out). */
  | { type: 'unseal'; id: number; sealed: string[] };

/** One end of the channel, whatever carries it. */
export interface HostPort<In, Out> {
  post(message: Out): void;
  onMessage(listener: (message: In) => void): void;
  /** The other end is gone (Node's IPC channel closed: its parent died). Electron ends a utility process with its app. */
  onGone?(listener: () => void): void;
}

/** Electron's `process.parentPort` in a utility process (typed here: this file never imports 'electron'). */
export interface ParentPortLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
}

/** The host process's end: Electron's parentPort in the app, Node's IPC channel in a child process. */
export function hostSidePort(proc: NodeJS.Process & { parentPort?: ParentPortLike }): HostPort<ToHost, FromHost> {
  const parentPort = proc.parentPort;
  if (parentPort) {
    return {
      post: (message) => parentPort.postMessage(message),
      onMessage: (listener) => void parentPort.on('message', (event) => listener(event.data as ToHost)),
    };
  }
  if (!proc.send) {
    throw new Error('The host process was started without a channel to main (no parentPort, no IPC)');
  }
  return {
    post: (message) => void (proc.connected && proc.send!(message)),
    onMessage: (listener) => void proc.on('message', (message) => listener(message as ToHost)),
    onGone: (listener) => void proc.once('disconnect', listener),
  };
}
