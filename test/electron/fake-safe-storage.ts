// A stand-in for Electron's safeStorage: reversible "sealing" bound to one fake keychain secret, so a blob
// sealed by one keychain cannot be opened by another (as on a copied data folder).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SafeStorageLike } from '../../electron/shell/key-storage.ts';

export interface FakeSafeStorage extends SafeStorageLike {
  available: boolean;
  backend: string;
  encryptCalls: number;
  decryptCalls: number;
}

export function createFakeSafeStorage(secret: Buffer = randomBytes(32)): FakeSafeStorage {
  const storage: FakeSafeStorage = {
    available: true,
    backend: 'gnome_libsecret',
    encryptCalls: 0,
    decryptCalls: 0,
    isEncryptionAvailable: () => storage.available,
    getSelectedStorageBackend: () => storage.backend,
    encryptString(plainText: string): Buffer {
      storage.encryptCalls++;
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', secret, iv);
      const body = Buffer.concat([cipher.update(plainText, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    decryptString(encrypted: Buffer): string {
      storage.decryptCalls++;
      const decipher = createDecipheriv('aes-256-gcm', secret, encrypted.subarray(0, 12));
      decipher.setAuthTag(encrypted.subarray(12, 28));
      return Buffer.concat([decipher.update(encrypted.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
  return storage;
}
