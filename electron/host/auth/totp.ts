// RFC 6238 TOTP (HOTP of RFC 4226 over 30-second steps) with node:crypto, base32 secrets (RFC 4648)
// as authenticator apps expect them, and the otpauth:// URI they scan at enrolment.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

export interface TotpOptions {
  /** Step length in seconds (RFC 6238 default 30). */
  stepSeconds?: number;
  digits?: number;
  algorithm?: TotpAlgorithm;
}

const DEFAULTS: Required<TotpOptions> = { stepSeconds: 30, digits: 6, algorithm: 'sha1' };

export function base32Encode(data: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of data) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) {
    out += BASE32_ALPHABET[(value << (5 - bits)) & 31];
  }
  return out;
}

/** Decodes base32, tolerating lower case, spaces and '=' padding (as people type them); throws on other characters. */
export function base32Decode(text: string): Buffer {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const index = BASE32_ALPHABET.indexOf(ch);
    if (index < 0) {
      throw new Error('Invalid base32 character');
    }
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** A new random secret: 20 bytes (160 bits, RFC 4226's recommendation for SHA-1), base32. */
export function generateTotpSecret(): string {
  return base32Encode(randomBytes(20));
}

/** RFC 4226 HOTP value for a counter, zero-padded to `digits`. */
export function hotp(key: Uint8Array, counter: number, digits = 6, algorithm: TotpAlgorithm = 'sha1'): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, key).update(message).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
  return binary.toString().padStart(digits, '0');
}

export function totpStep(timeMs: number, stepSeconds = DEFAULTS.stepSeconds): number {
  return Math.floor(timeMs / 1000 / stepSeconds);
}

/** The TOTP code of a base32 secret at a time. */
export function totpAt(secretBase32: string, timeMs: number, options: TotpOptions = {}): string {
  const o = { ...DEFAULTS, ...options };
  return hotp(base32Decode(secretBase32), totpStep(timeMs, o.stepSeconds), o.digits, o.algorithm);
}

/**
 * Checks a code against the steps around `timeMs` (±`window`, default one step for clock drift).
 * Returns the matching step (callers refuse a step already used, so a code cannot be replayed), or
 * undefined. Every candidate is compared in constant time.
 */
export function verifyTotp(
  secretBase32: string,
  code: string,
  timeMs: number,
  options: TotpOptions & { window?: number } = {},
): number | undefined {
  const o = { ...DEFAULTS, ...options };
  const window = options.window ?? 1;
  if (!new RegExp(`^\\d{${o.digits}}$`).test(code)) {
    return undefined;
  }
  const key = base32Decode(secretBase32);
  const current = totpStep(timeMs, o.stepSeconds);
  let matched: number | undefined;
  for (let step = current - window; step <= current + window; step++) {
    const expected = Buffer.from(hotp(key, step, o.digits, o.algorithm));
    if (timingSafeEqual(expected, Buffer.from(code)) && matched === undefined) {
      matched = step;
    }
  }
  return matched;
}

/** The otpauth:// URI an authenticator app reads (usually from a QR code) to enrol the secret. */
export function otpauthUri(secretBase32: string, accountName: string, issuer = 'Outpost'): string {
  const label = encodeURIComponent(`${issuer}:${accountName}`);
  const params = new URLSearchParams({ secret: secretBase32, issuer, algorithm: 'SHA1', digits: '6', period: '30' });
  return `otpauth://totp/${label}?${params.toString()}`;
}
