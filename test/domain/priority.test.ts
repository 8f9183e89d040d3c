import { describe, expect, it } from 'vitest';
import { DEFAULT_PRIORITY_TABLE, isPriority, priorityOf, type Level, type PriorityTable } from '../../src/domain/priority.js';

describe('priorityOf', () => {
  // ITIL: impact (rows) x urgency (columns), 1 = high.
  it.each([
    [1, 1, 'P1'],
    [1, 2, 'P2'],
    [1, 3, 'P3'],
    [2, 1, 'P2'],
    [2, 2, 'P3'],
    [2, 3, 'P4'],
    [3, 1, 'P3'],
    [3, 2, 'P4'],
    [3, 3, 'P5'],
  ] as Array<[Level, Level, string]>)('impact %i, urgency %i is %s in the ITIL table', (impact, urgency, priority) => {
    expect(priorityOf(DEFAULT_PRIORITY_TABLE, impact, urgency)).toBe(priority);
  });

  it('honours a custom table, cell by cell (impact picks the row, urgency the column)', () => {
    const table: PriorityTable = [
      ['P1', 'P1', 'P2'],
      ['P3', 'P4', 'P5'],
      ['P5', 'P5', 'P4'],
    ];
    const levels: Level[] = [1, 2, 3];
    for (const impact of levels)
      for (const urgency of levels) expect(priorityOf(table, impact, urgency)).toBe(table[impact - 1]![urgency - 1]);
    expect(priorityOf(table, 1, 2)).toBe('P1');
    expect(priorityOf(table, 2, 1)).toBe('P3');
    expect(priorityOf(table, 3, 3)).toBe('P4');
  });

  it('keeps the default table immutable', () => {
    expect(Object.isFrozen(DEFAULT_PRIORITY_TABLE)).toBe(true);
  });
});

describe('isPriority', () => {
  it('recognises P1..P5 only', () => {
    for (const p of ['P1', 'P2', 'P3', 'P4', 'P5']) expect(isPriority(p)).toBe(true);
    for (const p of ['P0', 'P6', 'p1', '', '1']) expect(isPriority(p)).toBe(false);
  });
});
