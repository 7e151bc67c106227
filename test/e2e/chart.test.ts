// A chart clinicians can trust (issue 16), in Chromium on the demo clinic: right values and units, the
// right patient on every page and form, only the actions the role may take and no request it is refused,
// hidden fields from each record's own markers, where sign-in, role switch, sign-out, reload and lock take
// the user, 390 px wide, tabs by keyboard, a favicon. Every screenshot is also checked with axe-core.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { DEMO, chromiumAvailable, screenshot, signIn, useChromiumApp } from './harness.ts';

describe.skipIf(!chromiumAvailable())('the chart in Chromium (issue 16)', { timeout: 120_000 }, () => {
  const app = useChromiumApp();
  const { open, pageErrors } = app;

  const gotoChart = async (page: Page, id: string): Promise<void> => {
    await page.evaluate((target) => (window.location.hash = `#/patients/${target}`), id);
    await page.getByTestId('patient-banner').waitFor();
  };
  const mary = (): string => String(app.server.info.maryId);
  const text = async (page: Page, testId: string): Promise<string> => (await page.getByTestId(testId).textContent()) ?? '';

  it('a Synthea patient: blood pressure systolic first in mmHg, rounded values, humane units, lab panels, dates without midnight, codes by display', async () => {
    const { page } = await open();
    await signIn(page, DEMO.chen, { role: 'Practitioner' });
    await page.getByLabel('Name').fill('Koepp');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForFunction(() => /^1 patient\b/.test(document.querySelector('[data-testid=patient-count]')?.textContent ?? ''));
    await page.getByRole('table', { name: 'Patients' }).getByRole('link').first().click();
    await page.getByTestId('trend-chart').waitFor();
    const demographics = (await page.locator('.demographics').textContent()) ?? '';
    expect(demographics).toContain('Married');
    expect(demographics).not.toMatch(/Marital status\s*M\b/);

    // The chart: blood pressure is systolic then diastolic, whatever order Synthea wrote the components in.
    const measure = page.getByLabel('Measure');
    const bpOption = await measure.locator('option', { hasText: 'Blood pressure' }).first().getAttribute('value');
    await measure.selectOption(bpOption ?? '');
    const legend = page.locator('figcaption.legend .legend-item');
    expect(await legend.first().getAttribute('data-series-code')).toBe('8480-6');
    expect(await legend.nth(1).getAttribute('data-series-code')).toBe('8462-4');
    const latest = await text(page, 'trend-latest');
    const bp = /(\d+)\/(\d+) mmHg/.exec(latest);
    expect(bp, latest).not.toBeNull();
    expect(Number(bp![1])).toBeGreaterThan(Number(bp![2])); // systolic above diastolic
    expect(latest).toMatch(/^Latest: Systolic.*\/Diastolic/);
    await screenshot(page, 'chart-synthea-blood-pressure');

    // The observations table: every blood pressure "S/D mmHg", no UCUM codes, no long decimals.
    await page.getByRole('tab', { name: /Observations/ }).click();
    const table = page.getByRole('table', { name: 'Observations' });
    await table.waitFor();
    const rows = await table.locator('tbody tr').allTextContents();
    const bpRows = rows.filter((r) => /Blood pressure/i.test(r));
    expect(bpRows.length).toBeGreaterThan(0);
    for (const row of bpRows) {
      const m = /(\d+)\/(\d+) mmHg/.exec(row);
      expect(m, row).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThan(Number(m![2]));
    }
    const all = rows.join('\n');
    expect(all).not.toMatch(/mm\[Hg\]|\bCel\b|10\*3|\{score\}|kg\/m2/);
    expect(all).not.toMatch(/\d+\.\d{3,}/);
    expect(all).toMatch(/kg\/m²|10³\/µL|mmHg/);
    expect(all).not.toMatch(/12:00:00|00:00:00/);
    await screenshot(page, 'chart-synthea-observations');

    // Lab results grouped by their DiagnosticReport panel.
    await page.getByRole('tab', { name: /Lab results/ }).click();
    await page.locator('.lab-panel').first().waitFor();
    const panels = await page.locator('.lab-panel h3').allTextContents();
    expect(panels.some((p) => /Complete blood count/i.test(p))).toBe(true);
    expect(panels.some((p) => /Lipid Panel/i.test(p))).toBe(true);
    await screenshot(page, 'chart-synthea-lab-panels');

    // Conditions: Synthea's onsets are moments (with their time); none shows a midnight artefact.
    await page.getByRole('tab', { name: /Conditions/ }).click();
    const conditions = (await page.getByRole('table', { name: 'Conditions' }).textContent()) ?? '';
    expect(conditions).toMatch(/[A-Z][a-z]{2} \d{1,2}, \d{4}/);
    expect(conditions).not.toMatch(/12:00(:00)? AM|00:00/);
    await page.close();
  }, 120_000);

  it(`Mary's chart: the banner (name, age, sex, MRN, penicillin allergy of high criticality), reference ranges and flags, °C`, async () => {
    const { page } = await open();
    await signIn(page, DEMO.chen, { role: 'Practitioner' });
    await gotoChart(page, mary());
    const banner = await text(page, 'patient-banner');
    expect(banner).toContain('Mary Johnson');
    expect(banner).toMatch(/Age\s*\d{2} y \(born Mar 14, 1948\)/);
    expect(banner).toContain('Female');
    expect(await text(page, 'banner-mrn')).toBe('MRN-789');
    const allergy = page.getByTestId('banner-allergies').locator('.allergy-high');
    expect(await allergy.textContent()).toBe('PenicillinHigh criticality');
    await screenshot(page, 'chart-mary-banner');

    await page.getByRole('tab', { name: /Lab results/ }).click();
    const panel = page.getByRole('region', { name: /Basic metabolic panel/ });
    await panel.waitFor();
    const potassium = (await panel.getByRole('row', { name: /Potassium/ }).textContent()) ?? '';
    expect(potassium).toContain('6.6 mmol/L');
    expect(potassium).toContain('3.5–5.1 mmol/L');
    expect(potassium).toContain('Critical high');
    expect(await panel.getByRole('row', { name: /Potassium/ }).locator('.flag-critical').count()).toBe(1);
    const glucose = (await panel.getByRole('row', { name: /Glucose/ }).textContent()) ?? '';
    expect(glucose).toMatch(/182 mg\/dL.*70–99 mg\/dL.*H · High/);
    const creatinine = (await panel.getByRole('row', { name: /Creatinine/ }).textContent()) ?? '';
    expect(creatinine).toMatch(/1\.1 mg\/dL.*0\.6–1\.2 mg\/dL.*Normal/); // flag derived from the range
    await screenshot(page, 'chart-mary-lab-flags');

    // Date-only values are dates: Mary's onsets have no time, and get none.
    await page.getByRole('tab', { name: /Conditions/ }).click();
    const conditions = (await page.getByRole('table', { name: 'Conditions' }).textContent()) ?? '';
    expect(conditions).toContain('May 1, 2019');
    expect(conditions).not.toMatch(/AM|PM/);
    await page.getByRole('tab', { name: /Observations/ }).click();
    const temperature = (await page.getByRole('table', { name: 'Observations' }).getByRole('row', { name: /Body temperature/ }).textContent()) ?? '';
    expect(temperature).toContain('37.2 °C');
    await page.close();
  });

  it('every data-entry form says whose record it is, with the allergies', async () => {
    const { page } = await open();
    await signIn(page, DEMO.chen, { role: 'Practitioner' });
    await gotoChart(page, mary());
    for (const action of ['Record observation', 'New encounter', 'New condition', 'Edit patient']) {
      await page.getByRole('link', { name: action }).click();
      await page.getByRole('button', { name: 'Save' }).waitFor();
      await page.waitForFunction(() => !/loading/.test(document.querySelector('[data-testid=banner-allergies]')?.textContent ?? 'loading'));
      const banner = await text(page, 'patient-banner');
      expect(banner, action).toContain('Mary Johnson');
      expect(banner, action).toContain('MRN-789');
      expect(banner, action).toContain('Penicillin');
      if (action === 'Record observation') await screenshot(page, 'form-banner-observation');
      await page.getByRole('link', { name: 'Cancel' }).click();
      await page.getByTestId('chart-title').waitFor();
    }
    await page.close();
  });

  const roleCases: [string, { email: string; role?: string; actions: string[]; newPatient: boolean; patient: () => string }][] = [
    ['physician', { email: DEMO.chen, role: 'Practitioner', actions: ['Edit patient', 'Record observation', 'New encounter', 'New condition'], newPatient: true, patient: mary }],
    ['nurse', { email: DEMO.nurse, actions: ['Record observation'], newPatient: false, patient: mary }],
    ['caregiver', { email: DEMO.robert, actions: [], newPatient: false, patient: mary }],
    ['patient', { email: DEMO.chen, role: 'Patient', actions: [], newPatient: false, patient: () => String(app.server.info.sarahPatientId) }],
  ];
  it.each(roleCases)('the %s is offered only what the role may do, and no screen asks for what it is refused', async (who, e) => {
    const { page, refused } = await open();
    await signIn(page, e.email, { role: e.role });
    await page.waitForFunction(() => /\d+ patient/.test(document.querySelector('[data-testid=patient-count]')?.textContent ?? ''));
    expect(await page.getByRole('link', { name: 'New patient' }).count(), who).toBe(e.newPatient ? 1 : 0);
    await gotoChart(page, e.patient());
    await page.getByTestId('trend-chart').waitFor();
    const offered = await page.locator('.page-head .actions a').allTextContents();
    expect(offered, who).toEqual(e.actions);
    for (const tab of await page.getByRole('tab').all()) await tab.click();
    await screenshot(page, `actions-${who}`);
    expect(refused, who).toEqual([]);
    await page.close();
  }, 120_000);

  it('the researcher: a chart with no refused request (no 403, so no audit "minor failure"), identities hidden, no actions', async () => {
    const { page, refused } = await open();
    await signIn(page, DEMO.researcher);
    const patients = page.getByRole('table', { name: 'Patients' });
    await patients.locator('tbody tr').first().waitFor();
    expect(await page.getByRole('link', { name: 'New patient' }).count()).toBe(0);
    await patients.getByRole('link').first().click();
    await page.getByTestId('patient-banner').waitFor();
    await page.getByText('Demographics').waitFor();
    const tabs = await page.getByRole('tab').allTextContents();
    expect(tabs.map((t) => t.replace(/\d+|…/g, '').trim())).toEqual(['Overview', 'Conditions', 'Observations']);
    for (const tab of await page.getByRole('tab').all()) await tab.click();
    expect(await page.locator('.page-head .actions a').count()).toBe(0);
    const banner = await text(page, 'patient-banner');
    expect(banner).toContain('hidden by access policy'); // name and MRN
    expect(banner).toContain('not available to your role'); // allergies: not readable, never asked for
    await screenshot(page, 'researcher-chart');
    expect(refused).toEqual([]);
    // The audit log records no denied request of hers.
    const admin = await open();
    await signIn(admin.page, DEMO.admin);
    const denied = await admin.page.evaluate(async () => {
      const login = JSON.parse(sessionStorage.getItem('activeLogin') ?? '{}') as { accessToken?: string };
      const res = await fetch('/fhir/R4/AuditEvent?outcome:not=0&_count=200', { headers: { authorization: `Bearer ${login.accessToken}` } });
      const bundle = (await res.json()) as { entry?: { resource: { agent?: { who?: { display?: string } }[] } }[] };
      return (bundle.entry ?? []).filter((e) => e.resource.agent?.some((a) => /Hannah Brooks/.test(a.who?.display ?? ''))).length;
    });
    expect(denied).toBe(0);
    await admin.page.close();
    await page.close();
  });

  it(`hidden fields come from each record's markers: the nurse sees Mary's phone, and "hidden" only on Morgan Masked`, async () => {
    const { page } = await open();
    await signIn(page, DEMO.nurse);
    await gotoChart(page, mary());
    const demographics = (await page.locator('.demographics').textContent()) ?? '';
    expect(demographics).toContain('555-0134');
    expect(demographics).toContain('12 Elm Street');
    expect(demographics).not.toContain('hidden by access policy');
    await screenshot(page, 'nurse-mary-not-masked');
    await gotoChart(page, String(app.server.info.maskedId));
    const masked = (await page.locator('.demographics').textContent()) ?? '';
    expect(masked.match(/hidden by access policy/g)).toHaveLength(3); // identifiers, phone, address
    await page.close();
  });

  it('role switch and sign-out land on the new role\'s home; sign-out leaves no trace', async () => {
    const { page } = await open();
    await signIn(page, DEMO.chen, { role: 'Practitioner' });
    await page.evaluate((id) => (window.location.hash = `#/edit/Patient/${id}`), mary());
    await page.getByLabel('City').waitFor();
    // Switch to her patient role on Mary's edit form: she lands on her home, not on "Patient not found".
    const switcher = page.getByLabel('Switch role');
    await switcher.selectOption((await switcher.locator('option', { hasText: '(Patient)' }).getAttribute('value')) ?? '');
    await page.waitForFunction(() => document.querySelector('[data-testid=active-role]')?.textContent?.includes('Patient'));
    await page.waitForFunction(() => window.location.hash === '#/patients');
    await page.getByRole('link', { name: 'Sarah Chen' }).waitFor();
    expect(await page.getByTestId('not-found').count()).toBe(0);
    await screenshot(page, 'role-switch-home');
    // Back to the practitioner, open Mary's edit form, sign out: nothing of it is left.
    await switcher.selectOption((await switcher.locator('option', { hasText: '(Practitioner)' }).getAttribute('value')) ?? '');
    await page.waitForFunction(() => document.querySelector('[data-testid=active-role]')?.textContent?.includes('Practitioner'));
    await page.evaluate((id) => (window.location.hash = `#/edit/Patient/${id}`), mary());
    await page.getByLabel('City').fill('Typed but never saved');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Outpost' }).waitFor();
    expect(await page.evaluate(() => window.location.hash)).toBe('#/patients');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(await page.content()).not.toContain('Typed but never saved');
    expect(await page.content()).not.toContain('Mary');
    // The next person (the researcher) opens on her home, not on Mary's edit form.
    await signIn(page, DEMO.researcher);
    await page.getByRole('table', { name: 'Patients' }).waitFor();
    expect(await page.evaluate(() => window.location.hash)).toBe('#/patients');
    expect(await page.getByTestId('not-found').count()).toBe(0);
    await page.close();
  });

  it('a reload keeps the session and the page; a locked session stays locked across a reload, and the lock screen shows nothing of the record', async () => {
    const { page } = await open();
    await signIn(page, DEMO.nurse);
    await gotoChart(page, mary());
    await page.reload();
    await page.getByTestId('patient-banner').waitFor();
    expect(await page.getByRole('heading', { name: 'Sign in to Outpost' }).count()).toBe(0);
    expect(await text(page, 'banner-name')).toBe('Mary Johnson');
    // Lock with a form half filled: nothing of the record shows, a reload does not get past the lock.
    await page.getByRole('link', { name: 'Record observation' }).click();
    await page.getByLabel('Value').fill('77');
    await page.getByRole('button', { name: 'Lock' }).click();
    await page.getByRole('heading', { name: 'Session locked' }).waitFor();
    expect(await page.getByText('Mary Johnson').isVisible()).toBe(false);
    expect(await page.locator('.app').isVisible()).toBe(false);
    await screenshot(page, 'lock-screen-opaque');
    await page.reload();
    await page.getByRole('heading', { name: 'Session locked' }).waitFor();
    expect(await page.getByText('Mary Johnson').count()).toBe(0);
    await page.getByLabel('Password').fill('outpost-demo-1');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByTestId('patient-banner').waitFor();
    expect(await text(page, 'banner-name')).toBe('Mary Johnson');
    await page.close();
  });

  it('lock without reload keeps the half-filled form for after the unlock', async () => {
    const { page } = await open();
    await signIn(page, DEMO.nurse);
    await gotoChart(page, mary());
    await page.getByRole('link', { name: 'Record observation' }).click();
    await page.getByLabel('Value').fill('77');
    await page.getByRole('button', { name: 'Lock' }).click();
    await page.getByLabel('Password').fill('outpost-demo-1');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('heading', { name: 'Session locked' }).waitFor({ state: 'detached' });
    expect(await page.getByLabel('Value').inputValue()).toBe('77');
    await page.close();
  });

  it('usable 390 px wide: no page wider than the window, the vitals chart inside it', async () => {
    const { page } = await open();
    await page.setViewportSize({ width: 390, height: 844 });
    await signIn(page, DEMO.chen, { role: 'Practitioner' });
    await page.getByTestId('patient-count').waitFor();
    const overflow = (): Promise<number> => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await screenshot(page, 'narrow-patients', { fullPage: true });
    await gotoChart(page, mary());
    await page.getByTestId('trend-chart').waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    const chartBox = await page.getByTestId('trend-chart').boundingBox();
    expect(chartBox!.x).toBeGreaterThanOrEqual(0);
    expect(chartBox!.x + chartBox!.width).toBeLessThanOrEqual(390);
    await screenshot(page, 'narrow-chart', { fullPage: true });
    await page.getByRole('tab', { name: /Observations/ }).click();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.getByRole('link', { name: 'Record observation' }).click();
    await page.getByRole('button', { name: 'Save' }).waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await screenshot(page, 'narrow-form', { fullPage: true });
    await page.close();
  });

  it('tabs move with the arrow keys, the focus with the selection; every button has a name; the favicon loads', async () => {
    const { page, refused } = await open();
    await signIn(page, DEMO.chen, { role: 'Practitioner' });
    await gotoChart(page, mary());
    await page.getByTestId('trend-chart').waitFor(); // the sections are loaded: their counts are shown
    await page.getByRole('tab', { name: 'Overview' }).focus();
    await page.keyboard.press('ArrowRight');
    const focused = (): Promise<string> => page.evaluate(() => `${document.activeElement?.getAttribute('role')}:${document.activeElement?.textContent}:${document.activeElement?.getAttribute('aria-selected')}`);
    expect(await focused()).toMatch(/^tab:Encounters\d+:true$/);
    await page.keyboard.press('End');
    expect(await focused()).toMatch(/^tab:Care plans\d+:true$/);
    await page.keyboard.press('ArrowRight');
    expect(await focused()).toMatch(/^tab:Overview:true$/);
    await page.keyboard.press('ArrowLeft');
    expect(await focused()).toMatch(/^tab:Care plans/);
    expect(await page.getByRole('tab', { name: 'Overview' }).getAttribute('tabindex')).toBe('-1');
    // Buttons without a name: none (axe checks it on every screenshot too).
    const unnamed = await page.evaluate(() => [...document.querySelectorAll('button, [role=button], a[href]')].filter((b) => !(b.getAttribute('aria-label') || b.textContent?.trim() || b.getAttribute('title'))).length);
    expect(unnamed).toBe(0);
    const favicon = await page.evaluate(async () => {
      const res = await fetch('/favicon.ico');
      return { status: res.status, type: res.headers.get('content-type'), size: (await res.arrayBuffer()).byteLength };
    });
    expect(favicon).toMatchObject({ status: 200, type: 'image/x-icon' });
    expect(favicon.size).toBeGreaterThan(100);
    expect(await page.locator('link[rel=icon]').getAttribute('href')).toBe('./favicon.ico');
    expect(refused.filter((r) => r.startsWith('404'))).toEqual([]);
    await page.close();
  });

  it('never logs a CSP violation or an uncaught page error', () => {
    expect(pageErrors).toEqual([]);
  });
});
