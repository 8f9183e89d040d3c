import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import ExcelJS from 'exceljs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { nameInConfidentialCategories } from '../helpers/confidential.js';
import { loadFixture, NETWORK, PERIOD, T0, TestClock, VENDOR_PERIOD } from '../insight/fixture.js';
import { browserAvailable, ensureWebBuilt, launchBrowser, personContext, screenshot, signIn, watchPage } from './browser.js';

const PAYLOAD = '<img src=x onerror="window.__pwned = \'category\'; alert(1)">';

/**
 * The Reports page over the hand-computed fixture (test/insight/fixture.ts; every figure below is
 * worked out there and in test/insight/reports.test.ts), in a real Chromium against the built app.
 */
describe.skipIf(!browserAvailable)('web app: reports, charts and the escalation heat map', () => {
  let t: TestServer;
  let browser: Browser;
  let manager: TestUser;
  let page: Page;
  let seen: { errors: string[]; dialogs: string[] };
  const cell = (category: string, tier: string) => page.locator(`[data-cell="${category}/${tier}"]`);
  const pwned = () => page.evaluate(() => (globalThis as unknown as { __pwned?: string }).__pwned ?? null);

  beforeAll(async () => {
    ensureWebBuilt();
    const clock = new TestClock(T0 - 30 * 86_400_000);
    t = await startServer('sqlite', { clock });
    await loadFixture(t, clock);
    // Sessions are issued at the browser's own time, which is today.
    clock.at = Date.now();
    const admin = await t.user('admin');
    // A category name is user text: an administrator's matrix edit.
    const matrix = (await t.api('GET', '/api/v1/matrix', { as: admin })).body;
    matrix.categories.find((c: { key: string }) => c.key === NETWORK).name = { fr: PAYLOAD, en: PAYLOAD };
    expect((await t.api('PUT', '/api/v1/matrix', { as: admin, body: matrix })).status).toBe(200);
    manager = await t.user('manager', { locale: 'en' });
    // The fixture has data security breaches: the manager reading its figures is named for them.
    await nameInConfidentialCategories(t, manager);
    browser = await launchBrowser();
    page = await (await personContext(browser)).newPage();
    seen = watchPage(page);
    await signIn(page, t.url, manager.email);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('a manager opens Reports from the navigation and picks the period', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Reports' }).click();
    await page.getByRole('heading', { name: 'Reports', level: 1 }).waitFor();
    await page.getByLabel('From').fill(PERIOD.from);
    await page.getByLabel('To (excluded)').fill(PERIOD.to);
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/from=2026-03-01&to=2026-03-10/);
    // The figures of the default period stay until those of the new one arrive.
    await expect.poll(() => page.getByTestId('kpi-opened').locator('.big').textContent()).toBe('23');
  });

  it('draws the escalation rates in the shape of the matrix, with the by-hand and missed-deadline split', async () => {
    const heat = page.getByTestId('escalation-heatmap');
    await heat.waitFor();
    // Columns are the tiers, rows the categories, in the matrix's order.
    expect(await heat.locator('thead th').allTextContents()).toEqual(['Category', 'L1', 'L2', 'L3', 'LX']);
    expect(await heat.locator('tbody th').count()).toBe(4);
    // Network at L1: 7 stays, 1 by hand, 2 on the missed deadline.
    await expect(cell(NETWORK, 'L1').textContent()).resolves.toBe('43%3 of 7 escalatedby hand 1 · missed deadline 2');
    await expect(cell('software-installation-failure', 'L1').locator('.rate').textContent()).resolves.toBe('20%');
    await expect(cell('data-security-breach', 'L2').textContent()).resolves.toBe(
      '50%1 of 2 escalatedby hand 1 · missed deadline 0',
    );
    await expect(cell('cloud-service-interruption', 'L1').locator('.rate').textContent()).resolves.toBe('50%');
    await expect(cell('data-security-breach', 'LX').locator('.rate').textContent()).resolves.toBe('0%');
    await expect(cell('software-installation-failure', 'L3').textContent()).resolves.toBe('no stay');
    // Colour follows the rate: 43% is the second of four steps, 0% none, 50% the second.
    expect(await cell(NETWORK, 'L1').getAttribute('class')).toBe('heat-2');
    expect(await cell('data-security-breach', 'LX').getAttribute('class')).toBe('heat-0');
    expect(await cell('software-installation-failure', 'L3').getAttribute('class')).toBe('heat-none');
  });

  it('renders the charts as SVG with their figures as text', async () => {
    const volume = page.getByTestId('chart-volume');
    expect(await volume.locator('svg rect').count()).toBe(4);
    await expect(volume.locator('desc').textContent()).resolves.toBe('Opened: 23; Acknowledged: 23; Resolved: 19; Reopened: 1');
    // The widest bar is the 23 opened; the 19 resolved are drawn in proportion.
    const widths = await volume.locator('svg rect').evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('width'))));
    expect(widths[2]! / widths[0]!).toBeCloseTo(19 / 23, 5);
    const sla = page.getByTestId('chart-sla');
    await expect(sla.locator('desc').textContent()).resolves.toContain('L1 P1, acknowledge: 81% (17 met, 4 missed)');
    expect(await page.getByTestId('chart-tier-time').locator('svg rect').count()).toBe(8);
    await expect(page.getByTestId('chart-ack').locator('desc').textContent()).resolves.toContain(
      'median, wall time: 10 min 00 s',
    );
    await screenshot(page, 'reports-march');
  });

  it('draws the incidents opened per day over the period, empty days at zero, and per week on request', async () => {
    const trend = page.getByTestId('chart-trend');
    const opened = trend.locator('[data-series="opened"] circle');
    // 1 to 9 March: one point per day, all 23 incidents opened on Tuesday the 3rd.
    await expect
      .poll(() =>
        opened.evaluateAll((cs) => cs.map((c) => [c.getAttribute('data-bucket'), Number(c.getAttribute('data-value'))])),
      )
      .toEqual([
        ['2026-03-01', 0],
        ['2026-03-02', 0],
        ['2026-03-03', 23],
        ['2026-03-04', 0],
        ['2026-03-05', 0],
        ['2026-03-06', 0],
        ['2026-03-07', 0],
        ['2026-03-08', 0],
        ['2026-03-09', 0],
      ]);
    // The busiest point is at the top of the plot, the empty days on the axis.
    const ys = await opened.evaluateAll((cs) => cs.map((c) => Number(c.getAttribute('cy'))));
    expect(ys[2]).toBeLessThan(ys[0]!);
    expect(new Set(ys.filter((_, i) => i !== 2)).size).toBe(1);
    // 19 resolved; escalations: S2 4 by hand, S3 4 on the missed deadline, S4 3 by hand; S3's 4 acknowledgements missed.
    await expect(trend.locator('desc').textContent()).resolves.toContain(
      '2026-03-03: Opened 23, Resolved 19, Escalations 11, Targets missed 4; 2026-03-04: Opened 0',
    );

    // The switch follows the address, which changes just after the click: click, then wait for it.
    await page.getByRole('radio', { name: 'Week' }).click();
    await page.waitForURL(/interval=week/);
    // Sunday the 1st belongs to the week of Monday 23 February.
    await expect
      .poll(() =>
        opened.evaluateAll((cs) => cs.map((c) => [c.getAttribute('data-bucket'), Number(c.getAttribute('data-value'))])),
      )
      .toEqual([
        ['2026-02-23', 0],
        ['2026-03-02', 23],
        ['2026-03-09', 0],
      ]);
    await screenshot(page, 'reports-trend-week');
  });

  /** Clicks a report's file link (csv-sla, pdf-trend...) and gives the file Chromium saved. */
  const save = async (testId: string) => {
    const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
    const path = (await file.path())!;
    return { name: file.suggestedFilename(), data: await readFile(path), path };
  };

  it('downloads the trend and the other reports as CSV files', async () => {
    const download = async (report: string) => {
      const { name, data } = await save(`csv-${report}`);
      return { name, text: data.toString('utf8').replace(/^\uFEFF/, '') };
    };
    const trend = await download('trend');
    expect(trend.name).toBe('palier-trend-week-2026-03-01-2026-03-10.csv');
    const lines = trend.text.split('\r\n');
    expect(lines[0]).toBe(
      'start,from,to,opened,acknowledged,resolved,escalated,escalated_by_hand,escalated_automatically,ack_met,ack_missed,resolve_met,resolve_missed',
    );
    expect(lines[2]).toMatch(/^2026-03-02,2026-03-02T00:00:00.000Z,2026-03-09T00:00:00.000Z,23,23,19,11,7,4,/);
    const sla = await download('sla');
    expect(sla.name).toBe('palier-sla-2026-03-01-2026-03-10.csv');
    expect(sla.text.split('\r\n')[0]).toBe(
      'tier,priority,stints,ack_met,ack_missed,ack_compliance,resolve_met,resolve_missed,resolve_compliance',
    );
    expect(sla.text).toContain('L1,P1,21,17,4,');
    // Every report shown has its link, named after it for screen readers.
    for (const report of ['volume', 'times', 'tier-time', 'escalations'])
      await expect(page.getByTestId(`csv-${report}`).getAttribute('href')).resolves.toBe(
        `/api/v1/reports/${report}?from=2026-03-01&to=2026-03-10&format=csv`,
      );
    await page.getByRole('link', { name: 'Download CSV: SLA compliance per tier and priority' }).waitFor();
  });

  it('downloads the reports as XLSX workbooks and PDF documents, named like the CSV files', async () => {
    const xlsx = await save('xlsx-sla');
    expect(xlsx.name).toBe('palier-sla-2026-03-01-2026-03-10.xlsx');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx.data as unknown as ArrayBuffer);
    const sheet = workbook.worksheets[0]!;
    expect((sheet.getRow(1).values as unknown[]).slice(1, 6)).toEqual(['tier', 'priority', 'stints', 'ack_met', 'ack_missed']);
    // The figures of the SLA chart, as numbers.
    expect((sheet.getRow(2).values as unknown[]).slice(1, 6)).toEqual(['L1', 'P1', 21, 17, 4]);
    const pdf = await save('pdf-trend');
    expect(pdf.name).toBe('palier-trend-week-2026-03-01-2026-03-10.pdf');
    expect(pdf.data.subarray(0, 5).toString()).toBe('%PDF-');
    // The PDF is in the language the page is shown in.
    for (const report of ['volume', 'times', 'sla', 'tier-time', 'escalations']) {
      const base = `/api/v1/reports/${report}?from=2026-03-01&to=2026-03-10`;
      await expect(page.getByTestId(`xlsx-${report}`).getAttribute('href')).resolves.toBe(`${base}&format=xlsx`);
      await expect(page.getByTestId(`pdf-${report}`).getAttribute('href')).resolves.toBe(`${base}&format=pdf&lang=en`);
    }
    await page.getByRole('link', { name: 'Download PDF: Over time' }).waitFor();
    await page.getByRole('link', { name: 'Download XLSX: Escalation rate per matrix cell' }).waitFor();
  });

  it('shows the category name with markup as text, and runs none of it', async () => {
    const row = page.getByTestId('escalation-heatmap').locator('tbody tr').nth(1);
    await expect(row.locator('th').textContent()).resolves.toBe(PAYLOAD);
    await page.waitForTimeout(300); // time for a failed image load to fire onerror, were there one
    expect(await page.getByTestId('escalation-heatmap').locator('img').count()).toBe(0);
    expect(await pwned()).toBeNull();
  });

  it('shows the vendor scorecard and the reopen rate of the hand-over week, and speaks French', async () => {
    await page.goto(`${t.url}/reports?from=${VENDOR_PERIOD.from}&to=${VENDOR_PERIOD.to}`);
    const card = page.getByTestId('vendor-scorecard');
    await card.waitFor();
    expect(await card.locator('tbody th').allTextContents()).toEqual(['Acme Networks', 'Bolt Cloud']);
    const acme = card.locator('tbody tr').first();
    expect(await acme.locator('td').allTextContents()).toEqual([
      '4',
      '4',
      '3 (75%)',
      '75% 3 met, 1 missed' + 'mean 11 min 40 s, median 10 min 00 s · target 30 min',
      '100% 4 met, 0 missed' + 'mean 1 h 22 min, median 1 h 25 min · target 4 h',
    ]);
    await expect(page.getByTestId('kpi-reopen').locator('.big').textContent()).resolves.toBe('40%');
    await expect(page.getByTestId('kpi-top').textContent()).resolves.toContain('Acme Networks: 3 (50%)');
    await screenshot(page, 'reports-vendors');

    await page.getByLabel('Language').selectOption('fr');
    await page.getByRole('heading', { name: 'Bilan des prestataires' }).waitFor();
    await page.getByRole('heading', { name: 'Taux d’escalade par case de la matrice' }).waitFor();
    await page.getByRole('heading', { name: 'Évolution' }).waitFor();
    await page.getByRole('radio', { name: 'Semaine' }).waitFor();
    await page.getByRole('link', { name: 'Télécharger en CSV : Bilan des prestataires' }).waitFor();
    await page.getByRole('link', { name: 'Télécharger en XLSX : Bilan des prestataires' }).waitFor();
    const pdf = page.getByRole('link', { name: 'Télécharger en PDF : Bilan des prestataires' });
    await expect.poll(() => pdf.getAttribute('href')).toMatch(/&format=pdf&lang=fr$/);
    const french = await save('pdf-vendors');
    expect(french.name).toBe(`palier-vendors-${VENDOR_PERIOD.from}-${VENDOR_PERIOD.to}.pdf`);
    expect(french.data.subarray(0, 5).toString()).toBe('%PDF-');
    const text = execFileSync('pdftotext', ['-raw', french.path, '-'], { encoding: 'utf8' });
    expect(text).toContain('Bilan des prestataires');
    expect(text).toContain('Acme Networks');
  });

  it('no page error and no dialog', () => {
    expect(seen.errors).toEqual([]);
    expect(seen.dialogs).toEqual([]);
  });
});
