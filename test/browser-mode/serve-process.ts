// Browser mode as a person starts it: `outpost serve --data <tmp> --port 0` in a child process (from
// the sources through bin/outpost.mjs, or the built dist/host/cli.js), ready once it prints its URL.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/fixtures.ts';

export interface ServeProcess {
  /** e.g. http://127.0.0.1:40123 (no trailing slash). */
  origin: string;
  port: number;
  dataDir: string;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then the exit code (SIGKILL after 10 s); removes the data folder unless kept. */
  stop(options?: { keepData?: boolean }): Promise<number | null>;
}

/** Starts serve with `entry` (a script run by process.execPath) and resolves once it printed its URL. */
export async function startServe(entry: string, env: NodeJS.ProcessEnv = {}, extraArgs: string[] = []): Promise<ServeProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'outpost-serve-'));
  const child: ChildProcess = spawn(process.execPath, [entry, 'serve', '--data', dataDir, '--port', '0', ...extraArgs], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const origin = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not print its URL in time:\n${out}`)), 90_000);
    const poll = setInterval(() => {
      // serve prints its URL once it listens.
      const url = /http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (url) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${url[1]}`);
      }
    }, 50);
    void exited.then((code) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${out}`));
    });
  });
  return {
    origin,
    port: Number(new URL(origin).port),
    dataDir,
    output: () => out,
    async stop(options) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
      if (!options?.keepData) {
        rmSync(dataDir, { recursive: true, force: true });
      }
      return child.exitCode;
    },
  };
}
