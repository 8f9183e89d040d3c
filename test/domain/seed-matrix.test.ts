import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateMatrix, type Localized } from '../../src/domain/matrix.js';
import { SEED_MATRIX } from '../../src/domain/seed-matrix.js';

/**
 * Reads the exported template as /work/shared/seed/README.md describes it: the first line is the
 * first row's title; then come the tier descriptions (sentences) mixed with the tier names and the
 * other row titles (labels, no final full stop); then the 16 cells, row by row, L1, L2, L3, LX
 * within a row; the "EXCLUSION DE RESPONSABILITÉ" disclaimer closes the file.
 */
const FIXTURE = readFileSync(new URL('../fixtures/seed-matrix-fr.txt', import.meta.url), 'utf8');
const DISCLAIMER_HEADING = 'EXCLUSION DE RESPONSABILITÉ';

function readSeedDocument(text: string) {
  const all = text.split(/\r?\n/);
  const end = all.findIndex((l) => l.trim() === DISCLAIMER_HEADING);
  if (end < 0) throw new Error('the disclaimer heading is missing from the fixture');
  const lines = all
    .slice(0, end)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const disclaimer = all
    .slice(end + 1)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const cells = lines.slice(-16);
  const header = lines.slice(1, -16);
  const descriptions = header.filter((l) => /[.!?]$/.test(l));
  const labels = header.filter((l) => !/[.!?]$/.test(l));
  return {
    lineCount: lines.length,
    tierDescriptions: descriptions,
    tierNames: labels.slice(0, 4),
    rowTitles: [lines[0]!, ...labels.slice(4)],
    cells,
    disclaimer,
  };
}

const doc = readSeedDocument(FIXTURE);
const TIERS = ['L1', 'L2', 'L3', 'LX'] as const;
const ROWS = ['software-installation-failure', 'network-downtime', 'data-security-breach', 'cloud-service-interruption'] as const;

/** Sentences of a line: each ends with ".", "!" or "?" followed by a space or the end. */
const sentences = (line: string) => line.split(/(?<=[.!?])\s+/).filter((s) => s.length > 0);

function allLocalized(): Array<{ where: string; text: Localized }> {
  const out: Array<{ where: string; text: Localized }> = [];
  for (const t of SEED_MATRIX.tiers) {
    out.push({ where: `tier ${t.key} name`, text: t.name }, { where: `tier ${t.key} description`, text: t.description });
  }
  for (const c of SEED_MATRIX.categories) {
    out.push({ where: `category ${c.key} name`, text: c.name });
    if (c.description) out.push({ where: `category ${c.key} description`, text: c.description });
    for (const clock of c.clocks ?? []) out.push({ where: `clock ${c.key}/${clock.key} name`, text: clock.name });
  }
  for (const cell of SEED_MATRIX.cells)
    cell.actions.forEach((a, i) => out.push({ where: `action ${cell.category}/${cell.tier}#${i}`, text: a }));
  for (const cal of SEED_MATRIX.calendars ?? []) if (cal.name) out.push({ where: `calendar ${cal.key} name`, text: cal.name });
  return out;
}

function allStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => allStrings(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => allStrings(v, out));
  return out;
}

describe('reading the seed document', () => {
  it('finds 4 tier descriptions, 4 tier names, 4 row titles and 16 cells before the disclaimer', () => {
    expect(doc.lineCount).toBe(1 + 4 + 4 + 3 + 16);
    expect(doc.tierDescriptions).toHaveLength(4);
    expect(doc.tierNames).toHaveLength(4);
    expect(doc.rowTitles).toHaveLength(4);
    expect(doc.cells).toHaveLength(16);
    // The reading is the README's: names and descriptions in tier order, rows in the listed order.
    // (The document writes "niveau 1" with a no-break space, U+00A0: \s matches both spaces.)
    expect(doc.tierNames[0]).toMatch(/^Service d’assistance informatique \(niveau\s1\)$/);
    expect(doc.tierNames[1]).toMatch(/^Assistance de niveau\s2$/);
    expect(doc.tierNames[2]).toMatch(/^Assistance de niveau\s3$/);
    expect(doc.tierNames[3]).toMatch(/^Assistance de niveau\sX$/);
    expect(doc.tierDescriptions[0]).toMatch(/^En tant que premier point de contact /);
    expect(doc.tierDescriptions[1]).toMatch(/^Le niveau\s2 /);
    expect(doc.tierDescriptions[2]).toMatch(/^Le niveau\s3 /);
    expect(doc.tierDescriptions[3]).toMatch(/^Le niveau\sX /);
    expect(doc.rowTitles).toEqual([
      'Échec d’installation de logiciel',
      'Temps d’arrêt du réseau',
      'Atteinte à la sécurité des données',
      'Interruptions du service cloud',
    ]);
    expect(doc.disclaimer.join(' ')).toContain('Smartsheet');
  });
});

