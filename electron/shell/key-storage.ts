// The database key of the desktop app, kept with Electron's safeStorage (the OS keychain: Keychain on
// macOS, DPAPI on Windows, libsecret/kwallet on Linux). Only the sealed blob is written to userData, so a
// copied data folder alone does not open the database. safeStorage is passed in: this file never
// imports 'electron'.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errors } from '../../shared/errors.ts';
import { KEY_FILE, readOrCreateDatabaseKey } from '../host/paths.ts';

/** The sealed (keychain-encrypted) database key, beside the database in userData. */
export const SEALED_KEY_FILE = 'outpost.key.sealed';

/** Generated keys are 64 hex characters; an adopted key file may hold a passphrase, so only bound the length. */
const MAX_KEY_CHARS = 1024;

/** The part of Electron's `safeStorage` used here. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only: 'basic_text' means no keyring was found and Electron would "encrypt" with a fixed password. */
  getSelectedStorageBackend?(): string;
}

/** Where the key is protected: by the OS keychain, or (no keychain on this machine) a 0600 key file. */
export type KeyProtection = 'os-keychain' | 'key-file';

export interface DatabaseKey {
  key: string;
  protection: KeyProtection;
  /** True when this call generated the key (first run). */
  created: boolean;
}

export interface DatabaseKeyOptions {
  dataDir: string;
  safeStorage: SafeStorageLike;
  platform?: NodeJS.Platform;
}

/** Whether safeStorage really protects secrets here (a hard-coded-password backend does not). */
export function keychainUsable(safeStorage: SafeStorageLike, platform: NodeJS.Platform): boolean {
  if (!safeStorage.isEncryptionAvailable()) {
    return false;
  }
  return !(platform === 'linux' && safeStorage.getSelectedStorageBackend?.() === 'basic_text');
}

function newKey(): string {
  return randomBytes(32).toString('hex');
}

/** Seals and writes the key (temporary file + rename: a crash never leaves a truncated blob), then reads it back. */
function writeSealedKey(file: string, key: string, safeStorage: SafeStorageLike): void {
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, safeStorage.encryptString(key), { mode: 0o600 });
  if (safeStorage.decryptString(readFileSync(temporary)) !== key) {
    unlinkSync(temporary);
    throw errors.internal('The OS keychain did not give back the database key it was given');
  }
  renameSync(temporary, file);
}

function readSealedKey(file: string, safeStorage: SafeStorageLike): string {
  if (!safeStorage.isEncryptionAvailable()) {
    throw errors.internal('The OS keychain is not available, so Outpost cannot unlock its database key');
  }
  let key: string;
  try {
    key = safeStorage.decryptString(readFileSync(file)).trim();
  } catch {
    throw errors.internal('The OS keychain could not unlock the database key (was this data folder copied from another user or machine?)');
  }
  if (key.length === 0 || key.length > MAX_KEY_CHARS) {
    throw errors.internal('The stored database key is damaged');
  }
  return key;
}

/**
 * The database key for `dataDir`: unsealed when it exists; otherwise created once (32 random bytes as
 * hex) and sealed. A key file left by browser mode or the CLI in the same folder is adopted into the
 * keychain and the plain file removed. Without a usable keychain it falls back to that key file (mode
 * 0600), and says so in `protection` so the app can warn. An existing sealed key is never replaced: a
 * failure to unseal it is an error, because a new key would not open the existing database.
 */
export function loadOrCreateDatabaseKey(options: DatabaseKeyOptions): DatabaseKey {
  const platform = options.platform ?? process.platform;
  const { dataDir, safeStorage } = options;
  const sealedFile = join(dataDir, SEALED_KEY_FILE);
  const keyFile = join(dataDir, KEY_FILE);

  if (existsSync(sealedFile)) {
    return { key: readSealedKey(sealedFile, safeStorage), protection: 'os-keychain', created: false };
  }
  if (!keychainUsable(safeStorage, platform)) {
    const existed = existsSync(keyFile);
    return { key: readOrCreateDatabaseKey(dataDir), protection: 'key-file', created: !existed };
  }
  if (existsSync(keyFile)) {
    const key = readFileSync(keyFile, 'utf8').trim();
    if (key.length === 0 || key.length > MAX_KEY_CHARS) {
      throw errors.internal(`The key file ${keyFile} is empty or damaged`);
    }
    writeSealedKey(sealedFile, key, safeStorage);
    unlinkSync(keyFile);
    return { key, protection: 'os-keychain', created: false };
  }
  const key = newKey();
  writeSealedKey(sealedFile, key, safeStorage);
  return { key, protection: 'os-keychain', created: true };
}
