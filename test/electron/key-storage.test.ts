import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KEY_FILE } from '../../electron/host/paths.ts';
import { SEALED_KEY_FILE, loadOrCreateDatabaseKey } from '../../electron/shell/key-storage.ts';
import { createFakeSafeStorage } from './fake-safe-storage.ts';

describe('database key in the OS keychain (safeStorage)', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'outpost-key-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('creates a random key once, stores only the sealed blob, and reuses it', () => {
    const safeStorage = createFakeSafeStorage();
    const first = loadOrCreateDatabaseKey({ dataDir, safeStorage, platform: 'linux' });
    expect(first).toMatchObject({ protection: 'os-keychain', created: true });
    expect(first.key).toMatch(/^[0-9a-f]{64}$/);
    const blob = readFileSync(join(dataDir, SEALED_KEY_FILE));
    expect(blob.includes(first.key)).toBe(false);
    expect(blob.includes(Buffer.from(first.key, 'hex'))).toBe(false);
    expect(existsSync(join(dataDir, KEY_FILE))).toBe(false);
    if (process.platform !== 'win32') {
      expect(statSync(join(dataDir, SEALED_KEY_FILE)).mode & 0o077).toBe(0);
    }

    const second = loadOrCreateDatabaseKey({ dataDir, safeStorage, platform: 'linux' });
    expect(second).toEqual({ key: first.key, protection: 'os-keychain', created: false });
    expect(safeStorage.encryptCalls).toBe(1);
    expect(readFileSync(join(dataDir, SEALED_KEY_FILE)).equals(blob)).toBe(true);
  });

  it('gives each installation its own key', () => {
    const other = mkdtempSync(join(tmpdir(), 'outpost-key-'));
    try {
      const a = loadOrCreateDatabaseKey({ dataDir, safeStorage: createFakeSafeStorage(), platform: 'linux' });
      const b = loadOrCreateDatabaseKey({ dataDir: other, safeStorage: createFakeSafeStorage(), platform: 'linux' });
      expect(a.key).not.toBe(b.key);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('refuses (and never replaces the key) when another keychain cannot unseal it: a copied data folder', () => {
    const original = loadOrCreateDatabaseKey({ dataDir, safeStorage: createFakeSafeStorage(), platform: 'linux' });
    const blob = readFileSync(join(dataDir, SEALED_KEY_FILE));
    expect(() => loadOrCreateDatabaseKey({ dataDir, safeStorage: createFakeSafeStorage(), platform: 'linux' })).toThrow(/could not unlock/);
    expect(readFileSync(join(dataDir, SEALED_KEY_FILE)).equals(blob)).toBe(true);
    expect(original.key).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses when a sealed key exists but the keychain is unavailable', () => {
    const safeStorage = createFakeSafeStorage();
    loadOrCreateDatabaseKey({ dataDir, safeStorage, platform: 'darwin' });
    safeStorage.available = false;
    expect(() => loadOrCreateDatabaseKey({ dataDir, safeStorage, platform: 'darwin' })).toThrow(/keychain is not available/);
  });

  it('adopts a key file left by browser mode or the CLI into the keychain and removes the plain file', () => {
    writeFileSync(join(dataDir, KEY_FILE), 'f'.repeat(64) + '\n', { mode: 0o600 });
    const safeStorage = createFakeSafeStorage();
    expect(loadOrCreateDatabaseKey({ dataDir, safeStorage, platform: 'win32' })).toEqual({ key: 'f'.repeat(64), protection: 'os-keychain', created: false });
    expect(existsSync(join(dataDir, KEY_FILE))).toBe(false);
    expect(loadOrCreateDatabaseKey({ dataDir, safeStorage, platform: 'win32' }).key).toBe('f'.repeat(64));
  });

  it("falls back to a 0600 key file, and says so, when there is no real keychain (Linux 'basic_text')", () => {
    const safeStorage = createFakeSafeStorage();
    safeStorage.backend = 'basic_text';
    const first = loadOrCreateDatabaseKey({ dataDir, safeStorage, platform: 'linux' });
    expect(first).toMatchObject({ protection: 'key-file', created: true });
    expect(existsSync(join(dataDir, SEALED_KEY_FILE))).toBe(false);
    expect(readFileSync(join(dataDir, KEY_FILE), 'utf8').trim()).toBe(first.key);
    expect(loadOrCreateDatabaseKey({ dataDir, safeStorage, platform: 'linux' })).toEqual({ key: first.key, protection: 'key-file', created: false });
    expect(safeStorage.encryptCalls).toBe(0);
  });
});
