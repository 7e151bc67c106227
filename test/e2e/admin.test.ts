// Administration people can use (issue 16 §5), in Chromium on the demo clinic: the audit log (paging,
// names, "What", patient filter, CSV), memberships (person search, per-patient access with a patient
// picker, edited in place, no jargon), a family caregiver invited for their patient, the policy editor's
// interactions, the policy review in words with names, "View as" (a read-only, audited preview of the app
// as that role), the sync panel's states, and the export, which holds what `outpost export` holds.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { DEMO, REPO_ROOT, chromiumAvailable, screenshot, signIn, useChromiumApp } from './harness.ts';

const UUID_REFERENCE = /\b[A-Z][A-Za-z]+\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/;

describe.skipIf(!chromiumAvailable())('administration in Chromium (issue 16)', { timeout: 120_000 }, () => {
  const app = useChromiumApp();
  const { open, pageErrors } = app;
  /** What a download link gives a person: the file the browser saves when it is clicked. */
  const downloaded = async (page: Page, link: Locator): Promise<string> => {
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    return readFileSync((await download.path()) ?? '', 'utf8');
  };
  const adminPage = async (): Promise<Page> => {
    const { page } = await open();
    await signIn(page, DEMO.admin);
    return page;
  };
  const usersTab = async (page: Page): Promise<void> => {
    await page.getByRole('link', { name: 'Administration' }).click();
    await page.getByRole('table', { name: 'Memberships' }).getByText('Nurse Jennifer Williams').waitFor();
  };

  it('the audit log: every page reachable, people and records by name, "What" filled, filter by patient name, CSV export', async () => {
    // Enough events for several pages (sixty searches of the admin, through the app's own session), then
    // some activity of the physician, so hers are on the first page: searches, a read of Mary, a created observation.
    const page = await adminPage();
    await page.evaluate(async () => {
      const login = JSON.parse(sessionStorage.getItem('activeLogin') ?? '{}') as { accessToken?: string };
      for (let i = 0; i < 60; i++) await fetch(`/fhir/R4/Patient?name=Page${i}`, { headers: { authorization: `Bearer ${login.accessToken}` } });
    });
    const chen = (await open()).page;
    await signIn(chen, DEMO.chen, { role: 'Practitioner' });
    await chen.evaluate((id) => (window.location.hash = `#/patients/${id}`), String(app.server.info.maryId));
    await chen.getByTestId('trend-chart').waitFor();
    await chen.getByRole('link', { name: 'Record observation' }).click();
    await chen.getByLabel('Measurement').selectOption({ label: 'Heart rate (/min)' });
    await chen.getByLabel('Value').fill('71');
    await chen.getByRole('button', { name: 'Save' }).click();
    await chen.getByTestId('chart-title').waitFor();
    await chen.close();

    await page.getByRole('link', { name: 'Audit log' }).click();
    const table = page.getByRole('table', { name: 'Audit events' });
    await table.locator('tbody tr').first().waitFor();
    const count = (await page.getByTestId('audit-count').textContent()) ?? '';
    const total = Number(/^(\d+) events/.exec(count)?.[1]);
    expect(total).toBeGreaterThan(100);
    const pages = Math.ceil(total / 50);
    await page.getByText(`Page 1 of ${pages}`).waitFor();
    const firstRows = await table.locator('tbody tr').allTextContents();
    expect(firstRows).toHaveLength(50);
    await screenshot(page, 'audit-page-1');
    const rows = firstRows.join('\n');
    expect(rows).not.toMatch(UUID_REFERENCE);
    expect(rows).toMatch(/Dr\. Sarah Chen.*Searched.*Search Observation: patient Mary Johnson/);
    expect(rows).toMatch(/Dr\. Sarah Chen.*Created.*Heart rate \(Observation\)/);
    // Every page is reachable, the last one too (the log grows as it is read: each page is a search).
    const next = page.getByRole('button', { name: 'Next' });
    for (let i = 0; i < 50 && (await next.isEnabled()); i++) {
      await next.click();
      await page.waitForFunction(() => !document.querySelector('[data-testid=audit-count]')?.textContent?.includes('Loading'));
    }
    const pager = (await page.getByRole('navigation', { name: 'Audit pages' }).textContent()) ?? '';
    const [, at, of] = /Page (\d+) of (\d+)/.exec(pager) ?? [];
    expect(Number(at)).toBeGreaterThanOrEqual(pages);
    expect(at).toBe(of);
    expect(await table.locator('tbody tr').count()).toBeGreaterThan(0);
    // The oldest events are the demo seed's, a named system principal, with the records it made named.
    const lastText = (await table.textContent()) ?? '';
    expect(lastText).toMatch(/Demo clinic seed.*Created.*Mary Johnson/);
    expect(lastText).not.toMatch(UUID_REFERENCE);
    // The invite of the harness's MFA user (right after the seed) is named.
    const previous = page.getByRole('button', { name: 'Previous' });
    let text = lastText;
    for (let i = 0; i < 5 && !/Invited a person/.test(text); i++) {
      await previous.click();
      await page.waitForFunction(() => !document.querySelector('[data-testid=audit-count]')?.textContent?.includes('Loading'));
      text = (await table.textContent()) ?? '';
    }
    expect(text).toMatch(/Invited a person.*membership of Omar Factor/);
    expect(text).not.toMatch(UUID_REFERENCE);

    await page.getByLabel('Patient name').fill('Johnson');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForFunction(() => /^\d+ events? —/.test(document.querySelector('[data-testid=audit-count]')?.textContent ?? ''));
    const filtered = await table.locator('tbody tr').allTextContents();
    expect(filtered.length).toBeGreaterThan(0);
    for (const row of filtered) expect(row).toContain('Mary Johnson');
    await screenshot(page, 'audit-filter-patient');

    await page.getByRole('button', { name: 'Export CSV' }).click();
    const link = page.getByRole('link', { name: /Download outpost-audit-.*\.csv/ });
    await link.waitFor();
    const csv = await downloaded(page, link);
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('"Recorded (UTC)","Who","Action","What","Outcome","Reason","Event id"');
    expect(lines.length - 1).toBe(filtered.length);
    expect(csv).toContain('Mary Johnson');
    expect(csv).not.toMatch(UUID_REFERENCE);
    await page.close();
  });

  it('memberships: find a person, access in words, per-patient access edited in place with a patient picker', async () => {
    const page = await adminPage();
    await usersTab(page);
    const table = page.getByRole('table', { name: 'Memberships' });
    expect((await page.locator('main').textContent()) ?? '').not.toMatch(/parameteri[sz]ed|access\[\]/i);
    await page.getByLabel('Find a person').fill('jennifer');
    await page.waitForFunction(() => document.querySelectorAll('table[aria-label=Memberships] tbody tr').length === 1);
    const nurseRow = (await table.locator('tbody tr').first().textContent()) ?? '';
    expect(nurseRow).toContain('Registered nurse');
    expect(nurseRow).toMatch(/Patients: .*Mary Johnson \(Care team patient record\)/);
    expect(nurseRow).not.toMatch(UUID_REFERENCE);
    await page.getByRole('button', { name: 'Edit access of Nurse Jennifer Williams' }).click();
    // The editor opens in the row below the person, with the focus on it.
    const editor = table.locator('tr.editor-row').getByRole('region', { name: /Access of Nurse Jennifer Williams/ });
    await editor.waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('membership-edit-title');
    expect(await editor.getByTestId('access-row').count()).toBe(4);
    expect((await editor.textContent()) ?? '').toContain('Mary Johnson');
    await editor.getByRole('button', { name: 'Add access to a patient' }).click();
    await editor.getByRole('searchbox', { name: 'Patient 5', exact: true }).fill('Okafor');
    await editor.getByRole('button', { name: /Alice Okafor/ }).click();
    await editor.getByLabel('Policy for patient 5').selectOption({ label: 'Care team patient record' });
    await screenshot(page, 'membership-editor');
    await editor.getByRole('button', { name: 'Save access' }).click();
    await page.waitForFunction(() => /Alice Okafor/.test(document.querySelector('table[aria-label=Memberships] tbody tr')?.textContent ?? ''));
    await page.close();
  });

  it('a family caregiver is invited for the patient they care for, and sees only that patient', async () => {
    const page = await adminPage();
    await usersTab(page);
    await page.getByLabel('Who they are').selectOption({ label: 'Family caregiver of a patient' });
    await page.getByLabel('First name').fill('Paula');
    await page.getByLabel('Last name').fill('Carer');
    await page.getByLabel('Email').fill('paula.carer@demo.outpost');
    await page.getByLabel('Initial password').fill('caregiver-pass-1');
    await page.getByRole('button', { name: 'Add person' }).click();
    await page.getByText('Choose the patient this person cares for').waitFor();
    await page.getByLabel('Patient they care for').fill('Mary');
    await page.getByRole('button', { name: /Mary Johnson/ }).click();
    await page.getByLabel('Their access to this patient').selectOption({ label: 'Family caregiver' });
    await screenshot(page, 'invite-caregiver');
    await page.getByRole('button', { name: 'Add person' }).click();
    await page.getByText('Invited paula.carer@demo.outpost').waitFor();
    const carer = (await open()).page;
    await signIn(carer, 'paula.carer@demo.outpost', { password: 'caregiver-pass-1' });
    await carer.waitForFunction(() => /^1 patient\b/.test(document.querySelector('[data-testid=patient-count]')?.textContent ?? ''));
    await carer.getByRole('link', { name: 'Mary Johnson' }).waitFor();
    await carer.close();
    await page.close();
  });

  it('the policy editor shows each entry\'s interactions; the policy review is in words with names', async () => {
    const page = await adminPage();
    await page.getByRole('link', { name: 'Administration' }).click();
    await page.getByRole('link', { name: 'Access policies' }).click();
    await page.getByRole('button', { name: 'Registered nurse' }).click();
    const first = page.getByTestId('entry-1-interactions');
    for (const on of ['Read', 'Search', 'History', 'Read only']) expect(await first.getByLabel(on, { exact: true }).isChecked(), on).toBe(true);
    for (const off of ['Create', 'Update', 'Delete']) expect(await first.getByLabel(off, { exact: true }).isChecked(), off).toBe(false);
    await screenshot(page, 'policy-interactions');

    await page.getByRole('link', { name: 'Policy review' }).click();
    const nurse = await page.getByLabel('Person').locator('option', { hasText: 'Nurse Jennifer Williams' }).getAttribute('value');
    await page.getByLabel('Person').selectOption(nurse ?? '');
    const review = page.getByTestId('policy-review');
    await review.waitFor();
    await page.waitForFunction(() => /Mary Johnson/.test(document.querySelector('[data-testid=policy-review]')?.textContent ?? ''));
    expect((await review.textContent()) ?? '').not.toMatch(UUID_REFERENCE);
    await screenshot(page, 'policy-review-names');
    await page.close();
  });

  it('"View as" previews the app as the nurse, read-only and audited, and ends back in administration', async () => {
    const { page, refused } = await open();
    await signIn(page, DEMO.admin);
    await usersTab(page);
    await page.getByRole('button', { name: 'View as Nurse Jennifer Williams' }).click();
    await page.getByTestId('view-as-banner').waitFor();
    expect(await page.getByTestId('active-role').textContent()).toContain('Jennifer Williams');
    expect(await page.getByRole('link', { name: 'Administration' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Audit log' }).count()).toBe(0);
    await page.waitForFunction(() => /\d+ patients?/.test(document.querySelector('[data-testid=patient-count]')?.textContent ?? ''));
    expect(await page.getByTestId('patient-count').textContent()).toMatch(/^4 patients/); // the nurse's care team
    await page.evaluate((id) => (window.location.hash = `#/patients/${id}`), String(app.server.info.maryId));
    await page.getByTestId('trend-chart').waitFor();
    expect(await page.locator('.page-head .actions a').count()).toBe(0); // the nurse records observations; the preview does not
    await screenshot(page, 'view-as-nurse');
    expect(refused).toEqual([]);
    await page.getByRole('button', { name: 'End preview' }).click();
    await page.getByRole('table', { name: 'Memberships' }).waitFor();
    expect(await page.getByTestId('active-role').textContent()).toContain('Alex Rivera');
    await page.getByRole('link', { name: 'Audit log' }).click();
    const table = page.getByRole('table', { name: 'Audit events' });
    await table.locator('tbody tr').first().waitFor();
    // What the preview read is the nurse's record of it: filter on her, and it names the admin viewing as her.
    await page.getByLabel('Person').selectOption({ label: 'Nurse Jennifer Williams (Practitioner)' });
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForFunction(() => /viewing as/.test(document.querySelector('table[aria-label="Audit events"]')?.textContent ?? ''));
    const text = (await table.textContent()) ?? '';
    expect(text).toContain('Alex Rivera viewing as Nurse Jennifer Williams');
    expect(text).not.toMatch(UUID_REFERENCE);
    await screenshot(page, 'audit-view-as');
    await page.getByLabel('Person').selectOption({ label: 'Anyone' });
    await page.getByLabel('Action').selectOption({ label: 'Viewed the app as' });
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForFunction(() => /Viewed the app as/.test(document.querySelector('table[aria-label="Audit events"]')?.textContent ?? ''));
    expect((await table.textContent()) ?? '').toMatch(/Alex Rivera.*Viewed the app as.*membership of Nurse Jennifer Williams/);
    await page.close();
  });

  it('the sync panel: "Not configured" is not "Offline"; a failed run is said so and does not move "Last sync"; the counts agree', async () => {
    const page = await adminPage();
    await page.getByRole('link', { name: 'Sync' }).click();
    await page.getByTestId('sync-status').waitFor();
    expect(await page.getByTestId('sync-state').textContent()).toBe('Not configured');
    const pending = Number(/(\d+) pending/.exec((await page.getByTestId('pending-count').textContent()) ?? '')?.[1]);
    const more = page.getByRole('button', { name: /^Show (all|the first)/ });
    if (await more.count()) expect(Number(/(\d+)$/.exec((await more.first().textContent()) ?? '')?.[1])).toBe(pending);
    expect((await page.getByRole('table', { name: 'Pending changes' }).textContent()) ?? '').not.toMatch(UUID_REFERENCE);
    await screenshot(page, 'sync-not-configured');
    // A remote that does not answer (nothing listens on the discard port): the run fails in words.
    await page.getByLabel('Server base URL').fill('http://127.0.0.1:9/fhir/R4/');
    await page.getByTestId('remote-form').locator('input[type=password]').first().fill('not-a-real-token');
    await page.getByRole('button', { name: 'Save remote' }).click();
    await page.getByRole('button', { name: 'Sync now' }).waitFor();
    await page.getByRole('button', { name: 'Sync now' }).click();
    await page.getByText('Sync failed').waitFor({ timeout: 60_000 });
    expect(await page.getByText(/^Sync finished/).count()).toBe(0);
    expect(await page.getByTestId('sync-status').textContent()).toContain('Last sync: never');
    expect(await page.getByTestId('sync-state').textContent()).toBe('Offline');
    await screenshot(page, 'sync-failed');
    await page.close();
  });

  it('the export holds what the role can see, type for type what `outpost export` writes', async () => {
    const page = await adminPage();
    await page.getByRole('link', { name: 'Import / export' }).click();
    await page.getByRole('button', { name: 'Export' }).click();
    const link = page.getByRole('link', { name: /Download outpost-export-.*\.ndjson/ });
    await link.waitFor({ timeout: 60_000 });
    await screenshot(page, 'export-done');
    const ndjson = await downloaded(page, link);
    const uiCounts: Record<string, number> = {};
    for (const line of ndjson.trim().split('\n')) {
      const type = (JSON.parse(line) as { resourceType: string }).resourceType;
      uiCounts[type] = (uiCounts[type] ?? 0) + 1;
    }
    await page.close();
    // The command line on the same data folder (the workstation owner's export of the whole project).
    const folder = mkdtempSync(join(tmpdir(), 'outpost-cli-export-'));
    try {
      const cli = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'outpost.mjs'), 'export', folder, '--data', app.server.dataDir], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
      expect(cli.status, cli.stderr).toBe(0);
      const cliCounts: Record<string, number> = {};
      for (const file of readdirSync(folder).filter((f) => f.endsWith('.ndjson'))) {
        cliCounts[file.replace(/\.ndjson$/, '')] = readFileSync(join(folder, file), 'utf8').trim().split('\n').length;
      }
      expect(Object.keys(uiCounts).length).toBeGreaterThan(10);
      expect(uiCounts).toEqual(cliCounts);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('never logs a CSP violation or an uncaught page error', () => {
    expect(pageErrors).toEqual([]);
  });
});
