// The sync panel end to end: browser mode (`outpost serve --demo`) in Debian's Chromium against a real
// FHIR server (test/helpers/fhir-server.ts: @medplum/fhir-router over loopback HTTP). The admin configures
// the remote in the panel and sends the clinic; Dr. Chen edits a patient, sees the change waiting, syncs
// it away; then the same field is changed on the server too, and the conflict is shown side by side and
// resolved from the panel.
import type { Patient } from '@medplum/fhirtypes';
import type { BrowserContext, Page } from 'playwright-core';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFhirServer, type TestFhirServer } from '../helpers/fhir-server.ts';
import { DEMO, buildRenderer, chromiumAvailable, launchBrowser, openApp, screenshot, signIn, startBrowserMode, type BrowserMode } from './harness.ts';

/** The identifier push puts on every resource it creates remotely (electron/host/sync README: local ids never change). */
const LOCAL_ID_SYSTEM = 'https://outpost.local/fhir/local-id';
/** The first sync sends the whole demo clinic. */
const FIRST_SYNC_MS = 180_000;

describe.skipIf(!chromiumAvailable())('the sync panel in Chromium against a FHIR server', () => {
  let rendererDir: string;
  let server: BrowserMode;
  let remote: TestFhirServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    rendererDir = await buildRenderer();
    // --manual-sync: the background loop would start its own run within 30 s of the remote being
    // configured, and one landing between an edit and "Sync now" pushes or pulls under the test's feet
    // (the change gone from Pending, or a save refused as a version conflict). Runs here are the test's.
    [server, browser, remote] = await Promise.all([startBrowserMode(rendererDir, ['--manual-sync']), launchBrowser(), startFhirServer()]);
    context = browser.context;
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await remote?.close();
    if (rendererDir) rmSync(rendererDir, { recursive: true, force: true });
  });

  async function open(): Promise<Page> {
    const { page, errors } = await openApp(context, server.url);
    page.on('close', () => pageErrors.push(...errors));
    return page;
  }

  /** The remote copy of a local patient: found by the Outpost identifier push gives it. */
  async function remotePatient(localId: string): Promise<Patient> {
    const all = await remote.repo.searchResources<Patient>({ resourceType: 'Patient', count: 1000 });
    const found = all.find((p) => p.identifier?.some((i) => i.system === LOCAL_ID_SYSTEM && i.value === localId));
    if (!found) throw new Error(`Patient ${localId} is not on the remote`);
    return found;
  }

  async function editCity(page: Page, patientId: string, city: string): Promise<void> {
    await page.evaluate((id) => (window.location.hash = `#/edit/Patient/${id}`), patientId);
    await page.getByLabel('City').fill(city);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('chart-title').waitFor();
  }

  async function syncNow(page: Page, timeout = 60_000): Promise<void> {
    await page.getByRole('button', { name: 'Sync now' }).click();
    await page.getByText(/^Sync finished:/).waitFor({ timeout });
  }

  const pendingText = (page: Page): Promise<string> => page.locator('[aria-labelledby=outbox-title]').innerText();

  it('the admin sees "Sync is not configured", sets up the remote (the token is never shown back) and sends the clinic', async () => {
    const page = await open();
    await signIn(page, DEMO.admin);
    await page.getByRole('link', { name: 'Sync' }).click();
    await page.getByTestId('sync-not-configured').waitFor();
    expect(await page.getByRole('button', { name: 'Sync now' }).isDisabled()).toBe(true);

    await page.getByRole('button', { name: 'Save remote' }).click();
    await page.getByText('Required').first().waitFor(); // checked before anything is sent
    await page.getByLabel('Server base URL').fill(remote.baseUrl);
    await page.getByLabel('An access token').check();
    await page.getByLabel(/^Access token/).fill(remote.token);
    await page.getByRole('button', { name: 'Save remote' }).click();
    await page.getByText(`Remote saved: ${remote.baseUrl}`).waitFor();
    await page.getByTestId('sync-status').getByText(`Server: ${remote.baseUrl}`).waitFor();
    expect(await page.getByLabel(/^Access token/).inputValue()).toBe(''); // write-only
    expect(await page.content()).not.toContain(remote.token);
    await screenshot(page, 'sync-remote-configured');

    await page.getByRole('button', { name: 'Sync now' }).click();
    // The progress bar follows the run (the status is polled in browser mode; Electron has events too).
    await page.waitForFunction(() => /(Sending|Receiving)[^:]*: \d+ (of \d+|so far)/.test(document.querySelector('[data-testid=sync-progress]')?.textContent ?? ''), undefined, { timeout: FIRST_SYNC_MS });
    expect(await page.locator('progress#sync-progress').count()).toBe(1);
    await screenshot(page, 'sync-progress');
    await page.getByText(/^Sync finished:/).waitFor({ timeout: FIRST_SYNC_MS });
    expect(await page.getByTestId('sync-status').innerText()).toMatch(/Online/);
    expect(await page.getByTestId('sync-status').innerText()).not.toMatch(/Last sync: never/);
    await remotePatient(String(server.info.maryId));
    await page.close();
  }, FIRST_SYNC_MS + 60_000);

  it('Dr. Chen edits a patient, sees the change waiting, syncs, and it is gone from the list and on the server', async () => {
    const page = await open();
    await signIn(page, DEMO.chen, { role: 'Practitioner' });
    const maryId = String(server.info.maryId);
    await editCity(page, maryId, 'Riverton');
    await page.getByRole('link', { name: 'Sync' }).click();
    const pending = page.getByRole('table', { name: 'Pending changes' });
    // Records by name, not by id.
    await pending.getByRole('cell', { name: 'Mary Johnson', exact: true }).waitFor();
    expect(await pending.locator('tr', { hasText: 'Mary Johnson' }).first().innerText()).toMatch(/Changed\s+Mary Johnson/);
    expect(await pendingText(page)).not.toContain(maryId);
    expect(await page.getByTestId('remote-form').count()).toBe(0); // not an admin: no remote settings
    await screenshot(page, 'sync-pending');

    await syncNow(page);
    await page.waitForFunction(() => ![...document.querySelectorAll('[aria-labelledby=outbox-title] td')].some((td) => td.textContent === 'Mary Johnson'));
    expect((await remotePatient(maryId)).address?.[0]?.city).toBe('Riverton');
    await page.close();
  });

  it('the same field changed on the server and here: the conflict is shown side by side and "Keep mine" wins on the next sync', async () => {
    const maryId = String(server.info.maryId);
    const onServer = await remotePatient(maryId);
    await remote.repo.updateResource<Patient>({ ...onServer, address: [{ ...onServer.address?.[0], city: 'Shelbyville' }] });

    const page = await open();
    await signIn(page, DEMO.chen, { role: 'Practitioner' });
    await editCity(page, maryId, 'Capital City');
    await page.getByRole('link', { name: 'Sync' }).click();
    await page.getByRole('table', { name: 'Pending changes' }).getByRole('cell', { name: 'Mary Johnson', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Sync now' }).click();

    const conflict = page.getByTestId('sync-conflict').filter({ hasText: maryId });
    await conflict.waitFor({ timeout: 60_000 });
    const versions = conflict.getByRole('table', { name: `Versions of Patient/${maryId}` });
    const address = versions.locator('tr.differs', { hasText: 'Address' });
    await address.waitFor();
    const cells = await address.locator('td').allInnerTexts();
    expect(cells.join(' | ')).toContain('Capital City'); // mine
    expect(cells.join(' | ')).toContain('Shelbyville'); // theirs
    expect(cells.findIndex((c) => c.includes('Capital City'))).toBeLessThan(cells.findIndex((c) => c.includes('Shelbyville')));
    await screenshot(page, 'sync-conflict');

    await conflict.getByRole('button', { name: 'Keep mine' }).click();
    await page.getByText(/^Conflict resolved: kept the version on this computer/).waitFor();
    await conflict.waitFor({ state: 'detached' });
    await syncNow(page);
    await page.waitForFunction(() => !document.querySelector('[data-testid=sync-conflict]'));
    expect((await remotePatient(maryId)).address?.[0]?.city).toBe('Capital City');
    await page.waitForFunction(() => ![...document.querySelectorAll('[aria-labelledby=outbox-title] td')].some((td) => td.textContent === 'Mary Johnson'));
    await screenshot(page, 'sync-resolved');
    await page.close();
  });

  it(`merging by field: the server's address and this computer's phone, chosen per field, are what the server ends with`, async () => {
    const maryId = String(server.info.maryId);
    const onServer = await remotePatient(maryId);
    const serverPhones = (onServer.telecom ?? []).map((t) => (t.system === 'phone' ? { ...t, value: '555-7777' } : t));
    await remote.repo.updateResource<Patient>({ ...onServer, address: [{ ...onServer.address?.[0], city: 'Ogdenville' }], telecom: serverPhones });

    const page = await open();
    await signIn(page, DEMO.chen, { role: 'Practitioner' });
    await page.evaluate((id) => (window.location.hash = `#/edit/Patient/${id}`), maryId);
    await page.getByLabel('City').fill('North Haverbrook');
    await page.getByLabel('Phone').fill('555-1212');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('chart-title').waitFor();
    await page.getByRole('link', { name: 'Sync' }).click();
    await page.getByRole('table', { name: 'Pending changes' }).getByRole('cell', { name: 'Mary Johnson', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Sync now' }).click();

    const conflict = page.getByTestId('sync-conflict').filter({ hasText: maryId });
    await conflict.waitFor({ timeout: 60_000 });
    await conflict.getByRole('button', { name: 'Merge by field…' }).click();
    await conflict.getByRole('group', { name: /Keep which Address/ }).getByLabel('Theirs').check();
    const phone = conflict.getByRole('group', { name: /Keep which Telecom/ });
    expect(await phone.getByLabel('Mine').isChecked()).toBe(true); // mine unless chosen otherwise
    await screenshot(page, 'sync-merge-by-field');
    await conflict.getByRole('button', { name: 'Save merged version' }).click();
    await page.getByText(/^Conflict resolved: merged field by field/).waitFor();
    await syncNow(page);
    await page.waitForFunction(() => !document.querySelector('[data-testid=sync-conflict]'));
    const merged = await remotePatient(maryId);
    expect(merged.address?.[0]?.city).toBe('Ogdenville');
    expect(merged.telecom?.find((t) => t.system === 'phone')?.value).toBe('555-1212');
    await page.close();
  });

  it('never logs a CSP violation or an uncaught page error', () => {
    expect(pageErrors).toEqual([]);
  });
});
