// The run's temporary folder (global-setup.ts) holds what the tests and their child processes create.
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('temporary files of a test run', () => {
  it('go below one folder per run, for the tests and for the processes they spawn', () => {
    expect(basename(tmpdir())).toMatch(/^outpost-tests-/);
    const childTmp = execFileSync(process.execPath, ['-e', 'process.stdout.write(require("node:os").tmpdir())'], { encoding: 'utf8' });
    expect(childTmp).toBe(tmpdir());
  });
});
