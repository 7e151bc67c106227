// Consecutive failed logins per email and the lockout they trigger. Keyed by the lower-cased email, not
// by User, so an unknown email locks out exactly like a real one and the lockout tells nothing.
import { FhirError, outcome } from '../../../shared/errors.ts';
import type { Db } from '../store/types.ts';

export const MAX_FAILED_LOGINS = 5;
export const LOCKOUT_MS = 15 * 60_000;

export interface LockoutState {
  lockedUntil: number;
}

/** The lockout in force for an email at `now`, if any. */
export function activeLockout(db: Db, email: string, now: number): LockoutState | undefined {
  const row = db.prepare('SELECT locked_until FROM auth_login_failure WHERE email = ?').get(email) as
    | { locked_until: number | null }
    | undefined;
  return row?.locked_until && row.locked_until > now ? { lockedUntil: row.locked_until } : undefined;
}

/**
 * Counts one more failure; returns true when this failure starts a lockout. A lockout that has run
 * out starts the count afresh.
 */
export function recordFailure(db: Db, email: string, now: number): boolean {
  const row = db.prepare('SELECT failures, locked_until FROM auth_login_failure WHERE email = ?').get(email) as
    | { failures: number; locked_until: number | null }
    | undefined;
  const expired = row?.locked_until != null && row.locked_until <= now;
  const failures = (row && !expired ? row.failures : 0) + 1;
  const lockedUntil = failures >= MAX_FAILED_LOGINS ? now + LOCKOUT_MS : null;
  db.prepare(
    `INSERT INTO auth_login_failure (email, failures, locked_until, last_failure) VALUES (?, ?, ?, ?)
     ON CONFLICT(email) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until,
       last_failure = excluded.last_failure`,
  ).run(email, failures, lockedUntil, now);
  return lockedUntil !== null;
}

/**
 * Takes back one failure counted ahead of a check that then succeeded (see `startLogin`): the attempt
 * is not a failure, and a lockout it triggered is lifted.
 */
export function undoFailure(db: Db, email: string, lockedByIt: boolean): void {
  db.prepare(
    `UPDATE auth_login_failure SET failures = max(failures - 1, 0),
       locked_until = CASE WHEN ? THEN NULL ELSE locked_until END WHERE email = ?`,
  ).run(lockedByIt ? 1 : 0, email);
}

export function clearFailures(db: Db, email: string): void {
  db.prepare('DELETE FROM auth_login_failure WHERE email = ?').run(email);
}

export function lockedOutError(state: LockoutState, now: number): FhirError {
  const minutes = Math.max(1, Math.ceil((state.lockedUntil - now) / 60_000));
  return new FhirError(
    400,
    outcome(
      'error',
      'throttled',
      `Too many failed login attempts: this account is locked. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
    ),
  );
}
