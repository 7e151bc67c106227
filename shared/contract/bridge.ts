// The Electron bridge: what the preload exposes to the renderer as `window.outpost`, and the two IPC
// channels behind it. One request channel (the host's door, see ./host.ts) and one event channel
// (main -> renderer). Nothing else of Node or Electron reaches the renderer.
import type { HostRequest, HostResponse } from './host.ts';
import type { SyncProgress } from './sync.ts';

/** renderer -> main, `ipcRenderer.invoke`: a HostRequest in, a HostResponse out (errors as OperationOutcome). */
export const REQUEST_CHANNEL = 'outpost:request';
/** main -> renderer, `webContents.send`: one BridgeEvent per message. */
export const EVENT_CHANNEL = 'outpost:event';

/** The payload of each event the main process can push to the renderer. */
export interface BridgeEventPayloads {
  /** Sync is running: `done` of `total` items of `phase` (push, pull, audit). */
  'sync-progress': Omit<SyncProgress, 'type'>;
  /** Every session was locked (screen locked, machine suspended, idle too long): show the unlock screen. */
  lock: { reason: LockReason };
  /** The active membership (role) changed, possibly from another window or by the host itself. */
  'role-change': { membershipId?: string; profile?: string };
}

export type LockReason = 'lock-screen' | 'suspend' | 'idle' | 'manual';

export type BridgeEventName = keyof BridgeEventPayloads;

export const BRIDGE_EVENT_NAMES: readonly BridgeEventName[] = ['sync-progress', 'lock', 'role-change'];

/** What travels on EVENT_CHANNEL. */
export interface BridgeEvent<E extends BridgeEventName = BridgeEventName> {
  event: E;
  payload: BridgeEventPayloads[E];
}

/** How the host (or anything in main) announces an event; main fans it out to the app's windows. */
export type EmitBridgeEvent = <E extends BridgeEventName>(event: E, payload: BridgeEventPayloads[E]) => void;

export function isBridgeEventName(value: unknown): value is BridgeEventName {
  return typeof value === 'string' && (BRIDGE_EVENT_NAMES as readonly string[]).includes(value);
}

/** `window.outpost` in Electron. The renderer's transport uses it when present, HTTP otherwise. */
export interface OutpostBridge {
  /** Sends one request to the host; always resolves with a response (failures are OperationOutcome bodies). */
  request(envelope: HostRequest): Promise<HostResponse>;
  /** Subscribes to one event; returns the function that unsubscribes. The callback gets the payload only. */
  on<E extends BridgeEventName>(event: E, callback: (payload: BridgeEventPayloads[E]) => void): () => void;
}
