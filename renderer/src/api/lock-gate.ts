// Holds requests while the host has locked the session (idle, screen lock, suspend): a request answered
// 401 "session-locked" waits here until the person unlocks, then is sent again with the same token.
// Without it MedplumClient would treat the 401 as a logout and throw the session away.
import type { FetchLike } from './transport.ts';

export const AUTH_OUTCOME_SYSTEM = 'https://outpost.local/fhir/CodeSystem/auth-outcome';
export const SESSION_LOCKED = 'session-locked';

export interface LockGate {
  readonly locked: boolean;
  /** Marks the session locked; `onLock` listeners run once per lock. */
  lock(): void;
  /** Releases every waiting request. */
  unlock(): void;
  /** Resolves when the session is unlocked (at once when it is not locked). */
  whenUnlocked(): Promise<void>;
  /** Drops waiting requests (logout): they fail instead of waiting forever. */
  abandon(): void;
  onLock(listener: () => void): () => void;
}

export function createLockGate(): LockGate {
  let locked = false;
  let waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const listeners = new Set<() => void>();
  return {
    get locked() {
      return locked;
    },
    lock() {
      if (!locked) {
        locked = true;
        listeners.forEach((l) => l());
      }
    },
    unlock() {
      locked = false;
      const release = waiters;
      waiters = [];
      release.forEach((w) => w.resolve());
    },
    whenUnlocked() {
      return locked ? new Promise((resolve, reject) => waiters.push({ resolve, reject })) : Promise.resolve();
    },
    abandon() {
      locked = false;
      const dropped = waiters;
      waiters = [];
      dropped.forEach((w) => w.reject(new Error('Signed out')));
    },
    onLock(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

async function isLockedResponse(response: Response): Promise<boolean> {
  if (response.status !== 401) {
    return false;
  }
  try {
    const body = (await response.clone().json()) as { issue?: { details?: { coding?: { system?: string; code?: string }[] } }[] };
    return Boolean(body.issue?.[0]?.details?.coding?.some((c) => c.system === AUTH_OUTCOME_SYSTEM && c.code === SESSION_LOCKED));
  } catch {
    return false;
  }
}

/** Wraps a fetch so session-locked answers park the request behind the gate. Lock, unlock and logout pass through. */
export function lockAwareFetch(inner: FetchLike, gate: LockGate): FetchLike {
  return async (input, init) => {
    // Locking, unlocking and signing out pass the gate (a locked session can still be signed out).
    const isUnlock = /\/auth\/((un)?lock|logout)(\?|$)/.test(String(input));
    for (;;) {
      if (!isUnlock) {
        await gate.whenUnlocked();
      }
      const response = await inner(input, init);
      if (isUnlock || !(await isLockedResponse(response))) {
        return response;
      }
      gate.lock();
    }
  };
}
