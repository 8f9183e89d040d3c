import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/engines.js';
import { nameInConfidentialCategories } from '../helpers/confidential.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { loadFixture, NETWORK, TestClock } from './fixture.js';
import { FORMULA_VENDOR, TREND_SCENARIOS } from './trend-fixture.js';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const poppler = (() => {
  try {
    execFileSync('pdftotext', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
/** Pixels of a binary PPM (P6) close to the opened line's blue. */
function bluePixels(ppm: Buffer): number {
  // Header: P6, width, height, max value, each followed by whitespace.
  let offset = 0;
  for (let fields = 0; fields < 4; offset++)
    if (/\s/.test(String.fromCharCode(ppm[offset]!)) && !/\s/.test(String.fromCharCode(ppm[offset - 1]!))) fields++;
  let n = 0;
  for (let i = offset; i + 2 < ppm.length; i += 3)
    if (Math.abs(ppm[i]! - 0x1f) < 30 && Math.abs(ppm[i + 1]! - 0x5f) < 30 && Math.abs(ppm[i + 2]! - 0xae) < 30) n++;
  return n;
}
const squash = (s: string) => s.replace(/[\s\u00a0\u202f]+/g, ' ').trim();

// The figures are those of test/insight/trend.test.ts, worked out by hand from trend-fixture.ts.
describe.each(ENGINES)('report files (XLSX and PDF) on %s', (engine) => {
  let t: TestServer;
  let officer: TestUser, french: TestUser, agent: TestUser;
  let dir: string;
  const file = async (path: string, as: TestUser = officer, headers: Record<string, string> = {}) => {
    const res = await fetch(t.url + path, { headers: { authorization: `Bearer ${as.token}`, ...headers } });
    const data = Buffer.from(await res.arrayBuffer());
    expect(res.status, data.toString('utf8').slice(0, 300)).toBe(200);
    return { type: res.headers.get('content-type'), disposition: res.headers.get('content-disposition'), data };
  };
  const sheetOf = async (data: Buffer) => {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(data as unknown as ArrayBuffer);
    expect(wb.worksheets).toHaveLength(1);
    return wb.worksheets[0]!;
  };
  const values = (sheet: ExcelJS.Worksheet, n: number) => (sheet.getRow(n).values as unknown[]).slice(1);
  const pdfText = (name: string, data: Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, data);
    return squash(execFileSync('pdftotext', ['-layout', path, '-'], { encoding: 'utf8' }));
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palier-report-files-'));
    const clock = new TestClock(Date.parse('2026-02-01T00:00:00Z'));
    t = await startServer(engine, { clock });
    await loadFixture(t, clock, TREND_SCENARIOS);
    officer = await t.user('manager', { locale: 'en' });
    french = await t.user('manager', { locale: 'fr' });
    agent = await t.user('agent');
    await nameInConfidentialCategories(t, officer);
    // Files carry the time they were made.
    clock.at = Date.parse('2026-03-20T08:15:00Z');
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the trend as a workbook: header, numbers as numbers, instants as dates, header frozen', async () => {
    const { type, disposition, data } = await file('/api/v1/reports/trend?from=2026-03-02&to=2026-03-05&format=xlsx');
    expect(type).toBe(XLSX);
    expect(disposition).toBe('attachment; filename="palier-trend-day-2026-03-02-2026-03-05.xlsx"');
    const sheet = await sheetOf(data);
    expect(values(sheet, 1)).toEqual([
      'start',
      'from',
      'to',
      'opened',
      'acknowledged',
      'resolved',
      'escalated',
      'escalated_by_hand',
      'escalated_automatically',
      'ack_met',
      'ack_missed',
      'resolve_met',
      'resolve_missed',
    ]);
    expect(sheet.rowCount).toBe(4);
    // Wednesday: B and C, each escalated once (C by hand, B on its missed deadline).
    expect(values(sheet, 4)).toEqual([
      new Date('2026-03-04T00:00:00Z'),
      new Date('2026-03-04T00:00:00Z'),
      new Date('2026-03-05T00:00:00Z'),
      2,
      2,
      2,
      2,
      1,
      1,
      3,
      1,
      4,
      0,
    ]);
    expect(sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(sheet.getColumn(1).width).toBeGreaterThanOrEqual(10);
  });

  it('writes rates as numbers shown as percentages, and every other report with its header', async () => {
    const period = 'from=2026-03-02&to=2026-03-09';
    const sla = await sheetOf((await file(`/api/v1/reports/sla?${period}&format=xlsx`)).data);
    expect(values(sla, 1)).toEqual([
      'tier',
      'priority',
      'stints',
      'ack_met',
      'ack_missed',
      'ack_compliance',
      'resolve_met',
      'resolve_missed',
      'resolve_compliance',
    ]);
    // L1 P1: 6 stays, B's acknowledgement missed.
    expect(values(sla, 2)).toEqual(['L1', 'P1', 6, 5, 1, 5 / 6, 4, 0, 1]);
    expect(sla.getCell('F2').numFmt).toMatch(/%/);
    const volume = await sheetOf((await file(`/api/v1/reports/volume?${period}&format=xlsx`)).data);
    expect(values(volume, 1)).toEqual(['figure', 'tier', 'vendor_id', 'vendor', 'value']);
    expect(values(volume, 2)).toEqual(['opened', undefined, undefined, undefined, 6]);
    for (const [report, first] of [
      ['times', 'acknowledged'],
      ['escalations', 'category'],
      ['tier-time', 'tier'],
    ] as const) {
      const { disposition, data } = await file(`/api/v1/reports/${report}?${period}&format=xlsx`);
      expect(disposition).toBe(`attachment; filename="palier-${report}-2026-03-02-2026-03-09.xlsx"`);
      expect(values(await sheetOf(data), 1)[0]).toBe(first);
    }
    // An empty report still has its header.
    expect((await sheetOf((await file('/api/v1/reports/sla?from=2025-01-01&to=2025-01-02&format=xlsx')).data)).rowCount).toBe(1);
  });

  it('writes a vendor name that is a formula as text, never as a formula', async () => {
    const sheet = await sheetOf((await file('/api/v1/reports/vendors?from=2026-03-02&to=2026-03-09&format=xlsx')).data);
    expect(values(sheet, 1).slice(0, 4)).toEqual(['vendor_id', 'name', 'ack_target', 'resolve_target']);
    const name = sheet.getCell('B2');
    expect(name.type).toBe(ExcelJS.ValueType.String);
    expect(name.value).toBe(`'${FORMULA_VENDOR}`);
    expect(values(sheet, 2).slice(0, 6)).toEqual([900, `'${FORMULA_VENDOR}`, 'PT1H', 'PT4H', 1, 1]);
    sheet.eachRow((row) => row.eachCell((c) => expect(c.type).not.toBe(ExcelJS.ValueType.Formula)));
  });

  it('keeps the scope and the permissions of the report', async () => {
    for (const format of ['xlsx', 'pdf'])
      expect(
        (await t.api('GET', `/api/v1/reports/trend?from=2026-03-09&to=2026-03-12&format=${format}`, { as: agent })).status,
      ).toBe(403);
    // The French manager is not named for data security breaches: D on Tuesday the 10th is left out.
    const officers = await sheetOf((await file('/api/v1/reports/trend?from=2026-03-09&to=2026-03-12&format=xlsx')).data);
    const others = await sheetOf((await file('/api/v1/reports/trend?from=2026-03-09&to=2026-03-12&format=xlsx', french)).data);
    expect(values(officers, 3)[3]).toBe(1);
    expect(values(others, 3)[3]).toBe(0);
    const filtered = await sheetOf(
      (await file(`/api/v1/reports/trend?from=2026-03-02&to=2026-03-07&category=${NETWORK}&format=xlsx`)).data,
    );
    expect([2, 3, 4, 5, 6].map((n) => values(filtered, n)[3])).toEqual([2, 0, 0, 2, 0]);
  });

  it('serves a printable PDF in the reader’s language', async () => {
    const en = await file('/api/v1/reports/sla?from=2026-03-02&to=2026-03-09&format=pdf');
    expect(en.type).toBe('application/pdf');
    expect(en.disposition).toBe('attachment; filename="palier-sla-2026-03-02-2026-03-09.pdf"');
    expect(en.data.subarray(0, 5).toString()).toBe('%PDF-');
    const fr = await file('/api/v1/reports/sla?from=2026-03-02&to=2026-03-09&format=pdf', french);
    expect(fr.data.subarray(0, 5).toString()).toBe('%PDF-');
    if (!poppler) return;
    const english = pdfText('sla-en.pdf', en.data);
    expect(english).toContain('SLA compliance per tier and priority');
    expect(english).toContain('Period: 2026-03-02 to 2026-03-09 (excluded)');
    expect(english).toContain('Generated on 2026-03-20 08:15 UTC');
    expect(english).toContain('Page 1 of 1');
    // L1 P1: 6 stays, 5 acknowledged in time, 1 late: 83.3%.
    expect(english).toMatch(/L1 P1 6 5 1 83\.3% 4 0 100%/);
    const french_ = pdfText('sla-fr.pdf', fr.data);
    expect(french_).toContain('Respect des SLA par niveau et priorité');
    expect(french_).toContain('Période : du 2026-03-02 au 2026-03-09 (exclu)');
    expect(french_).toContain('Généré le 2026-03-20 08:15 UTC');
    expect(french_).toMatch(/L1 P1 6 5 1 83,3 % 4 0 100 %/);
    // The lang parameter wins over the reader's own language.
    expect(
      pdfText('sla-lang.pdf', (await file('/api/v1/reports/sla?from=2026-03-02&to=2026-03-09&format=pdf&lang=fr')).data),
    ).toContain('Respect des SLA');
  });

  it.runIf(poppler)('prints the trend with its chart, filters and figures, in French and in English', async () => {
    const query = `from=2026-03-02&to=2026-03-07&category=${NETWORK}&format=pdf`;
    const en = await file(`/api/v1/reports/trend?${query}`);
    expect(en.disposition).toBe('attachment; filename="palier-trend-day-2026-03-02-2026-03-07.pdf"');
    const english = pdfText('trend-en.pdf', en.data);
    expect(english).toContain('Incidents per day');
    // Categories by their name in the reader's language.
    expect(english).toContain('Filters: Category: Network downtime');
    // The legend of the chart, then the table: Monday's two network incidents, Thursday's two.
    expect(english).toContain('Opened Resolved Escalated Targets missed');
    expect(english).toMatch(/2026-03-02 2 2 2 0 0 0 2 0 2 0/);
    expect(english).toMatch(/2026-03-05 2 2 0 0 0 0 2 0 0 0/);
    const french_ = pdfText('trend-fr.pdf', (await file(`/api/v1/reports/trend?${query}&interval=week`, french)).data);
    expect(french_).toContain('Évolution par semaine');
    expect(french_).toContain('Filtres : Catégorie : Temps d’arrêt du réseau');
    expect(french_).toContain('Ouverts Résolus Escaladés Objectifs manqués');
    expect(french_).toMatch(/2026-03-02 4 4 2 0 0 0 4 0 2 0/);
    // The chart is drawn: rendered, the page has the blue of the opened line (#1f5fae), which nothing else uses.
    const page = join(dir, 'trend-en');
    execFileSync('pdftoppm', ['-r', '50', '-singlefile', join(dir, 'trend-en.pdf'), page]);
    expect(bluePixels(readFileSync(`${page}.ppm`))).toBeGreaterThan(50);
  });

  it.runIf(poppler)('prints the escalation rates per category by name', async () => {
    const text = pdfText(
      'escalations.pdf',
      (await file('/api/v1/reports/escalations?from=2026-03-02&to=2026-03-09&format=pdf')).data,
    );
    expect(text).toContain('Escalation rate per matrix cell');
    // C, software, left L1 by hand: 1 stay, escalated, by hand.
    expect(text).toMatch(/Software installation failure L1 1 1 1 0 0 0 100% 100% 0%/);
  });

  it.runIf(poppler)('prints the vendor scorecard with a long formula-like name wrapped, not run over', async () => {
    const text = pdfText('vendors.pdf', (await file('/api/v1/reports/vendors?from=2026-03-02&to=2026-03-09&format=pdf')).data);
    expect(text).toContain('Vendor scorecard');
    // Contract targets in words; one hand-over, acknowledged.
    expect(text).toMatch(/Contract time to acknowledge 1 ?h Contract time to resolve 4 ?h/);
    expect(text).toContain('Hand-overs 1');
    expect(text.replace(/ /g, '')).toContain(FORMULA_VENDOR.replace(/ /g, ''));
  });
});
