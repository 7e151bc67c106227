// The heap growth limit the app's and the CLI's entry points set: in a child process churning
// through Bundle-like garbage over a ~60 MB live heap (the host's shape during an import), V8's peak
// heap must stay well below what it reaches by default.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const CHURN = `
const limited = process.argv[1] === 'limited';
if (limited) {
  const { limitHeapGrowth } = await import(${JSON.stringify(path.join(repoRoot, 'electron/host/process-memory.ts'))});
  limitHeapGrowth();
}
const live = [];
for (let i = 0; i < 600_000; i++) live.push({ i, s: 'live' + i, a: [i, i + 1] });
let peak = 0;
const recent = [];
for (let round = 0; round < 250; round++) {
  const batch = [];
  for (let i = 0; i < 30_000; i++) batch.push({ round, i, s: 'garbage' + i, o: { x: [1, 2, 3] } });
  recent.push(batch);
  if (recent.length > 3) recent.shift();
  peak = Math.max(peak, process.memoryUsage().heapTotal);
}
process.stdout.write(String(live.length > 0 ? peak : 0));
`;

function peakHeap(mode: 'default' | 'limited'): number {
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHURN, mode], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(child.status, child.stderr).toBe(0);
  return Number(child.stdout);
}

describe('limitHeapGrowth', () => {
  it('keeps the peak heap of an allocation-heavy process well below V8 default growth', () => {
    const unlimited = peakHeap('default');
    const limited = peakHeap('limited');
    expect(limited).toBeGreaterThan(50 * 1024 * 1024); // the live heap itself is there
    expect(limited).toBeLessThan(unlimited * 0.7);
  }, 90_000);
});
