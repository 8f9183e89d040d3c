import { fc, test as fcTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { parseDuration, formatDuration } from '../../src/domain/duration.js';
import { DomainError } from '../../src/domain/errors.js';
import { diffMatrices } from '../../src/domain/matrix-diff.js';
import { matrixDefinitionSchema, validateMatrix, type MatrixDefinition } from '../../src/domain/matrix.js';
import { DEFAULT_PRIORITY_TABLE, PRIORITIES } from '../../src/domain/priority.js';
import { SEED_MATRIX } from '../../src/domain/seed-matrix.js';
import { domainErrorOf, seedCopy } from '../helpers/builders.js';

/** The problems validateMatrix reports for a matrix, as `path: message` pairs. */
function problemsOf(matrix: MatrixDefinition) {
  const error = domainErrorOf(() => validateMatrix(matrix));
  expect(error).toBeInstanceOf(DomainError);
  expect(error.kind).toBe('invalid');
  expect(error.code).toBe('invalid_matrix');
  expect(error.details?.length).toBeGreaterThan(0);
  return error.details!;
}
const pathsOf = (matrix: MatrixDefinition) => problemsOf(matrix).map((p) => p.path);

const cellIndex = (m: MatrixDefinition, category: string, tier: string) =>
  m.cells.findIndex((c) => c.category === category && c.tier === tier);
const slaIndex = (m: MatrixDefinition, tier: string, priority: string) =>
  m.sla.findIndex((s) => s.tier === tier && s.priority === priority);

describe('validateMatrix', () => {
  it('accepts the seed matrix and fills in the default priority table', () => {
    const m = seedCopy();
    delete m.priorityTable;
    const valid = validateMatrix(m);
    expect(valid.priorityTable).toEqual(DEFAULT_PRIORITY_TABLE);
    expect(valid.tiers).toEqual(SEED_MATRIX.tiers);
  });

  it('reports an unknown tier in a cell at cells[i].tier (and the cell it leaves missing)', () => {
    const m = seedCopy();
    const i = cellIndex(m, 'network-downtime', 'L2');
    m.cells[i]!.tier = 'L9';
    const problems = problemsOf(m);
    expect(problems).toContainEqual({ path: `cells[${i}].tier`, message: expect.stringContaining('L9') });
    expect(problems.map((p) => p.path).sort()).toEqual(['cells', `cells[${i}].tier`].sort());
    expect(problems.find((p) => p.path === 'cells')!.message).toMatch(/network-downtime.*L2/);
  });

  it('reports an unknown category in a cell at cells[i].category', () => {
    const m = seedCopy();
    const i = cellIndex(m, 'cloud-service-interruption', 'LX');
    m.cells[i]!.category = 'printer-jam';
    const problems = problemsOf(m);
    expect(problems).toContainEqual({ path: `cells[${i}].category`, message: expect.stringContaining('printer-jam') });
    expect(problems.map((p) => p.path).sort()).toEqual(['cells', `cells[${i}].category`].sort());
  });

  it('reports a duplicate tier key at tiers[i].key', () => {
    const m = seedCopy();
    m.tiers.push(structuredClone(m.tiers[0]!));
    expect(pathsOf(m)).toEqual(['tiers[4].key']);
  });

  it('reports a duplicate category key at categories[i].key', () => {
    const m = seedCopy();
    m.categories.splice(1, 0, structuredClone(m.categories[3]!));
    expect(pathsOf(m)).toEqual(['categories[4].key']);
    expect(problemsOf(m)[0]!.message).toContain('cloud-service-interruption');
  });

  it('reports a duplicate cell at cells[i]', () => {
    const m = seedCopy();
    m.cells.push(structuredClone(m.cells[5]!));
    expect(pathsOf(m)).toEqual(['cells[16]']);
  });

  it('reports a missing cell, naming its category and tier', () => {
    const m = seedCopy();
    m.cells.splice(cellIndex(m, 'data-security-breach', 'L3'), 1);
    const problems = problemsOf(m);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe('cells');
    expect(problems[0]!.message).toContain('"data-security-breach"');
    expect(problems[0]!.message).toContain('"L3"');
  });

  it('refuses an empty action text at the schema level', () => {
    const m = seedCopy();
    m.cells[0]!.actions = [{ fr: '', en: 'x' }];
    const parsed = matrixDefinitionSchema.safeParse(m);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path.join('.'))).toContain('cells.0.actions.0.fr');
    // Blank is empty too: the text is trimmed first.
    m.cells[0]!.actions = [{ fr: '   ', en: 'x' }];
    expect(matrixDefinitionSchema.safeParse(m).success).toBe(false);
    m.cells[0]!.actions = [{ fr: 'Redémarrer.', en: 'Restart.' }];
    expect(matrixDefinitionSchema.safeParse(m).success).toBe(true);
  });

  it.each([
    ['PT', 'no unit at all'],
    ['P', 'nothing'],
    ['1H', 'no P designator'],
    ['P1M', 'months are calendar units'],
    ['P1Y', 'years are calendar units'],
    ['PT0S', 'zero is not positive'],
    ['P0D', 'zero days is not positive'],
    ['PT-5M', 'negative'],
    ['15 minutes', 'free text'],
    ['', 'empty'],
  ])('refuses the SLA duration %j (%s) at sla[i].acknowledge / sla[i].resolve', (text) => {
    const m = seedCopy();
    const i = slaIndex(m, 'L2', 'P3');
    m.sla[i]!.acknowledge = text;
    expect(pathsOf(m)).toEqual([`sla[${i}].acknowledge`]);
    const n = seedCopy();
    n.sla[i]!.resolve = text;
    expect(pathsOf(n)).toEqual([`sla[${i}].resolve`]);
    expect(problemsOf(n)[0]!.message).toContain(JSON.stringify(text));
  });

  it('reports a missing SLA target, naming its tier and priority', () => {
    const m = seedCopy();
    m.sla.splice(slaIndex(m, 'L3', 'P4'), 1);
    const problems = problemsOf(m);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe('sla');
    expect(problems[0]!.message).toContain('"L3"');
    expect(problems[0]!.message).toContain('P4');
  });

  it('reports an unknown tier in an SLA target at sla[i].tier', () => {
    const m = seedCopy();
    const i = slaIndex(m, 'L1', 'P1');
    m.sla[i]!.tier = 'L0';
    const problems = problemsOf(m);
    expect(problems).toContainEqual({ path: `sla[${i}].tier`, message: expect.stringContaining('L0') });
    // L1 now lacks its P1 target.
    expect(problems.map((p) => p.path).sort()).toEqual(['sla', `sla[${i}].tier`].sort());
  });

  it('reports every problem at once', () => {
    const m = seedCopy();
    m.tiers.push(structuredClone(m.tiers[1]!));
    m.cells[0]!.tier = 'nope';
    m.sla[0]!.resolve = 'P1M';
    const paths = pathsOf(m);
    expect(paths).toEqual(expect.arrayContaining(['tiers[4].key', 'cells[0].tier', 'cells', 'sla[0].resolve']));
  });

  it('accepts an edited matrix: a new tier with its cells and targets, a dropped category, new actions', () => {
    const m = seedCopy();
    m.tiers.splice(3, 0, {
      key: 'L4',
      name: { fr: 'Assistance de niveau 4', en: 'Level 4 support' },
      description: { fr: 'Experts internes.', en: 'In-house experts.' },
    });
    m.categories = m.categories.filter((c) => c.key !== 'cloud-service-interruption');
    m.cells = m.cells.filter((c) => c.category !== 'cloud-service-interruption');
    for (const category of m.categories)
      m.cells.push({ category: category.key, tier: 'L4', actions: [{ fr: 'Analyser.', en: 'Analyse.' }], mandatory: [0] });
    for (const priority of PRIORITIES) m.sla.push({ tier: 'L4', priority, acknowledge: 'PT30M', resolve: 'P1DT4H' });
    m.cells[0]!.actions.push({ fr: 'Redémarrer le poste.', en: 'Restart the workstation.' });
    m.sla[0]!.acknowledge = 'PT10M';
    m.priorityTable = [
      ['P1', 'P1', 'P2'],
      ['P2', 'P3', 'P4'],
      ['P3', 'P4', 'P5'],
    ];
    expect(matrixDefinitionSchema.safeParse(m).success).toBe(true);
    const valid = validateMatrix(m);
    expect(valid.tiers.map((t) => t.key)).toEqual(['L1', 'L2', 'L3', 'L4', 'LX']);
    expect(valid.priorityTable).toEqual(m.priorityTable);
    expect(valid.cells).toHaveLength(3 * 5);
  });
});

