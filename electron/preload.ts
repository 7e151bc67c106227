// Preload (sandboxed, context-isolated): exposes exactly one object to the renderer, `window.outpost`,
// with `request` (the host's door over the one IPC request channel) and `on` (the event channel).
// No ipcRenderer, no Node, no raw IPC event ever reaches the page.
import { contextBridge, ipcRenderer } from 'electron';
import {
  EVENT_CHANNEL,
  REQUEST_CHANNEL,
  isBridgeEventName,
  type BridgeEvent,
  type BridgeEventName,
  type OutpostBridge,
} from '../shared/contract/bridge.ts';
import type { HostRequest, HostResponse } from '../shared/contract/host.ts';

/** The part of ipcRenderer the bridge uses. */
export interface BridgeIpc {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

function isBridgeEvent(message: unknown): message is BridgeEvent {
  return message !== null && typeof message === 'object' && isBridgeEventName((message as { event?: unknown }).event);
}

/**
 * Builds the bridge object. One ipcRenderer listener serves every subscription (added with the first,
 * removed with the last), and callbacks receive the payload only.
 */
export function createBridge(ipc: BridgeIpc): OutpostBridge {
  const subscribers = new Map<BridgeEventName, Set<(payload: never) => void>>();
  const dispatch = (_event: unknown, message: unknown) => {
    if (!isBridgeEvent(message)) {
      return;
    }
    for (const callback of [...(subscribers.get(message.event) ?? [])]) {
      try {
        callback(message.payload as never);
      } catch {
        // One failing subscriber must not keep the others from hearing the event.
      }
    }
  };
  const subscriberCount = () => [...subscribers.values()].reduce((n, set) => n + set.size, 0);

  return {
    request(envelope: HostRequest): Promise<HostResponse> {
      return ipc.invoke(REQUEST_CHANNEL, envelope) as Promise<HostResponse>;
    },
    on(event, callback) {
      if (!isBridgeEventName(event)) {
        throw new TypeError(`Unknown Outpost event: ${String(event)}`);
      }
      if (typeof callback !== 'function') {
        throw new TypeError('The callback must be a function');
      }
      if (subscriberCount() === 0) {
        ipc.on(EVENT_CHANNEL, dispatch);
      }
      const set = subscribers.get(event) ?? new Set();
      subscribers.set(event, set);
      // A wrapper per subscription, so subscribing the same function twice gives two independent handles.
      const entry = (payload: never) => callback(payload);
      set.add(entry);
      let active = true;
      return () => {
        if (!active) {
          return;
        }
        active = false;
        set.delete(entry);
        if (subscriberCount() === 0) {
          ipc.removeListener(EVENT_CHANNEL, dispatch);
        }
      };
    },
  };
}

contextBridge.exposeInMainWorld('outpost', createBridge(ipcRenderer));
