// Auto-lock: the sessions in the host are locked when the screen locks, the machine suspends, or the
// person has been idle too long, so an unattended clinic workstation does not stay signed in.
// powerMonitor and the timers are passed in: this file never imports 'electron'.
import type { LockReason } from '../../shared/contract/bridge.ts';

/** The part of Electron's `powerMonitor` used here. */
export interface PowerMonitorLike {
  on(event: 'lock-screen' | 'suspend', listener: () => void): unknown;
  removeListener(event: 'lock-screen' | 'suspend', listener: () => void): unknown;
  /** Seconds since the last keyboard or mouse input, system-wide. */
  getSystemIdleTime(): number;
}

export interface Timers {
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface AutoLockOptions {
  powerMonitor: PowerMonitorLike;
  /** Locks every session (host.lockAllSessions) and tells the renderer; errors are the caller's to log. */
  lock: (reason: LockReason) => void | Promise<void>;
  /** Idle seconds after which sessions lock; 0 disables the idle check. Default 15 minutes. */
  idleSeconds?: number;
  /** How often idle time is sampled. Default 15 s. */
  pollMs?: number;
  timers?: Timers;
  onError?: (err: unknown) => void;
}

export const DEFAULT_IDLE_LOCK_SECONDS = 15 * 60;

export interface AutoLock {
  stop(): void;
}

export function startAutoLock(options: AutoLockOptions): AutoLock {
  const { powerMonitor } = options;
  const idleSeconds = options.idleSeconds ?? DEFAULT_IDLE_LOCK_SECONDS;
  const timers: Timers = options.timers ?? {
    setInterval: (callback, ms) => {
      const handle = setInterval(callback, ms);
      handle.unref?.();
      return handle;
    },
    clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
  };
  // Idle locks once per idle stretch: after locking, it waits for input before it can lock again.
  let lockedForThisIdle = false;

  const lock = (reason: LockReason) => {
    try {
      Promise.resolve(options.lock(reason)).catch((err) => options.onError?.(err));
    } catch (err) {
      options.onError?.(err);
    }
  };
  const onLockScreen = () => lock('lock-screen');
  const onSuspend = () => lock('suspend');
  powerMonitor.on('lock-screen', onLockScreen);
  powerMonitor.on('suspend', onSuspend);

  const interval =
    idleSeconds > 0
      ? timers.setInterval(() => {
          const idle = powerMonitor.getSystemIdleTime();
          if (idle >= idleSeconds) {
            if (!lockedForThisIdle) {
              lockedForThisIdle = true;
              lock('idle');
            }
          } else {
            lockedForThisIdle = false;
          }
        }, options.pollMs ?? 15_000)
      : undefined;

  return {
    stop() {
      powerMonitor.removeListener('lock-screen', onLockScreen);
      powerMonitor.removeListener('suspend', onSuspend);
      if (interval !== undefined) {
        timers.clearInterval(interval);
      }
    },
  };
}
