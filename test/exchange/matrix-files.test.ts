import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.js';
import type { MatrixDefinition } from '../../src/domain/matrix.js';
import { SEED_MATRIX } from '../../src/domain/seed-matrix.js';
import { detectFormat, exportMatrix, importMatrix, IMPORT_FORMATS } from '../../src/exchange/matrix-files.js';
import { matrixFromCsv, matrixToCsv } from '../../src/exchange/matrix-csv.js';
import { matrixToXlsx } from '../../src/exchange/matrix-xlsx.js';
import { seedCopy } from '../helpers/builders.js';

const dir = mkdtempSync(join(tmpdir(), 'palier-exchange-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every optional part of a matrix filled in, so that the round trip covers more than the seed. */
function richMatrix(): MatrixDefinition {
  const m = seedCopy();
  m.categories[0]!.description = { fr: 'Logiciels « métier » et bureautique', en: 'Business and office software' };
  m.categories[1]!.confidential = false;
  m.categories[3]!.confidential = { tiers: ['L2', 'LX'], users: [7, 12] };
  m.cells[0]!.mandatory = [0];
  m.cells[1]!.reopenLimit = 2;
  m.cells[3]!.actions[0] = { fr: '=Vérifier le câblage\u00a0; noter l’état', en: '+Check the cabling' };
  m.sla.push({
    tier: 'L1',
    priority: 'P1',
    category: 'network-downtime',
    acknowledge: 'PT5M',
    resolve: 'PT30M',
    calendar: 'office',
  });
  m.calendars = [
    {
      key: 'office',
      name: { fr: 'Bureau', en: 'Office' },
      calendar: {
        kind: 'business-hours',
        timeZone: 'Europe/Paris',
        week: { mon: [{ start: '08:00', end: '19:00' }] },
        holidays: { country: 'FR' },
      },
    },
  ];
  m.escalation = { warnAt: 0.5, rules: [{ tier: 'L2', priority: 'P3', resolve: 'notify' }], repeatEvery: 'PT30M', maxRepeats: 2 };
  return m;
}

/** The text of a cell of a workbook sheet, by header name. */
async function cellsOf(data: Buffer, sheet: string) {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(data as unknown as ArrayBuffer);
  const ws = wb.getWorksheet(sheet)!;
  const header = (ws.getRow(1).values as unknown[]).map(String);
  return { wb, ws, col: (name: string) => header.indexOf(name) };
}

function problemsOf(error: unknown): string[] {
  expect(error).toBeInstanceOf(DomainError);
  return ((error as DomainError).details ?? []).map((d) => `${d.path}: ${d.message}`);
}

async function rejection(p: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (error) {
    return error;
  }
  throw new Error('expected the import to be refused');
}

describe('matrix files', () => {
  it.each(IMPORT_FORMATS)('gives back the seed matrix after an export to %s and an import', async (format) => {
    const data = await exportMatrix(SEED_MATRIX, format);
    expect(detectFormat(data)).toBe(format);
    expect(await importMatrix(data, format)).toEqual(SEED_MATRIX);
  });

  it.each(IMPORT_FORMATS)(
    'round-trips every optional part through %s: descriptions, clocks, mandatory actions, calendars, policy',
    async (format) => {
      const m = richMatrix();
      expect(await importMatrix(await exportMatrix(m, format), format)).toEqual(m);
    },
  );

  it('neutralises formula-like text in the CSV and restores it on import', () => {
    const csv = matrixToCsv(richMatrix());
    expect(csv).toContain(`'=Vérifier le câblage`);
    expect(csv).toContain(`'+Check the cabling`);
    expect(csv).not.toMatch(/[,\n"]=Vérifier/);
  });

  it('lays the CSV out as one row per part with a kind column, one action per line', () => {
    const csv = matrixToCsv(SEED_MATRIX).replace(/^\uFEFF/, '');
    const lines = csv.split('\r\n');
    expect(lines[0]!.split(',').slice(0, 2)).toEqual(['kind', 'key']);
    // 4 tiers, 4 categories, 16 cells, 20 SLA targets, the priority table; a header; a final newline.
    expect(csv.match(/\r\n(tier|category|cell|sla|setting),/g)).toHaveLength(4 + 4 + 16 + 20 + 1);
    const networkL1 = SEED_MATRIX.cells.find((c) => c.category === 'network-downtime' && c.tier === 'L1')!;
    expect(networkL1.actions).toHaveLength(2);
    expect(csv).toContain(`"${networkL1.actions.map((a) => a.fr).join('\n')}"`);
  });

  it('names row and column of each problem of a malformed CSV, and of every one at once', async () => {
    const lines = matrixToCsv(SEED_MATRIX)
      .replace(/^\uFEFF/, '')
      .split('\r\n');
    const header = lines[0]!.split(',');
    const set = (line: number, column: string, value: string) => {
      const cells = parseLine(lines[line - 1]!);
      cells[header.indexOf(column)] = value;
      lines[line - 1] = cells.map((c) => `"${c.replaceAll('"', '""')}"`).join(',');
    };
    // Row 1 is the header; rows 2-5 tiers, 6-9 categories, 10-25 cells, 26-45 SLA targets.
    set(7, 'name_en', '');
    set(11, 'actions_en', 'Only one line');
    set(27, 'acknowledge', 'fifteen minutes');
    set(30, 'priority', 'P9');
    const problems = problemsOf(await rejection(() => matrixFromCsv(lines.join('\r\n'))));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^row 7, column "name_en": required/),
        expect.stringMatching(/^row 11, column "actions_en": 2 action\(s\) in French but 1 in English/),
      ]),
    );
    // Shape problems come after the first pass; fix the first two and see the others.
    set(7, 'name_en', 'Network downtime');
    set(11, 'actions_en', SEED_MATRIX.cells[1]!.actions.map((a) => a.en).join('\n'));
    const second = problemsOf(await rejection(() => matrixFromCsv(lines.join('\r\n'))));
    expect(second).toEqual(expect.arrayContaining([expect.stringMatching(/^row 30, column "priority": /)]));
    set(30, 'priority', 'P5');
    const third = problemsOf(await rejection(() => matrixFromCsv(lines.join('\r\n'))));
    expect(third).toEqual([
      expect.stringMatching(/^row 27, column "acknowledge": "fifteen minutes" is not a positive ISO 8601 duration/),
    ]);
  });

  it('writes who may see a confidential category in one cell and names a bad one by row and column', async () => {
    const csv = matrixToCsv(richMatrix()).replace(/^\uFEFF/, '');
    expect(csv).toContain('category,data-security-breach,');
    expect(csv).toMatch(/\r\ncategory,data-security-breach,[^\r]*,"L2, L3",/);
    expect(csv).toMatch(/\r\ncategory,cloud-service-interruption,[^\r]*,"L2, LX, user:7, user:12",/);
    const unknownTier = csv.replace('"L2, L3"', '"L2, L9"');
    expect(problemsOf(await rejection(() => matrixFromCsv(unknownTier)))).toEqual([
      expect.stringMatching(/^row 8, column "confidential": unknown tier "L9"/),
    ]);
    const garbled = csv.replace('"L2, L3"', '"L2, user:me"');
    expect(problemsOf(await rejection(() => matrixFromCsv(garbled)))).toEqual([
      expect.stringMatching(/^row 8, column "confidential": "user:me" is neither a tier key nor user:ID/),
    ]);
  });

  it('refuses a CSV with an unknown kind or column, and a cell of an unknown tier, by row and column', async () => {
    const csv = matrixToCsv(SEED_MATRIX);
    const unknownKind = csv.replace('\r\ncell,', '\r\ncel,');
    expect(problemsOf(await rejection(() => matrixFromCsv(unknownKind)))).toEqual([
      expect.stringMatching(/^row 10, column "kind": unknown kind "cel"/),
    ]);
    const unknownColumn = csv.replace(',calendar\r\n', ',calendr\r\n');
    expect(problemsOf(await rejection(() => matrixFromCsv(unknownColumn)))).toEqual([
      expect.stringMatching(/^row 1, column 16: unknown column "calendr"/),
    ]);
    const unknownTier = csv.replace(
      'cell,,,,,,,,software-installation-failure,L3,',
      'cell,,,,,,,,software-installation-failure,L9,',
    );
    expect(problemsOf(await rejection(() => matrixFromCsv(unknownTier)))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^row 12, column "tier": unknown tier "L9"/)]),
    );
  });

  it('names sheet, row and column of each problem of a malformed XLSX', async () => {
    const { wb, ws, col } = await cellsOf(await matrixToXlsx(SEED_MATRIX), 'Cells');
    // Row 1 is the header; row 3 is the second cell (software installation failure at L2, two actions).
    ws.getRow(3).getCell(col('actions_fr')).value = 'Une seule ligne';
    ws.getRow(5).getCell(col('extra')).value = '{"mandatory": [0,';
    const sla = wb.getWorksheet('SLA')!;
    sla.getRow(4).getCell(5).value = 'PT-1H';
    const data = Buffer.from(await wb.xlsx.writeBuffer());
    const problems = problemsOf(await rejection(importMatrix(data, 'xlsx')));
    expect(problems).toEqual([
      expect.stringMatching(/^sheet "Cells", row 3, column "actions_fr": 1 action\(s\) in French but 2 in English/),
      expect.stringMatching(/^sheet "Cells", row 5, column "extra": not valid JSON/),
    ]);
    ws.getRow(3).getCell(col('actions_fr')).value = SEED_MATRIX.cells[1]!.actions.map((a) => a.fr).join('\n');
    ws.getRow(5).getCell(col('extra')).value = '';
    const next = problemsOf(await rejection(importMatrix(Buffer.from(await wb.xlsx.writeBuffer()), 'xlsx')));
    expect(next).toEqual([
      expect.stringMatching(/^sheet "SLA", row 4, column "resolve": "PT-1H" is not a positive ISO 8601 duration/),
    ]);
  });

  it('refuses a workbook without its Cells sheet, and a file that is no workbook', async () => {
    const { wb } = await cellsOf(await matrixToXlsx(SEED_MATRIX), 'Cells');
    wb.removeWorksheet(wb.getWorksheet('Cells')!.id);
    expect(problemsOf(await rejection(importMatrix(Buffer.from(await wb.xlsx.writeBuffer()), 'xlsx')))).toEqual([
      'sheet "Cells": missing',
    ]);
    expect(problemsOf(await rejection(importMatrix(Buffer.from('PK\u0003\u0004 not really a zip'), 'xlsx')))).toEqual([
      expect.stringMatching(/^file: /),
    ]);
  });

  it('draws the overview sheet of the workbook in the shape of the matrix, in the language asked', async () => {
    const { ws } = await cellsOf(await matrixToXlsx(SEED_MATRIX, 'en'), 'Matrix');
    expect(ws.getRow(1).getCell(2).text).toContain('IT helpdesk (level 1)');
    expect(ws.getRow(3).getCell(1).text).toBe('Network downtime');
    expect(ws.getRow(3).getCell(5).text).toBe(
      SEED_MATRIX.cells.find((c) => c.category === 'network-downtime' && c.tier === 'LX')!.actions[0]!.en,
    );
  });
});

