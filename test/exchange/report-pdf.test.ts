import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { reportToPdf } from '../../src/exchange/report-pdf.js';
import { recordsTable } from '../../src/exchange/report-tables.js';

const poppler = (() => {
  try {
    execFileSync('pdftotext', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const dir = mkdtempSync(join(tmpdir(), 'palier-report-pdf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Word {
  text: string;
  page: number;
  xMin: number;
  xMax: number;
  yMin: number;
}

/** Every word of the PDF with its box, as pdftotext -bbox places it. */
function words(data: Buffer, name: string): Word[] {
  const file = join(dir, name);
  writeFileSync(file, data);
  const html = execFileSync('pdftotext', ['-bbox', file, '-'], { encoding: 'utf8' });
  const out: Word[] = [];
  html
    .split('<page')
    .slice(1)
    .forEach((page, i) => {
      for (const m of page.matchAll(/<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)<\/word>/g))
        out.push({ text: m[4]!, page: i + 1, xMin: Number(m[1]), yMin: Number(m[2]), xMax: Number(m[3]) });
    });
  return out;
}

const VENDOR_KEYS = ['vendorId', 'name', 'ackTarget', 'resolveTarget', 'engagements', 'incidents', 'reachedTop', 'topShare'];
const vendor = (vendorId: number, name: string) => ({
  vendorId,
  name,
  ackTarget: 'PT30M',
  resolveTarget: 'P1DT4H',
  engagements: 12,
  incidents: 4,
  reachedTop: 1,
  topShare: 0.25,
});
const context = { from: '2026-03-01', to: '2026-04-01', generatedAt: Date.parse('2026-04-01T06:00:00Z') };

describe.runIf(poppler)('printable reports (PDF)', () => {
  // As a table row (few columns) and as a heading of the one-row-per-figure layout (the full scorecard).
  it.each([
    ['a row', VENDOR_KEYS],
    ['a column heading', [...VENDOR_KEYS, 'acknowledged', 'ackMeanMs', 'ackMedianMs', 'ackMet', 'ackMissed', 'ackCompliance']],
  ])('wraps a very long vendor name as %s, over no other text', async (_layout, keys) => {
    const long = `Zeta ${'Réseaux-et-Télécommunications-Internationales '.repeat(8)}Zulu`;
    const table = recordsTable('vendors', keys, [vendor(1, 'Alpha'), vendor(2, long), vendor(3, 'Omega')]);
    const all = words(await reportToPdf(table, context, 'en'), `long-${keys.length}.pdf`);
    const name = all.filter((w) => /Réseaux|Télécommunications|Zeta|Zulu/.test(w.text));
    // Wrapped on several lines...
    expect(new Set(name.map((w) => Math.round(w.yMin))).size).toBeGreaterThan(3);
    expect(name.at(-1)!.text).toBe('Zulu');
    // ...and no two words of the page overlap.
    const overlap = (a: Word, b: Word) =>
      a.page === b.page && a.xMin < b.xMax - 0.5 && b.xMin < a.xMax - 0.5 && Math.abs(a.yMin - b.yMin) < 6;
    for (const [i, a] of all.entries())
      for (const b of all.slice(i + 1)) expect(overlap(a, b), `${a.text} / ${b.text}`).toBe(false);
    expect(all.map((w) => w.text)).toEqual(expect.arrayContaining(['Alpha', 'Omega']));
  });

  it('numbers its pages and repeats the table heading on each', async () => {
    const rows = Array.from({ length: 120 }, (_, i) => vendor(i + 1, `Vendor ${i + 1}`));
    const keys = ['name', 'engagements', 'incidents', 'reachedTop', 'topShare'];
    const all = words(await reportToPdf(recordsTable('vendors', keys, rows), context, 'fr'), 'pages.pdf');
    const pages = Math.max(...all.map((w) => w.page));
    expect(pages).toBeGreaterThan(1);
    const text = (page: number) =>
      all
        .filter((w) => w.page === page)
        .map((w) => w.text)
        .join(' ');
    for (let p = 1; p <= pages; p++) {
      expect(text(p)).toContain(`Page ${p} sur ${pages}`);
      expect(text(p)).toContain('Prestataire Transferts Incidents');
      expect(text(p)).toContain('Généré le 2026-04-01 06:00 UTC');
    }
    expect(text(pages)).toContain('Vendor 120');
  });
});
