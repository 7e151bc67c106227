// Secrets sealed at rest (sync's remote tokens and client secrets, the audit spill file): AES-256-GCM
// with a 32-byte key, from one of three places: derived from the database key (the desktop app, where
// the OS keychain keeps that key, and the audit spill file), a 0600 key file in the data folder
// (browser mode and the CLI), or memory (an in-memory host).
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { errors } from '../../shared/errors.ts';

/** Seals and unseals secrets at rest (the host's `secretSealer` option). */
export interface SecretSealer {
  seal(plain: Buffer): Buffer;
  unseal(sealed: Buffer): Buffer;
}

/** AES-256-GCM with one 32-byte key: iv (12) | tag (16) | ciphertext. */
export function aesSealer(key: Buffer): SecretSealer {
  if (key.length !== 32) {
    throw errors.internal('A sealing key must be 32 bytes');
  }
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    unseal(sealed) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
        decipher.setAuthTag(sealed.subarray(12, 28));
        return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
      } catch {
        throw errors.internal('A stored secret cannot be unsealed (was its key replaced?): configure it again');
      }
    },
  };
}

/** A sealer whose key is derived (HKDF-SHA256) from the database key, one key per `purpose`. */
export function derivedSealer(databaseKey: string, purpose: string): SecretSealer {
  return aesSealer(Buffer.from(hkdfSync('sha256', databaseKey, 'outpost', purpose, 32)));
}

/**
 * A sealer whose key lives in `file` (hex, mode 0600), created the first time a secret is sealed
 * (exclusively, so two processes cannot write different keys).
 */
export function keyFileSealer(file: string): SecretSealer {
  let sealer: SecretSealer | undefined;
  const load = (create: boolean): SecretSealer => {
    if (sealer) {
      return sealer;
    }
    if (!existsSync(file)) {
      if (!create) {
        throw errors.internal(`The key file ${file} is missing: configure the secrets it sealed again`);
      }
      try {
        writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
        chmodSync(file, 0o600); // the umask may have taken bits away, never added: make it exact
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw err;
        }
      }
    }
    const hex = readFileSync(file, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/.test(hex)) {
      throw errors.internal(`The key file ${file} is damaged`);
    }
    sealer = aesSealer(Buffer.from(hex, 'hex'));
    return sealer;
  };
  return {
    seal: (plain) => load(true).seal(plain),
    unseal: (sealed) => load(false).unseal(sealed),
  };
}

/** An in-memory database (tests): a random key that lives as long as the host. */
export function memorySealer(): SecretSealer {
  return aesSealer(randomBytes(32));
}
