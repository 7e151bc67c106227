// Electron main tells the host its database key is the keychain's (sync's secrets are then sealed with a
// key derived from it) and turns background sync on; without a usable keychain the host keeps its 0600
// key file. The safeStorage sealer of earlier versions now only opens what it sealed then.
import { describe, expect, it, vi } from 'vitest';
import { safeStorageSealer } from '../../electron/shell/secret-sealer.ts';
import { useMainHarness } from '../electron/main-harness.ts';
import { createFakeSafeStorage } from '../electron/fake-safe-storage.ts';

vi.mock('electron', async () => (await import('../electron/main-harness.ts')).fakeElectronModule);

describe('Electron: sync secrets in the keychain', () => {
  const t = useMainHarness();

  it('main tells the host its key is the keychain\'s, and turns background sync on', async () => {
    await t.start();
    const options = t.host.record.options[0];
    expect(options.sync).toEqual({ background: true });
    expect(options.keychain).toBe(true);
    expect(options.key).toMatch(/^[0-9a-f]{64}$/);
  });

  it('without a usable keychain the key is a key file, and the host seals with its own key file', async () => {
    t.safeStorage.available = false;
    await t.start();
    expect(t.host.record.options[0].keychain).toBe(false);
  });

  it('the safeStorage sealer still opens what it sealed', () => {
    const sealer = safeStorageSealer(t.safeStorage, 'darwin')!;
    const sealed = sealer.seal(Buffer.from('remote-token-123'));
    expect(sealed.includes(Buffer.from('remote-token-123'))).toBe(false);
    expect(sealer.unseal(sealed).toString()).toBe('remote-token-123');
  });

  it('no sealer when the keychain is missing or only a hard-coded password (Linux basic_text)', () => {
    const storage = createFakeSafeStorage();
    storage.available = false;
    expect(safeStorageSealer(storage, 'linux')).toBeUndefined();
    storage.available = true;
    storage.backend = 'basic_text';
    expect(safeStorageSealer(storage, 'linux')).toBeUndefined();
    expect(safeStorageSealer(storage, 'darwin')).toBeDefined();
  });
});