describe('parseDuration / formatDuration', () => {
  it.each([
    ['PT30S', 30_000],
    ['PT15M', 900_000],
    ['PT1H', 3_600_000],
    ['PT1H30M', 5_400_000],
    ['P1D', 86_400_000],
    ['P1DT4H', 100_800_000],
    ['P1W', 604_800_000],
    ['P1W2D', 777_600_000],
    ['PT72H', 259_200_000],
    ['PT1.5S', 1_500],
    ['PT0.001S', 1],
    ['PT0S', 0],
  ])('parses %s as %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each([
    '',
    'P',
    'PT',
    'P1DT',
    '1H',
    'PT1h',
    'P1M',
    'P1Y',
    'P1Y2M',
    'PT-1H',
    'PT1.5H',
    'PT1.2345S',
    ' PT1H',
    'PT1H ',
    'T1H',
    'PT1S1M',
  ])('refuses %j', (text) => expect(parseDuration(text)).toBeUndefined());

  it.each([
    [30_000, 'PT30S'],
    [1_500, 'PT1.5S'],
    [100_800_000, 'P1DT4H'],
    [5_400_000, 'PT1H30M'],
    [86_400_000, 'P1D'],
    [900_000, 'PT15M'],
    [0, 'PT0S'],
    [-5, 'PT0S'],
  ])('formats %d ms as %s', (ms, text) => expect(formatDuration(ms)).toBe(text));

  fcTest.prop([fc.integer({ min: 1, max: 400 * 86_400_000 })])('parse(format(ms)) = ms', (ms) => {
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});

describe('diffMatrices', () => {
  it('finds nothing between identical matrices', () => {
    expect(diffMatrices(SEED_MATRIX, seedCopy())).toEqual([]);
  });

  it('reports a changed action as one change of its cell', () => {
    const after = seedCopy();
    const i = cellIndex(after, 'network-downtime', 'L1');
    after.cells[i]!.actions[1] = { fr: 'Redémarrer le routeur.', en: 'Restart the router.' };
    const changes = diffMatrices(SEED_MATRIX, after);
    expect(changes).toEqual([
      { kind: 'changed', path: 'cells.network-downtime.L1', before: SEED_MATRIX.cells[i], after: after.cells[i] },
    ]);
  });

  it('reports an added category and its cells as additions', () => {
    const after = seedCopy();
    after.categories.push({ key: 'printer-jam', name: { fr: 'Bourrage d’imprimante', en: 'Printer jam' } });
    for (const tier of ['L1', 'L2', 'L3', 'LX'])
      after.cells.push({ category: 'printer-jam', tier, actions: [{ fr: 'Ouvrir le capot.', en: 'Open the cover.' }] });
    const changes = diffMatrices(SEED_MATRIX, after);
    expect(changes.every((c) => c.kind === 'added')).toBe(true);
    expect(changes.map((c) => c.path).sort()).toEqual(
      [
        'categories.printer-jam',
        'cells.printer-jam.L1',
        'cells.printer-jam.L2',
        'cells.printer-jam.L3',
        'cells.printer-jam.LX',
      ].sort(),
    );
    expect(changes.find((c) => c.path === 'categories.printer-jam')!.after).toEqual(after.categories[4]);
  });

  it('reports a removed tier with its cells and targets, and no reordering', () => {
    const after = seedCopy();
    after.tiers = after.tiers.filter((t) => t.key !== 'LX');
    after.cells = after.cells.filter((c) => c.tier !== 'LX');
    after.sla = after.sla.filter((s) => s.tier !== 'LX');
    const changes = diffMatrices(SEED_MATRIX, after);
    expect(changes.every((c) => c.kind === 'removed')).toBe(true);
    expect(changes.map((c) => c.path).sort()).toEqual(
      ['tiers.LX', ...SEED_MATRIX.categories.map((c) => `cells.${c.key}.LX`), ...PRIORITIES.map((p) => `sla.LX.${p}`)].sort(),
    );
    expect(changes.find((c) => c.path === 'tiers.LX')!.before).toEqual(SEED_MATRIX.tiers[3]);
  });

  it('reports reordered tiers as one change of tiers.order', () => {
    const after = seedCopy();
    after.tiers = [after.tiers[0]!, after.tiers[2]!, after.tiers[1]!, after.tiers[3]!];
    expect(diffMatrices(SEED_MATRIX, after)).toEqual([
      { kind: 'changed', path: 'tiers.order', before: ['L1', 'L2', 'L3', 'LX'], after: ['L1', 'L3', 'L2', 'LX'] },
    ]);
  });

  it('reports a changed SLA target at sla.<tier>.<priority>', () => {
    const after = seedCopy();
    const i = slaIndex(after, 'L1', 'P1');
    after.sla[i]!.resolve = 'PT2H';
    expect(diffMatrices(SEED_MATRIX, after)).toEqual([
      { kind: 'changed', path: 'sla.L1.P1', before: SEED_MATRIX.sla[i], after: after.sla[i] },
    ]);
  });

  it('reports a changed priority table', () => {
    const after = seedCopy();
    after.priorityTable = [
      ['P1', 'P1', 'P2'],
      ['P2', 'P3', 'P4'],
      ['P3', 'P4', 'P5'],
    ];
    expect(diffMatrices(SEED_MATRIX, after)).toEqual([
      { kind: 'changed', path: 'priorityTable', before: SEED_MATRIX.priorityTable, after: after.priorityTable },
    ]);
  });
});

describe('confidential categories in the matrix', () => {
  const breach = (m: MatrixDefinition) => m.categories.findIndex((c) => c.key === 'data-security-breach');

  it('names an unknown or repeated tier at its exact place', () => {
    const m = seedCopy();
    const i = breach(m);
    m.categories[i]!.confidential = { tiers: ['L2', 'L9', 'L2'], users: [3, 3] };
    expect(problemsOf(m)).toEqual([
      { path: `categories[${i}].confidential.tiers[1]`, message: 'unknown tier "L9"' },
      { path: `categories[${i}].confidential.tiers[2]`, message: 'tier "L2" is named twice' },
      { path: `categories[${i}].confidential.users[1]`, message: 'user 3 is named twice' },
    ]);
  });

  it('stores `true` from earlier matrices as nobody named, and keeps the named tiers and users', () => {
    const m = seedCopy();
    m.categories[0]!.confidential = true;
    m.categories[1]!.confidential = { tiers: ['L3'], users: [12] };
    const valid = validateMatrix(m);
    expect(valid.categories[0]!.confidential).toEqual({ tiers: [], users: [] });
    expect(valid.categories[1]!.confidential).toEqual({ tiers: ['L3'], users: [12] });
  });

  it('refuses unknown fields and non-numeric users in the shape', () => {
    const m = seedCopy() as unknown as { categories: Array<Record<string, unknown>> };
    m.categories[0]!.confidential = { tiers: ['L2'], users: ['boss@example.org'] };
    expect(matrixDefinitionSchema.safeParse(m).success).toBe(false);
    m.categories[0]!.confidential = { tiers: ['L2'], groups: [] };
    expect(matrixDefinitionSchema.safeParse(m).success).toBe(false);
  });

  it('shows a change of who may see a category in the diff', () => {
    const before = seedCopy();
    const after = seedCopy();
    after.categories[breach(after)]!.confidential = { tiers: ['L3'], users: [4] };
    expect(diffMatrices(before, after)).toEqual([
      {
        kind: 'changed',
        path: 'categories.data-security-breach',
        before: expect.objectContaining({ confidential: { tiers: ['L2', 'L3'], users: [] } }),
        after: expect.objectContaining({ confidential: { tiers: ['L3'], users: [4] } }),
      },
    ]);
  });
});
