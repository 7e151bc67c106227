// Both process entry points that host the store set the heap growth limit (process-memory.ts) before
// any work: the host process (Electron's main holds no store any more) and the `outpost` command line.
import { describe, expect, it, vi } from 'vitest';

vi.mock('../../electron/host/process-memory.ts', () => ({ limitHeapGrowth: vi.fn(), HEAP_GROWING_PERCENT: 50 }));
vi.mock('../../electron/shell/host-serve.ts', () => ({ serveHost: vi.fn() }));

describe('heap growth limit at the entry points', () => {
  it('the host process sets it before it serves', async () => {
    const { limitHeapGrowth } = await import('../../electron/host/process-memory.ts');
    const { serveHost } = await import('../../electron/shell/host-serve.ts');
    vi.mocked(limitHeapGrowth).mockClear();
    const { runHostProcess } = await import('../../electron/host-process.ts');
    const parentPort = { postMessage: vi.fn(), on: vi.fn() };
    Object.assign(process, { parentPort });
    try {
      runHostProcess();
    } finally {
      delete (process as { parentPort?: unknown }).parentPort;
    }
    expect(limitHeapGrowth).toHaveBeenCalledTimes(1);
    expect(vi.mocked(limitHeapGrowth).mock.invocationCallOrder[0]).toBeLessThan(vi.mocked(serveHost).mock.invocationCallOrder[0]);
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