// poppler-utils renders and reads the PDF. CI installs it (.ci/run); elsewhere the test is skipped when absent.
const poppler = spawnSync('pdftoppm', ['-v']).error === undefined;
if (!poppler && process.env.CI) throw new Error('pdftoppm (poppler-utils) is required in CI to check the PDF export');

describe.runIf(poppler)('the printable matrix (PDF)', () => {
  const squash = (s: string) => s.replace(/[\s\u00a0]+/g, ' ').trim();

  it.each(['fr', 'en'] as const)(
    'is one A4 landscape page in %s that renders, with every action, tier and category of the seed',
    async (lang) => {
      const file = join(dir, `matrix-${lang}.pdf`);
      writeFileSync(file, await exportMatrix({ ...SEED_MATRIX, version: 1 }, 'pdf', lang));
      const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
      expect(info).toMatch(/Pages:\s+1\b/);
      expect(info).toMatch(/Page size:\s+841\.89 x 595\.28 pts \(A4\)/);

      execFileSync('pdftoppm', ['-r', '40', '-png', file, join(dir, `page-${lang}`)]);
      const png = readdirSync(dir).filter((f) => f.startsWith(`page-${lang}`) && f.endsWith('.png'));
      expect(png).toHaveLength(1);
      const image = readFileSync(join(dir, png[0]!));
      expect(image.subarray(1, 4).toString()).toBe('PNG');
      expect(statSync(join(dir, png[0]!)).size).toBeGreaterThan(5_000); // drawn, not blank

      const text = squash(execFileSync('pdftotext', ['-raw', file, '-'], { encoding: 'utf8' }));
      for (const t of SEED_MATRIX.tiers) expect(text).toContain(squash(t.name[lang]));
      for (const c of SEED_MATRIX.categories) expect(text).toContain(squash(c.name[lang]));
      for (const cell of SEED_MATRIX.cells) for (const a of cell.actions) expect(text).toContain(squash(a[lang]));
    },
  );

  it('keeps French characters: accents, the typographic apostrophe, œ and the no-break space', async () => {
    const file = join(dir, 'chars.pdf');
    writeFileSync(file, await exportMatrix(SEED_MATRIX, 'pdf', 'fr'));
    const text = execFileSync('pdftotext', ['-raw', file, '-'], { encoding: 'utf8' });
    expect(text).toContain('Échec d’installation');
    expect(text).toContain('Mettre en œuvre');
    // The no-break space prints as a space (WinAnsi) and never lets a line break between its words.
    const levels = text.match(/niveau\s+[0-9X]\b/g) ?? [];
    expect(levels.length).toBeGreaterThanOrEqual(4);
    for (const l of levels) expect(l).toMatch(/^niveau [0-9X]$/);
  });
});

/** Splits one CSV line (no line breaks inside) into its cells. */
function parseLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted && ch === '"' && line[i + 1] === '"') {
      cur += '"';
      i++;
    } else if (ch === '"') {
      quoted = !quoted;
    } else if (ch === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  out.push(cur);
  return out;
}
