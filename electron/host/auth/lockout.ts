// Consecutive failed password (or MFA code) checks per email, and the growing delay they impose before
// the next attempt. Keyed by the lower-cased email, not by User, so an unknown email is delayed exactly
// like a real one and the delay tells nothing.
//
// Growing delays, not a hard lock: the first FREE_ATTEMPTS failures cost nothing; each one after that
// makes the next attempt wait twice as long as the last, from FIRST_DELAY_MS up to MAX_DELAY_MS. A
// person who mistypes five times waits 30 seconds, not 15 minutes; a guesser gets at most 4 tries an
// hour once the delay has grown, as before. Attempts made while a delay runs are refused without being
// checked or counted. A success clears the count; so does an administrator (the unlock route, or
// `outpost unlock` on the workstation), which is audited.
//
// auth_login_failure (migration 10): email, failures (consecutive), locked_until (epoch ms before which
// the next attempt is refused; NULL: none), last_failure (epoch ms).
import { FhirError, outcome } from '../../../shared/errors.ts';
import type { Db } from '../db/types.ts';

/** Failures that cost nothing (typos); the next one starts the delays. */
export const FREE_ATTEMPTS = 4;
export const FIRST_DELAY_MS = 30_000;
export const MAX_DELAY_MS = 15 * 60_000;

export interface LockoutState {
  /** Epoch ms before which the next attempt is refused. */
  lockedUntil: number;
}

/** The wait imposed after `failures` consecutive failures (0: none). */
export function delayAfter(failures: number): number {
  if (failures <= FREE_ATTEMPTS) {
    return 0;
  }
  return Math.min(FIRST_DELAY_MS * 2 ** (failures - FREE_ATTEMPTS - 1), MAX_DELAY_MS);
}

/** The delay in force for an email at `now`, if any. */
export function activeLockout(db: Db, email: string, now: number): LockoutState | undefined {
  const row = db.prepare('SELECT locked_until FROM auth_login_failure WHERE email = ?').get(email) as
    | { locked_until: number | null }
    | undefined;
  return row?.locked_until && row.locked_until > now ? { lockedUntil: row.locked_until } : undefined;
}

/**
 * Counts one more failure; returns the delay it imposes before the next attempt (0: none). The count
 * is kept past a delay's end: only a success (or an administrator) resets it, so it keeps growing.
 */
export function recordFailure(db: Db, email: string, now: number): number {
  const row = db.prepare('SELECT failures FROM auth_login_failure WHERE email = ?').get(email) as { failures: number } | undefined;
  const failures = (row?.failures ?? 0) + 1;
  const delay = delayAfter(failures);
  db.prepare(
    `INSERT INTO auth_login_failure (email, failures, locked_until, last_failure) VALUES (?, ?, ?, ?)
     ON CONFLICT(email) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until,
       last_failure = excluded.last_failure`,
  ).run(email, failures, delay ? now + delay : null, now);
  return delay;
}

/**
 * Takes back one failure counted ahead of a check that then succeeded (see `startLogin`): the attempt
 * is not a failure, and the delay it imposed is lifted (any earlier one had run out, or the attempt
 * would have been refused).
 */
export function undoFailure(db: Db, email: string): void {
  db.prepare('UPDATE auth_login_failure SET failures = max(failures - 1, 0), locked_until = NULL WHERE email = ?').run(email);
}

/** Forgets an email's failures (a success). Returns whether there were any. */
export function clearFailures(db: Db, email: string): boolean {
  return db.prepare('DELETE FROM auth_login_failure WHERE email = ?').run(email).changes > 0;
}

/** The failures counted for an email and the delay in force (for the unlock's answer and audit). */
export function failureState(db: Db, email: string): { failures: number; lockedUntil: number | null } | undefined {
  return db.prepare('SELECT failures, locked_until AS lockedUntil FROM auth_login_failure WHERE email = ?').get(email) as
    | { failures: number; lockedUntil: number | null }
    | undefined;
}

function spell(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 90) {
    return `${seconds} second${seconds === 1 ? '' : 's'}`;
  }
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

export function lockedOutError(state: LockoutState, now: number): FhirError {
  return new FhirError(
    400,
    outcome(
      'error',
      'throttled',
      `Too many failed login attempts: sign-in is locked for this account. Try again in ${spell(state.lockedUntil - now)} ` +
        '(each further failure doubles the wait, up to 15 minutes; an administrator can lift it).',
    ),
  );
}

/** Words for the audit of a failure that imposed a delay. */
export function delayReason(what: string, delayMs: number): string {
  return `too many ${what}: next attempt in ${spell(delayMs)}`;
}
