// Electron main seals sync's secrets with safeStorage (the OS keychain) and turns background sync on;
// without a usable keychain it leaves the host its 0600 key file.
import { describe, expect, it, vi } from 'vitest';
import { safeStorageSealer } from '../../electron/shell/secret-sealer.ts';
import { useMainHarness } from '../electron/main-harness.ts';
import { createFakeSafeStorage } from '../electron/fake-safe-storage.ts';

vi.mock('electron', async () => (await import('../electron/main-harness.ts')).fakeElectronModule);

describe('Electron: sync secrets in the keychain', () => {
  const t = useMainHarness();

  it('main gives the host a safeStorage sealer and background sync', async () => {
    await t.start();
    const options = t.host.record.options[0];
    expect(options.sync).toEqual({ background: true });
    const sealer = options.secretSealer!;
    const before = t.safeStorage.encryptCalls;
    const sealed = sealer.seal(Buffer.from('remote-token-123'));
    expect(t.safeStorage.encryptCalls).toBe(before + 1);
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
