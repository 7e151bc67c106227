// The UI test harness: builds the renderer once (Vite, into a temp folder), starts browser mode on a
// temp data folder as a user would (`outpost serve --demo`, a child process of process.execPath), and
// drives Debian's Chromium through playwright-core. Every test saves a screenshot under test-results/.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type BrowserContext, type Page, type Response } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { pkceChallenge } from '../../electron/host/auth/tokens.ts';
import { totpAt } from '../../electron/host/auth/totp.ts';

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
  /** Ids of well-known demo records, looked up by search once the host is up (maryId, maskedId, sarahPatientId), and the MFA user. */
  info: Record<string, unknown>;
  dataDir: string;
  stop(): Promise<void>;
}

/** The e2e user enrolled in TOTP by the harness (through the host's own MFA endpoints). */
export const MFA_EMAIL = 'mfa.demo@demo.outpost';
const VERIFIER = 'e2e-verifier-0123456789-abcdefghijklmnopqrstuvwxyz';

/** An HTTP client of the running host: Medplum's login flow, then JSON requests with the session. */
async function signInOverHttp(origin: string, email: string, password: string): Promise<(method: string, path: string, body?: unknown) => Promise<any>> {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return (await res.json()) as Record<string, any>;
  };
  const started = await post('/auth/login', { email, password, codeChallenge: pkceChallenge(VERIFIER, 'S256'), codeChallengeMethod: 'S256' });
  const code = started.code ?? (await post('/auth/profile', { login: started.login, profile: started.memberships?.[0]?.id })).code;
  const tokenRes = await fetch(`${origin}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: VERIFIER }).toString(),
  });
  const { access_token: token } = (await tokenRes.json()) as { access_token: string };
  return async (method, path, body) => {
    const res = await fetch(`${origin}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) {
      throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    }
    return res.json();
  };
}

/** Ids of the demo records the scenarios open, found by search as the admin; and a TOTP-enrolled user. */
async function prepareDemo(origin: string): Promise<Record<string, unknown>> {
  const admin = await signInOverHttp(origin, DEMO.admin, DEMO_PASSWORD);
  const one = async (query: string): Promise<string> => {
    const bundle = await admin('GET', `/fhir/R4/Patient?${query}`);
    if (bundle.entry?.length !== 1) {
      throw new Error(`expected one demo patient for ${query}, got ${bundle.entry?.length ?? 0}`);
    }
    return bundle.entry[0].resource.id as string;
  };
  const info: Record<string, unknown> = {
    maryId: await one('family=Johnson&given=Mary'),
    maskedId: await one('family=Masked'),
    sarahPatientId: await one('family=Chen&given=Sarah'),
  };
  const projectId = (await admin('GET', '/auth/me')).project.id as string;
  await admin('POST', `/admin/projects/${projectId}/invite`, { resourceType: 'Practitioner', firstName: 'Omar', lastName: 'Factor', email: MFA_EMAIL, password: DEMO_PASSWORD });
  const omar = await signInOverHttp(origin, MFA_EMAIL, DEMO_PASSWORD);
  const { enrollUri } = (await omar('GET', '/auth/mfa/status')) as { enrollUri: string };
  const secret = new URL(enrollUri).searchParams.get('secret') ?? '';
  // The previous step's code (accepted: one step of drift): the test's "right" code is then never a replay.
  await omar('POST', '/auth/mfa/enroll', { token: totpAt(secret, Date.now() - 30_000) });
  return { ...info, mfaEmail: MFA_EMAIL, mfaSecret: secret };
}

/**
 * Browser mode as a user starts it: `outpost serve --demo --data <tmp> --port 0` (process.execPath),
 * serving the renderer built into `rendererDir`; resolves once it prints its URL and the demo ids are known.
 */
export async function startBrowserMode(rendererDir: string, serveArgs: string[] = []): Promise<BrowserMode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'outpost-ui-data-'));
  const child: ChildProcess = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'outpost.mjs'), 'serve', '--demo', '--data', dataDir, '--port', '0', ...serveArgs], {
    cwd: REPO_ROOT,
    env: { ...process.env, OUTPOST_RENDERER_DIR: rendererDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`browser mode did not start in time\n${stdout}\n${stderr}`)), 120_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      stdout += `${line}\n`;
      const m = /Outpost is serving (http:\/\/127\.0\.0\.1:\d+)\/fhir\/R4\//.exec(line);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`browser mode exited with ${code}\n${stdout}\n${stderr}`));
    });
  });
  try {
    const info = await prepareDemo(url);
    return { url: `${url}/`, info, dataDir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
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

/** Impacts that fail a screen: the issue asks for no serious or critical axe-core violation anywhere. */
const FAILING_IMPACTS = new Set(['serious', 'critical']);

/**
 * axe-core on the page as it is now (WCAG 2.1 A/AA and best practices); the full report is kept beside
 * the screenshot (`<name>.axe.json`). Throws, naming each rule and element, on a serious or critical one.
 */
export async function checkAccessibility(page: Page, name: string): Promise<void> {
  const results = await new AxeBuilder({ page: page as never }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  mkdirSync(SCREENSHOTS, { recursive: true });
  writeFileSync(join(SCREENSHOTS, `${name}.axe.json`), JSON.stringify({ url: page.url(), violations: results.violations }, null, 2));
  const failing = results.violations.filter((v) => FAILING_IMPACTS.has(v.impact ?? ''));
  if (failing.length) {
    const lines = failing.flatMap((v) => v.nodes.map((n) => `${v.impact} ${v.id} (${v.help}): ${n.target.join(' ')}`));
    throw new Error(`axe-core found ${failing.length} serious/critical violation(s) on "${name}":\n${lines.join('\n')}`);
  }
}

/** Saves a screenshot for a person to look at (test-results/e2e/<name>.png) and checks the screen with axe-core. */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: options.fullPage ?? false });
  await checkAccessibility(page, name);
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

/** A browser-mode host on the demo clinic and a Chromium for one describe block, started before its tests. */
export interface ChromiumApp {
  readonly server: BrowserMode;
  /** Every page's console errors, collected when the page closes (a suite ends by expecting none). */
  readonly pageErrors: string[];
  /** A new page on the app, with the requests the host refused (4xx/5xx) as "status METHOD path". */
  open(): Promise<{ page: Page; refused: string[] }>;
}

export function useChromiumApp(): ChromiumApp {
  let rendererDir: string | undefined;
  let server: BrowserMode | undefined;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  const pageErrors: string[] = [];
  beforeAll(async () => {
    rendererDir = await buildRenderer();
    [server, browser] = await Promise.all([startBrowserMode(rendererDir), launchBrowser()]);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (rendererDir) rmSync(rendererDir, { recursive: true, force: true });
  });
  return {
    get server() {
      if (!server) throw new Error('the browser-mode host is not started yet');
      return server;
    },
    pageErrors,
    async open() {
      if (!browser || !server) throw new Error('Chromium is not started yet');
      const { page, errors } = await openApp(browser.context, server.url);
      const refused: string[] = [];
      page.on('response', (r: Response) => {
        if (r.status() >= 400) refused.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
      });
      page.on('close', () => pageErrors.push(...errors));
      return { page, refused };
    },
  };
}
