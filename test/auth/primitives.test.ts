import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { isFhirError } from '../../shared/errors.ts';
import { assertAcceptablePassword, hashPassword, verifyPassword } from '../../electron/host/auth/passwords.ts';
import { createAccessToken, hashToken, pkceChallenge, randomToken, verifyPkce } from '../../electron/host/auth/tokens.ts';
import { base32Decode, base32Encode, hotp, otpauthUri, totpAt, verifyTotp } from '../../electron/host/auth/totp.ts';

describe('passwords', () => {
  it('hashes in bcrypt format (Medplum-compatible, cost >= 10) and verifies', async () => {
    const hash = await hashPassword('a-long-password');
    expect(hash).toMatch(/^\$2[ab]\$10\$/);
    expect(bcrypt.getRounds(hash)).toBeGreaterThanOrEqual(10);
    expect(await verifyPassword('a-long-password', hash)).toBe(true);
    expect(await verifyPassword('a-long-passworD', hash)).toBe(false);
  });

  it('verifies a hash made by plain bcryptjs (as Medplum stores them)', async () => {
    expect(await verifyPassword('medplum_admin', bcrypt.hashSync('medplum_admin', 10))).toBe(true);
  });

  it('refuses passwords under 8 characters (and over 72 bytes) with a 400 naming the rule', async () => {
    const short = await hashPassword('seven77').catch((e: unknown) => e);
    expect(isFhirError(short, 400)).toBe(true);
    expect(JSON.stringify((short as { outcome: unknown }).outcome)).toContain('at least 8 characters');
    expect(() => assertAcceptablePassword('x'.repeat(73))).toThrow(/at most 72 bytes/);
    expect(() => assertAcceptablePassword('eight888')).not.toThrow();
  });

  it('answers false without a hash (unknown user) after doing the same bcrypt work', async () => {
    expect(await verifyPassword('whatever-password', undefined)).toBe(false);
    expect(await verifyPassword('whatever-password', 'not-a-hash')).toBe(false);
  });
});

describe('TOTP (RFC 6238)', () => {
  // RFC 6238 Appendix B: the seeds are ASCII strings, 8-digit codes.
  const seeds = {
    sha1: base32Encode(Buffer.from('12345678901234567890')),
    sha256: base32Encode(Buffer.from('12345678901234567890123456789012')),
    sha512: base32Encode(Buffer.from('1234567890123456789012345678901234567890123456789012345678901234')),
  } as const;
  const vectors: [number, string, string, string][] = [
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ];
  it.each(vectors)('T=%i', (seconds, sha1, sha256, sha512) => {
    expect(totpAt(seeds.sha1, seconds * 1000, { digits: 8 })).toBe(sha1);
    expect(totpAt(seeds.sha256, seconds * 1000, { digits: 8, algorithm: 'sha256' })).toBe(sha256);
    expect(totpAt(seeds.sha512, seconds * 1000, { digits: 8, algorithm: 'sha512' })).toBe(sha512);
  });

  it('matches RFC 4226 HOTP vectors (6 digits)', () => {
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    expected.forEach((code, counter) => expect(hotp(Buffer.from('12345678901234567890'), counter)).toBe(code));
  });

  it('accepts the current step and one step either side, nothing further, and returns the step', () => {
    const secret = seeds.sha1;
    const t = 1_700_000_000_000;
    expect(verifyTotp(secret, totpAt(secret, t), t)).toBe(Math.floor(t / 30_000));
    expect(verifyTotp(secret, totpAt(secret, t - 30_000), t)).toBeDefined();
    expect(verifyTotp(secret, totpAt(secret, t + 30_000), t)).toBeDefined();
    expect(verifyTotp(secret, totpAt(secret, t - 60_000), t)).toBeUndefined();
    expect(verifyTotp(secret, totpAt(secret, t + 60_000), t)).toBeUndefined();
    expect(verifyTotp(secret, '12345', t)).toBeUndefined();
    expect(verifyTotp(secret, 'abcdef', t)).toBeUndefined();
  });

  it('round-trips base32 and builds an otpauth URI', () => {
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 253, 254, 255]);
    expect(base32Decode(base32Encode(bytes)).equals(bytes)).toBe(true);
    expect(base32Encode(Buffer.from('foobar'))).toBe('MZXW6YTBOI'); // RFC 4648 §10 (without padding)
    expect(base32Decode('mzxw 6ytb oi======').toString()).toBe('foobar');
    const uri = otpauthUri('JBSWY3DPEHPK3PXP', 'sarah@example.org');
    expect(uri).toMatch(/^otpauth:\/\/totp\/Outpost%3Asarah%40example\.org\?/);
    expect(new URL(uri).searchParams.get('secret')).toBe('JBSWY3DPEHPK3PXP');
  });
});

describe('tokens and PKCE', () => {
  it('PKCE S256 matches the RFC 7636 Appendix B vector', () => {
    const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    expect(pkceChallenge(verifier, 'S256')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    expect(verifyPkce(verifier, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', 'S256')).toBe(true);
    expect(verifyPkce(verifier.replace('d', 'e'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', 'S256')).toBe(false);
  });

  it('PKCE plain compares the verifier itself; malformed verifiers never pass', () => {
    const verifier = 'a'.repeat(43);
    expect(verifyPkce(verifier, verifier, 'plain')).toBe(true);
    expect(verifyPkce('short', 'short', 'plain')).toBe(false);
    expect(verifyPkce('b'.repeat(43), verifier, 'plain')).toBe(false);
  });

  it('random tokens are 32 bytes base64url; hashes are SHA-256 base64url', () => {
    const token = randomToken();
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(randomToken()).not.toBe(token);
    expect(hashToken('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });

  it('access tokens are JWT-shaped with login_id and exp (what MedplumClient reads) and a random third part', () => {
    const { token, hash } = createAccessToken({ login_id: 's1', sub: 'User/u', profile: 'Practitioner/p', project: 'Project/x', iat: 1, exp: 2 });
    const [header, payload, secret] = token.split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString()).typ).toBe('JWT');
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString())).toMatchObject({ login_id: 's1', exp: 2 });
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(hash).toBe(hashToken(token));
  });
});
