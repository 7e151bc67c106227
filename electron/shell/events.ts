// The event channel, main side: the host (or main) emits, every live app window receives.
import { EVENT_CHANNEL, type BridgeEvent, type EmitBridgeEvent } from '../../shared/contract/bridge.ts';

/** The part of Electron's WebContents the broadcaster uses. */
export interface EventTarget {
  isDestroyed(): boolean;
  send(channel: string, ...args: unknown[]): void;
  getURL(): string;
}

/**
 * Returns the `emit` handed to the host. Windows that are gone are skipped, and so is any page that is
 * not the app's own (defence in depth: navigation is denied anyway).
 */
export function createEventBroadcaster(targets: () => readonly EventTarget[], isAppPage: (url: string) => boolean): EmitBridgeEvent {
  return (event, payload) => {
    const message: BridgeEvent = { event, payload } as BridgeEvent;
    for (const target of targets()) {
      if (!target.isDestroyed() && isAppPage(target.getURL())) {
        target.send(EVENT_CHANNEL, message);
      }
    }
  };
}
