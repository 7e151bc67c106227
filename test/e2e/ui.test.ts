// The clinician and administrator UI end to end: browser mode on a temp data folder, Debian's Chromium,
// real clicks and keys. Scenarios of issue 5, on the demo clinic of `outpost serve --demo`.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, MFA_EMAIL, REPO_ROOT, buildRenderer, chromiumAvailable, launchBrowser, openApp, screenshot, signIn, startBrowserMode, type BrowserMode } from './harness.ts';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { totpAt } from '../../electron/host/auth/totp.ts';
import type { BrowserContext } from 'playwright-core';


describe.skipIf(!chromiumAvailable())('Outpost UI in Chromium (browser mode)', () => {
  let rendererDir: string;
  let server: BrowserMode;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    rendererDir = await buildRenderer();
    [server, browser] = await Promise.all([startBrowserMode(rendererDir), launchBrowser()]);
    context = browser.context;
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (rendererDir) rmSync(rendererDir, { recursive: true, force: true });
  });

  async function open(): Promise<Page> {
    const { page, errors } = await openApp(context, server.url);
    page.on('close', () => pageErrors.push(...errors));
    return page;
  }

  it('shows the sign-in form with labelled, keyboard-reachable controls and explains a wrong password', async () => {
    const page = await open();
    await page.getByRole('heading', { name: 'Sign in to Outpost' }).waitFor();
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.id);
    expect(['email', 'password']).toContain(focused);
    await page.getByLabel('Email').fill(DEMO.nurse);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('Email or password is invalid');
    await page.getByLabel('Password').focus();
    await screenshot(page, 'login-wrong-password');
    await page.close();
  });

  it('asks for the authenticator code when the user enrolled TOTP, and refuses a wrong one in words', async () => {
    const page = await open();
    await page.getByLabel('Email').fill(MFA_EMAIL);
    await page.getByLabel('Password').fill('outpost-demo-1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    const code = page.getByLabel('Code from your authenticator app');
    const right = totpAt(String(server.info.mfaSecret), Date.now());
    await code.fill(right === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('alert').waitFor();
    await screenshot(page, 'mfa-wrong-code');
    await code.fill(totpAt(String(server.info.mfaSecret), Date.now()));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByTestId('active-role').waitFor();
    expect(await page.getByTestId('active-role').textContent()).toContain('Omar Factor');
    await page.close();
  });

  it('shows a lockout clearly after repeated wrong passwords', async () => {
    const page = await open();
    const email = 'lockout.demo@demo.outpost';
    for (let i = 0; i < 6; i++) {
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(`wrong-${i}`);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').waitFor();
      await page.waitForFunction(() => !document.querySelector('button[type=submit]')?.textContent?.includes('Signing in'));
    }
    const lockout = page.getByTestId('lockout');
    await lockout.waitFor();
    expect(await lockout.textContent()).toMatch(/Account locked.*Too many failed login attempts.*Try again in \d+ (second|minute)/);
    await screenshot(page, 'login-lockout');
    await page.close();
  });

  it('Dr. Chen signs in, picks her practitioner role, searches her patients with counts and paging, and opens a chart with the vitals chart', async () => {
    const page = await open();
    await signIn(page, DEMO.chen, { role: 'Practitioner' });
    const role = await page.getByTestId('active-role').textContent();
    expect(role).toContain('Sarah Chen');
    expect(role).toContain('Practitioner');
    expect(role).toContain('General Hospital - Main Campus');

    const count = page.getByTestId('patient-count');
    await page.waitForFunction(() => /\d+ patients/.test(document.querySelector('[data-testid=patient-count]')?.textContent ?? ''));
    const total = Number(/(\d+) patients/.exec((await count.textContent()) ?? '')?.[1]);
    expect(total).toBeGreaterThan(20);
    await expect(page.getByText(/Page 1 of \d+/).isVisible()).resolves.toBe(true);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText(/Page 2 of/).waitFor();
    await screenshot(page, 'patients-page-2');

    await page.getByLabel('Name').fill('Johnson');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForFunction(() => /^1 patient\b/.test(document.querySelector('[data-testid=patient-count]')?.textContent ?? ''));
    await page.getByRole('link', { name: 'Mary Johnson' }).click();
    await page.getByTestId('chart-title').waitFor();
    expect(await page.getByTestId('chart-title').textContent()).toBe('Mary Johnson');
    const chart = page.getByTestId('trend-chart');
    await chart.waitFor();
    const chartText = (await chart.textContent()) ?? '';
    expect(chartText).toMatch(/[A-Z][a-z]{2} \d{1,2}, \d{4}/); // dates on the x axis, in the app's one format
    expect(chartText).toContain('Date');
    expect(await chart.locator('circle').count()).toBeGreaterThanOrEqual(12);
    expect(await chart.locator('polyline').count()).toBeGreaterThanOrEqual(1);
    // Blood pressure: two series on one chart, in mm[Hg].
    await page.getByLabel('Measure').selectOption({ label: 'Blood pressure (12)' });
    expect(await chart.locator('polyline').count()).toBe(2);
    expect(await chart.textContent()).toContain('mmHg');
    expect(await chart.textContent()).not.toContain('mm[Hg]');
    await screenshot(page, 'chart-vitals');

    await page.getByRole('tab', { name: /Conditions/ }).click();
    await page.getByRole('cell', { name: 'Hypertension', exact: true }).waitFor();
    await page.getByRole('tab', { name: /Encounters/ }).click();
    await page.getByRole('table', { name: 'Encounters' }).waitFor();
    await screenshot(page, 'chart-encounters');
    await page.close();
  });

  it('Dr. Chen switches to her patient role: the header and every view change at once', async () => {
    const page = await open();
    await signIn(page, DEMO.chen, { role: 'Practitioner' });
    await page.getByTestId('patient-count').waitFor();
    const switcher = page.getByLabel('Switch role');
    const patientRole = await switcher.locator('option', { hasText: '(Patient)' }).getAttribute('value');
    await switcher.selectOption(patientRole ?? '');
    await page.waitForFunction(() => document.querySelector('[data-testid=active-role]')?.textContent?.includes('Patient'));
    const role = (await page.getByTestId('active-role').textContent()) ?? '';
    expect(role).toContain('Patient');
    expect(role).not.toContain('Practitioner');
    await page.getByTestId('patient-count').waitFor();
    await screenshot(page, 'role-switched-to-patient');
    await page.close();
  });

  it(`Dr. Chen as patient sees only her own record; the audit log (as admin) shows both roles`, async () => {
    // Its own events first (no reliance on the tests before it): Dr. Chen works as practitioner, then as patient.
    const practitioner = await open();
    await signIn(practitioner, DEMO.chen, { role: 'Practitioner' });
    await practitioner.waitForFunction(() => /\d+ patients/.test(document.querySelector('[data-testid=patient-count]')?.textContent ?? ''));
    await practitioner.close();
    const page = await open();
    await signIn(page, DEMO.chen, { role: 'Patient' });
    await page.waitForFunction(() => /^1 patient\b/.test(document.querySelector('[data-testid=patient-count]')?.textContent ?? ''));
    await page.getByRole('link', { name: 'Sarah Chen' }).waitFor();
    await page.close();
    const admin = await open();
    await signIn(admin, DEMO.admin);
    await admin.getByRole('link', { name: 'Audit log' }).click();
    const events = admin.getByRole('table', { name: 'Audit events' });
    await events.waitFor();
    const text = (await events.textContent()) ?? '';
    expect(text).toContain('Dr. Sarah Chen');
    // The patient role too, not only "Dr. Sarah Chen".
    expect((text.match(/Sarah Chen/g) ?? []).length).toBeGreaterThan((text.match(/Dr\. Sarah Chen/g) ?? []).length);
    await screenshot(admin, 'audit-chen-both-roles');
    await admin.close();
  });

  it('opening the URL of a patient that does not exist (or that the role may not see) shows "not found", never a blank screen', async () => {
    const page = await open();
    await signIn(page, DEMO.nurse);
    await page.evaluate(() => (window.location.hash = '#/patients/00000000-0000-4000-8000-000000000000'));
    await page.getByTestId('not-found').waitFor();
    expect(await page.getByTestId('not-found').textContent()).toContain('Patient not found');
    await screenshot(page, 'patient-not-found');
    await page.close();
  });

  it('shows fields the host marked hidden as "hidden by access policy", never as empty', async () => {
    const page = await open();
    await signIn(page, DEMO.nurse);
    await page.getByLabel('Name').fill('Masked');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForFunction(() => /^1 patient\b/.test(document.querySelector('[data-testid=patient-count]')?.textContent ?? ''));
    const row = (await page.getByRole('table', { name: 'Patients' }).locator('tbody tr').first().textContent()) ?? '';
    expect(row.match(/hidden by access policy/g)).toHaveLength(2); // identifier and address
    await page.getByRole('link', { name: 'Morgan Masked' }).click();
    await page.getByText('Some fields of this record are hidden by your access policy.').waitFor();
    const demographics = (await page.locator('.demographics').textContent()) ?? '';
    expect(demographics.match(/hidden by access policy/g)).toHaveLength(3);
    await page.getByText('No numeric vital signs or lab values to chart.').waitFor();
    await screenshot(page, 'masked-fields');
    // The nurse reads patients and does not edit them: no "Edit patient" on the chart.
    expect(await page.getByRole('link', { name: 'Edit patient' }).count()).toBe(0);
    await page.close();
  });

  it(`Robert Johnson sees only his mother's data; another patient's URL shows "not found"`, async () => {
    const page = await open();
    await signIn(page, DEMO.robert);
    await page.waitForFunction(() => /^1 patient\b/.test(document.querySelector('[data-testid=patient-count]')?.textContent ?? ''));
    await page.getByRole('link', { name: 'Mary Johnson' }).click();
    await page.getByTestId('trend-chart').waitFor();
    await page.evaluate((id) => (window.location.hash = `#/patients/${id}`), String(server.info.sarahPatientId));
    await page.getByTestId('not-found').waitFor();
    await screenshot(page, 'robert-not-found');
    await page.close();
  });

  it(`the researcher sees the study cohort with names, telecom, address and identifiers hidden everywhere`, async () => {
    const page = await open();
    await signIn(page, DEMO.researcher);
    await page.getByRole('table', { name: 'Patients' }).waitFor();
    const table = (await page.getByRole('table', { name: 'Patients' }).textContent()) ?? '';
    expect(table).toContain('hidden by access policy');
    await page.getByRole('table', { name: 'Patients' }).getByRole('link').first().click();
    await page.getByText('Demographics').waitFor();
    const demographics = (await page.locator('.demographics').textContent()) ?? '';
    for (const label of ['Name', 'Identifiers', 'Phone / email', 'Address']) {
      expect(demographics).toContain(label);
    }
    expect((demographics.match(/hidden by access policy/g) ?? []).length).toBeGreaterThanOrEqual(4);
    await screenshot(page, 'researcher-hidden-fields');
    await page.close();
  });

  it('Nurse Williams records an observation: the form checks the value first, then it appears in the chart', async () => {
    const page = await open();
    await signIn(page, DEMO.nurse);
    await page.evaluate((id) => (window.location.hash = `#/patients/${id}`), String(server.info.maryId));
    await page.getByRole('link', { name: 'Record observation' }).click();
    await page.getByRole('heading', { name: 'New observation' }).waitFor();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Measurement is required').waitFor();
    await page.getByText('Value is required').waitFor();
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('SELECT'); // focus moved to the first error
    await page.getByLabel('Measurement').selectOption({ label: 'Heart rate (/min)' });
    await page.getByLabel('Value').fill('400');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Heart rate must be between 10 and 300 /min').waitFor();
    await screenshot(page, 'observation-validation');
    await page.getByLabel('Value').fill('88');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('chart-title').waitFor();
    await page.getByRole('tab', { name: /Observations/ }).click();
    await page.getByRole('cell', { name: /88 \/min/ }).first().waitFor();
    await screenshot(page, 'observation-recorded');
    await page.close();
  });

  it(`Nurse Williams breaks a write constraint and the reason is explained on screen`, async () => {
    const page = await open();
    await signIn(page, DEMO.nurse);
    await page.evaluate((id) => (window.location.hash = `#/patients/${id}`), String(server.info.maryId));
    await page.getByRole('link', { name: 'Record observation' }).click();
    await page.getByLabel('Measurement').selectOption({ label: 'Heart rate (/min)' });
    await page.getByLabel('Value').fill('70');
    await page.getByLabel('Status').selectOption('entered-in-error');
    await page.getByRole('button', { name: 'Save' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/Not saved: .*constraint/i);
    await screenshot(page, 'write-constraint');
    await page.close();
  });

  it('a version conflict on save is explained in words, and nothing is overwritten', async () => {
    const first = await open();
    await signIn(first, DEMO.chen, { role: 'Practitioner' });
    await first.evaluate((id) => (window.location.hash = `#/edit/Patient/${id}`), String(server.info.maryId));
    await first.getByLabel('City').waitFor();
    const second = await open();
    await signIn(second, DEMO.chen, { role: 'Practitioner' });
    await second.evaluate((id) => (window.location.hash = `#/edit/Patient/${id}`), String(server.info.maryId));
    await second.getByLabel('City').fill('Chicago');
    await second.getByRole('button', { name: 'Save' }).click();
    await second.getByTestId('chart-title').waitFor();
    await second.close();

    await first.getByLabel('City').fill('Peoria');
    await first.getByRole('button', { name: 'Save' }).click();
    const alert = first.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/Not saved: .*(version|match|conflict|changed)/i);
    await screenshot(first, 'edit-version-conflict');
    await first.close();
  });

  it('the admin reaches administration: memberships, a policy typed as JSON checked as it is typed and saved', async () => {
    const page = await open();
    await signIn(page, DEMO.admin);
    await page.getByRole('link', { name: 'Administration' }).click();
    const members = page.getByRole('table', { name: 'Memberships' });
    await members.getByText('Nurse Jennifer Williams').waitFor(); // the rows arrive after the table
    expect(await members.textContent()).toContain('Nurse Jennifer Williams');
    // The patients of per-patient access are named after the rows arrive: the screenshot waits for them.
    await members.getByText(/Mary Johnson \(Care team patient record\)/).waitFor();
    await screenshot(page, 'admin-memberships');

    await page.getByRole('link', { name: 'Access policies' }).click();
    await page.getByRole('button', { name: 'New policy' }).click();
    await page.getByRole('button', { name: 'JSON' }).click();
    const json = page.getByLabel('Policy JSON');
    await json.fill('{"resourceType": "AccessPolicy", "name": "Front desk", "resource": [{"resourceType": "Patient", "criteria": "Observation?code=1"}]}');
    await page.getByText('Entry 1: criteria must start with "Patient?"').waitFor();
    await json.fill('{"resourceType": "AccessPolicy", "name": "Front desk", "resource": [{"resourceType": "Patient", "hiddenFields": ["telecom"]}]');
    await page.getByText(/Not valid JSON/).waitFor();
    expect(await page.getByRole('button', { name: 'Save policy' }).isDisabled()).toBe(true);
    await json.fill('{"resourceType": "AccessPolicy", "name": "Front desk", "resource": [{"resourceType": "Patient", "hiddenFields": ["telecom"]}]}');
    await page.getByText('Valid policy JSON').waitFor();
    await screenshot(page, 'admin-policy-json');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('button', { name: 'Front desk' }).waitFor();
    await page.getByRole('button', { name: 'Form' }).click();
    expect(await page.getByLabel('Hidden fields').inputValue()).toBe('telecom');
    await screenshot(page, 'admin-policy-form');
    await page.close();
  });

  it(`the admin creates a policy, a user and membership; that user sees exactly what it allows; deactivating the membership ends the session`, async () => {
    const admin = await open();
    await signIn(admin, DEMO.admin);
    await admin.getByRole('link', { name: 'Administration' }).click();
    await admin.getByRole('link', { name: 'Access policies' }).click();
    await admin.getByRole('button', { name: 'New policy' }).click();
    await admin.getByLabel('Name').fill('Reception desk');
    await admin.getByLabel('Resource type').fill('Patient');
    await admin.getByLabel('Hidden fields').fill('address');
    await admin.getByRole('button', { name: 'Save policy' }).click();
    await admin.getByRole('button', { name: 'Reception desk' }).waitFor();
    await admin.getByRole('link', { name: 'Users and memberships' }).click();
    await admin.getByLabel('First name').fill('Pat');
    await admin.getByLabel('Last name').fill('Desk');
    await admin.getByLabel('Email').fill('pat.desk@demo.outpost');
    await admin.getByLabel('Initial password').fill('front-desk-1');
    await admin.getByLabel('Access policy').selectOption({ label: 'Reception desk' });
    await admin.getByRole('button', { name: 'Add person' }).click();
    await admin.getByText('Invited pat.desk@demo.outpost').waitFor();

    const user = await open();
    await signIn(user, 'pat.desk@demo.outpost', { password: 'front-desk-1' });
    const patients = user.getByRole('table', { name: 'Patients' });
    await patients.locator('tbody tr').first().waitFor();
    expect(await patients.textContent()).toContain('hidden by access policy'); // the address column
    expect(await user.getByRole('link', { name: 'Administration' }).count()).toBe(0);

    await admin.getByRole('button', { name: 'Deactivate Pat Desk' }).click();
    await admin.getByText('Membership deactivated').waitFor();
    await user.getByRole('button', { name: 'Search' }).click();
    await user.getByTestId('session-ended').waitFor();
    expect(await user.getByTestId('session-ended').textContent()).toContain('Your session has ended');
    await user.getByRole('heading', { name: 'Sign in to Outpost' }).waitFor();
    expect(await user.getByText('Failed to fetch tokens').count()).toBe(0);
    expect(await user.getByTestId('active-role').count()).toBe(0); // nothing of the session is left on screen
    await screenshot(user, 'deactivated-session-ended');
    await user.close();
    await admin.close();
  });

  it('imports Synthea bundles with a progress bar, finds the new patient, exports, and shows the sync and audit screens', async () => {
    const synthea = join(REPO_ROOT, '..', 'shared', 'fixtures', 'synthea-r4');
    const page = await open();
    await signIn(page, DEMO.admin);
    await page.getByRole('link', { name: 'Import / export' }).click();
    await page.getByLabel('Choose files').setInputFiles([
      join(synthea, 'hospitalInformation1559319163815.json.gz'),
      join(synthea, 'Jacob_Larson_0b324782-31d1-4659-89ab-58e075d6e61f.json.gz'),
    ]);
    await page.getByText('Import finished').waitFor({ timeout: 60_000 });
    const summary = (await page.getByRole('status').filter({ hasText: 'resources imported' }).textContent()) ?? '';
    expect(Number(/(\d+) resources imported/.exec(summary)?.[1])).toBeGreaterThan(50);
    expect(summary).not.toContain('failed');
    expect(await page.locator('progress').getAttribute('value')).toBe('2');
    await page.getByRole('button', { name: 'Export' }).click();
    await page.getByRole('link', { name: /Download outpost-export-.*\.ndjson/ }).waitFor({ timeout: 60_000 });
    await screenshot(page, 'import-export');

    await page.getByRole('link', { name: 'Patients' }).click();
    await page.getByLabel('Name').fill('Larson');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForFunction(() => /^1 patient\b/.test(document.querySelector('[data-testid=patient-count]')?.textContent ?? ''));
    await page.getByRole('table', { name: 'Patients' }).getByRole('link').first().click();
    await page.getByTestId('trend-chart').waitFor();
    await screenshot(page, 'imported-patient-chart');

    await page.getByRole('link', { name: 'Sync' }).click();
    await page.getByRole('heading', { name: 'Sync' }).waitFor();
    await page.getByText(/Sync is not configured|pending change/).first().waitFor();
    await screenshot(page, 'sync-panel');
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('search', { name: 'Filter audit events' }).waitFor();
    await page.waitForFunction(() => !document.querySelector('[aria-live=polite]')?.textContent?.includes('Loading'));
    await screenshot(page, 'audit-log');
    await page.close();
  }, 180_000);

  it('locks and unlocks: the data is covered until the right password is entered', async () => {
    const page = await open();
    await signIn(page, DEMO.nurse);
    await page.getByTestId('patient-count').waitFor();
    await page.getByRole('button', { name: 'Lock' }).click();
    await page.getByRole('heading', { name: 'Session locked' }).waitFor();
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByText('Email or password is invalid').waitFor();
    await screenshot(page, 'lock-screen');
    await page.getByLabel('Password').fill('outpost-demo-1');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('heading', { name: 'Session locked' }).waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Outpost' }).waitFor();
    await page.close();
  });

  it('never logs a CSP violation or an uncaught page error', () => {
    expect(pageErrors).toEqual([]);
  });
});
