// Every temporary file of a test run lives under one folder, removed when the run ends. Many tests make
// data folders with mkdtemp (hosts, CLIs, sync peers, Chromium profiles, crash children) and not all of
// them can clean up: a test that fails, times out or kills its child leaves its folder behind, and a
// machine that runs the suite often filled /tmp with hundreds of them. Setting TMPDIR before the test
// workers start puts os.tmpdir() of every worker, and of every process they spawn, below this folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const root = mkdtempSync(join(tmpdir(), 'outpost-tests-'));
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) {
      delete process.env.TMPDIR;
    } else {
      process.env.TMPDIR = previous;
    }
    rmSync(root, { recursive: true, force: true });
  };
}
