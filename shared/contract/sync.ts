// What the host's sync reports while it runs: in `GET outpost/sync/status` (`progress`) and, without
// `type`, in the bridge's `sync-progress` event. One shape for the runner and the sync panel.

export interface SyncProgress {
  /** push, audit, pull, tenant... */
  phase: string;
  done: number;
  total?: number;
  /** The resource type being pulled, when the phase has one. */
  type?: string;
  message?: string;
}
