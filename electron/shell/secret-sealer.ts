// Sync's secrets (remote tokens, client secrets) as Electron's safeStorage (the OS keychain) sealed them
// before the host had its own process. The host now seals them with a key derived from the keychain's
// database key, and asks main once, at its start, to unseal the old ones with this (reseal-secrets.ts).
// Undefined when the keychain does not really protect anything here: no secret was sealed by it then.
import type { SecretSealer } from '../host/sealing.ts';
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