describe('SEED_MATRIX is the seed document, word for word', () => {
  it('has the four tiers in order', () => {
    expect(SEED_MATRIX.tiers.map((t) => t.key)).toEqual([...TIERS]);
  });

  TIERS.forEach((key, i) => {
    const tier = () => SEED_MATRIX.tiers.find((t) => t.key === key)!;
    // Verbatim means character for character, no-break spaces (U+00A0) included.
    it(`tier ${key}: the French name is verbatim`, () => expect(tier().name.fr.trim()).toBe(doc.tierNames[i]));
    it(`tier ${key}: the French description is verbatim`, () =>
      expect(tier().description.fr.trim()).toBe(doc.tierDescriptions[i]));
  });

  it('has the four categories in the order of the rows, with the French names verbatim', () => {
    expect(SEED_MATRIX.categories.map((c) => c.key)).toEqual([...ROWS]);
    SEED_MATRIX.categories.forEach((category, i) => expect(category.name.fr.trim(), category.key).toBe(doc.rowTitles[i]));
  });

  it('has exactly one cell per category and tier', () => {
    expect(SEED_MATRIX.cells).toHaveLength(16);
    const ids = SEED_MATRIX.cells.map((c) => `${c.category}/${c.tier}`);
    expect(new Set(ids).size).toBe(16);
    expect(ids.sort()).toEqual(ROWS.flatMap((r) => TIERS.map((t) => `${r}/${t}`)).sort());
  });

  ROWS.forEach((category, row) => {
    TIERS.forEach((tier, column) => {
      const line = () => doc.cells[row * 4 + column]!;
      const actions = () => SEED_MATRIX.cells.find((c) => c.category === category && c.tier === tier)?.actions ?? [];

      it(`cell ${category} x ${tier}: the French actions are the cell line, one action per sentence`, () => {
        expect(actions().length).toBeGreaterThan(0);
        expect(
          actions()
            .map((a) => a.fr.trim())
            .join(' '),
        ).toBe(line());
        expect(actions().map((a) => a.fr)).toEqual(sentences(line()));
        for (const a of actions()) expect(sentences(a.fr), a.fr).toHaveLength(1);
      });
    });
  });

  it('splits the two-sentence cells into two actions', () => {
    const count = (category: string, tier: string) =>
      SEED_MATRIX.cells.find((c) => c.category === category && c.tier === tier)!.actions.length;
    expect(count('software-installation-failure', 'L2')).toBe(2);
    expect(count('network-downtime', 'L1')).toBe(2);
    expect(SEED_MATRIX.cells.reduce((n, c) => n + c.actions.length, 0)).toBe(18);
  });

  it('translates every name, description and action: non-empty English, different from the French', () => {
    const texts = allLocalized();
    expect(texts.length).toBeGreaterThanOrEqual(4 * 2 + 4 + 18);
    for (const { where, text } of texts) {
      expect(text.en.trim().length, where).toBeGreaterThan(0);
      expect(text.fr.trim().length, where).toBeGreaterThan(0);
      expect(text.en.trim(), where).not.toBe(text.fr.trim());
    }
  });

  it('is a valid matrix', () => {
    expect(() => validateMatrix(SEED_MATRIX)).not.toThrow();
    const valid = validateMatrix(SEED_MATRIX);
    expect(valid.tiers).toEqual(SEED_MATRIX.tiers);
    expect(valid.cells).toEqual(SEED_MATRIX.cells);
  });

  it('leaves the publisher’s disclaimer out', () => {
    const strings = allStrings(SEED_MATRIX);
    const disclaimerSentences = doc.disclaimer.flatMap(sentences);
    expect(disclaimerSentences.length).toBeGreaterThan(2);
    for (const s of strings) {
      expect(s).not.toContain(DISCLAIMER_HEADING);
      expect(s.toLowerCase()).not.toContain('exclusion de responsabilité');
      expect(s).not.toContain('Smartsheet');
      for (const sentence of disclaimerSentences) expect(s).not.toContain(sentence);
    }
    expect(JSON.stringify(SEED_MATRIX)).not.toContain('Smartsheet');
  });
});
