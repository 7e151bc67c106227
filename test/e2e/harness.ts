// The UI test harness: builds the renderer once (Vite, into a temp folder), starts browser mode on a
// temp data folder in a child process (process.execPath), and drives Debian's Chromium through
// playwright-core. Every test saves a screenshot under test-results/.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const CHROMIUM = process.env.OUTPOST_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(REPO_ROOT, 'test-results', 'e2e');
export const DEMO_PASSWORD = 'outpost-demo-1';

export const DEMO = {
  admin: 'admin@demo.outpost',
  chen: 'sarah.chen@demo.outpost',
  nurse: 'jennifer.williams@demo.outpost',
  robert: 'robert.johnson@demo.outpost',
  researcher: 'researcher@demo.outpost',
} as const;

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

/** Vite build of the renderer into a fresh temp folder; returns the folder. */
export async function buildRenderer(): Promise<string> {
  const { build } = await import('vite');
  const outDir = mkdtempSync(join(tmpdir(), 'outpost-renderer-'));
  await build({ configFile: join(REPO_ROOT, 'build', 'vite.config.ts'), logLevel: 'error', build: { outDir, emptyOutDir: true } });
  return outDir;
}

export interface BrowserMode {
  url: string;
  /** What the seed reported (ids of well-known records). */
  info: Record<string, unknown>;
  dataDir: string;
  stop(): Promise<void>;
}

/** Starts browser mode on an empty temp data folder; resolves once it prints its URL. */
export async function startBrowserMode(rendererDir: string): Promise<BrowserMode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'outpost-ui-data-'));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join('test', 'e2e', 'ui-server.ts'), '--data', dataDir, '--renderer', rendererDir], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const info = await new Promise<Record<string, unknown>>((resolveInfo, reject) => {
    const timer = setTimeout(() => reject(new Error(`browser mode did not start in time\n${stderr}`)), 90_000);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      try {
        resolveInfo(JSON.parse(line) as Record<string, unknown>);
      } catch {
        reject(new Error(`unexpected output from browser mode: ${line}\n${stderr}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`browser mode exited with ${code}\n${stderr}`));
    });
  });
  return {
    url: String(info.url),
    info,
    dataDir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'outpost-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A fresh tab (a fresh, empty session: the renderer keeps nothing beyond the tab's memory) that fails the test on page errors. */
export async function openApp(context: BrowserContext, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    // CSP violations are reported on the console: any of them is a bug.
    if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) errors.push(msg.text());
  });
  await page.goto(url);
  return { page, errors };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/** Signs in with the form; picks `role` (text of the membership button) when the chooser appears. */
export async function signIn(page: Page, email: string, options: { password?: string; role?: string } = {}): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(options.password ?? DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (options.role) {
    await page.getByRole('heading', { name: 'Choose a role' }).waitFor();
    await page.getByRole('button', { name: new RegExp(options.role) }).click();
  }
  await page.getByTestId('active-role').waitFor();
}
