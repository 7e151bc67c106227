// `outpost seed --demo`, `outpost serve --demo` and `outpost policy-review`, spawned as a user runs
// them: the demo logins printed, a second seed only reporting, the review in words and as JSON.
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../host/helpers.ts';

const repoRoot = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
const bin = join(repoRoot, 'bin', 'outpost.mjs');
const LOGINS = ['admin@demo.outpost', 'sarah.chen@demo.outpost', 'jennifer.williams@demo.outpost', 'robert.johnson@demo.outpost', 'researcher@demo.outpost'];

function outpost(args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('outpost seed --demo and policy-review', () => {
  let data: string;
  beforeAll(() => {
    data = tempDir('outpost-cli-demo-');
  });
  afterAll(() => rmSync(data, { recursive: true, force: true }));

  it('seeds the demo clinic once and prints the logins; a second run only reports', () => {
    const first = outpost(['seed', '--demo', '--data', data]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/Seeded the demo clinic "General Hospital - Main Campus": \d+ resources/);
    expect(first.stdout).toContain('password for all: outpost-demo-1');
    for (const email of LOGINS) {
      expect(first.stdout).toContain(email);
    }
    const second = outpost(['seed', '--demo', '--data', data]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('is already in');
    expect(outpost(['seed', '--data', data]).code).toBe(2);
  }, 300_000);

  it('policy-review prints each membership in words with warnings and counts, and --json the same data', () => {
    const text = outpost(['policy-review', '--data', data]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Project General Hospital - Main Campus');
    expect(text.stdout.match(/^ProjectMembership\//gm)).toHaveLength(6);
    expect(text.stdout).toContain('only where general practitioner is ');
    expect(text.stdout).not.toContain('%user.profile.id');
    expect(text.stdout).toContain('! wildcard-without-criteria');
    expect(text.stdout).toMatch(/hidden: name, telecom, address, identifier/);
    expect(text.stdout).toMatch(/Can see: .*Patient \d+/);

    const json = outpost(['policy-review', '--json', '--data', data]);
    const reviews = JSON.parse(json.stdout) as { membership: string; counts: { resourceType: string; count: number }[]; warnings: unknown[] }[];
    expect(reviews).toHaveLength(6);
    const one = outpost(['policy-review', '--json', '--membership', reviews[1].membership, '--data', data]);
    const single = JSON.parse(one.stdout);
    expect(single).toHaveLength(1);
    expect(single[0].counts).toEqual(reviews[1].counts);
  }, 300_000);

  it('serve --demo on an already seeded folder prints the logins and serves', async () => {
    const child = spawn(process.execPath, [bin, 'serve', '--demo', '--port', '0', '--data', data], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start: ${lines.join('\n')}`)), 120_000);
        createInterface({ input: child.stdout! }).on('line', (line) => {
          lines.push(line);
          const m = /Outpost is serving (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
          if (m) {
            clearTimeout(timer);
            resolveUrl(m[1]);
          }
        });
        child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${lines.join('\n')}`)));
      });
      expect(lines.join('\n')).toContain('sarah.chen@demo.outpost');
      const metadata = await fetch(`${url}/fhir/R4/metadata`);
      expect([200, 401]).toContain(metadata.status);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }, 180_000);
});
