// Sync's secrets (remote tokens, client secrets) sealed by the OS keychain through Electron's
// safeStorage, as the database key is (key-storage.ts). Undefined when the keychain does not really
// protect anything here: the host then falls back to its 0600 key file in the data folder.
import type { SecretSealer } from '../host/sync/config.ts';
import { keychainUsable, type SafeStorageLike } from './key-storage.ts';

export function safeStorageSealer(safeStorage: SafeStorageLike, platform: NodeJS.Platform = process.platform): SecretSealer | undefined {
  if (!keychainUsable(safeStorage, platform)) {
    return undefined;
  }
  return {
    // safeStorage seals strings: base64 keeps any bytes intact.
    seal: (plain) => safeStorage.encryptString(plain.toString('base64')),
    unseal: (sealed) => Buffer.from(safeStorage.decryptString(sealed), 'base64'),
  };
}
