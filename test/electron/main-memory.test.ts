// Both process entry points that host the store set the heap growth limit (process-memory.ts)
// before any work: Electron's main process and the `outpost` command line.
import { describe, expect, it, vi } from 'vitest';
import { useMainHarness } from './main-harness.ts';

vi.mock('electron', async () => (await import('./main-harness.ts')).fakeElectronModule);
vi.mock('../../electron/host/process-memory.ts', () => ({ limitHeapGrowth: vi.fn(), HEAP_GROWING_PERCENT: 50 }));

describe('heap growth limit at the entry points', () => {
  const t = useMainHarness();

  it('Electron main sets it when the app starts', async () => {
    const { limitHeapGrowth } = await import('../../electron/host/process-memory.ts');
    vi.mocked(limitHeapGrowth).mockClear();
    const { main } = await t.start();
    expect(main).not.toBeNull();
    expect(limitHeapGrowth).toHaveBeenCalledTimes(1);
  });

  it('the command line sets it before running a command', async () => {
    const { limitHeapGrowth } = await import('../../electron/host/process-memory.ts');
    vi.mocked(limitHeapGrowth).mockClear();
    const { main } = await import('../../electron/host/cli/main.ts');
    let out = '';
    const code = await main(['--help'], { stdout: { write: (s: string) => ((out += s), true) } as never, stderr: { write: () => true } as never });
    expect(code).toBe(0);
    expect(out).toContain('Usage');
    expect(limitHeapGrowth).toHaveBeenCalledTimes(1);
  });
});
