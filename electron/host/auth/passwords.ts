// Password hashing in Medplum's format (bcrypt via bcryptjs, `$2b$` / `$2a$` hashes), so a User exported
// from or synced with a Medplum server keeps working. bcryptjs compares in constant time.
import bcrypt from 'bcryptjs';
import { errors } from '../../../shared/errors.ts';

/** Medplum hashes with cost 10; each step doubles the work of an offline guessing attack. */
export const BCRYPT_COST = 10;
export const MIN_PASSWORD_LENGTH = 8;
/** bcrypt ignores everything after 72 bytes: refuse longer passwords rather than silently truncate them. */
export const MAX_PASSWORD_BYTES = 72;

/**
 * A bcrypt hash (same cost) of a random throw-away password. Verifying against it when the email is
 * unknown makes that answer take as long as a wrong password for a real account.
 */
const DUMMY_HASH = '$2b$10$NqF127mVPcIoz6RcxFWL..43p8g.VTJTrl8Ab3LJta4WTJl5LcYBa';

/** Throws a 400 naming the rule when a new password is unacceptable. */
export function assertAcceptablePassword(password: unknown): asserts password is string {
  if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH) {
    throw errors.badRequest(`Password must be at least ${MIN_PASSWORD_LENGTH} characters`, 'password');
  }
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) {
    throw errors.badRequest(`Password must be at most ${MAX_PASSWORD_BYTES} bytes`, 'password');
  }
}

export async function hashPassword(password: string): Promise<string> {
  assertAcceptablePassword(password);
  return bcrypt.hash(password, BCRYPT_COST);
}

/**
 * True when `password` matches `hash`. With no hash (unknown email, or a user without a password) it
 * still spends one bcrypt comparison and answers false, so timing does not tell the cases apart.
 */
export async function verifyPassword(password: string, hash: string | undefined): Promise<boolean> {
  if (!hash || !isBcryptHash(hash)) {
    await bcrypt.compare(password, DUMMY_HASH);
    return false;
  }
  return bcrypt.compare(password, hash);
}

function isBcryptHash(hash: string): boolean {
  return /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/.test(hash);
}
