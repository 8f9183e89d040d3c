export const PRIORITIES = ['P1', 'P2', 'P3', 'P4', 'P5'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** 1 = high, 3 = low, as in ITIL. */
export type Level = 1 | 2 | 3;

/** Rows are impact 1..3, columns urgency 1..3. */
export type PriorityTable = [[Priority, Priority, Priority], [Priority, Priority, Priority], [Priority, Priority, Priority]];

/** The usual ITIL 3x3 table: high impact and high urgency is P1, low and low is P5. */
export const DEFAULT_PRIORITY_TABLE: PriorityTable = Object.freeze([
  ['P1', 'P2', 'P3'],
  ['P2', 'P3', 'P4'],
  ['P3', 'P4', 'P5'],
]) as PriorityTable;

export function priorityOf(table: PriorityTable, impact: Level, urgency: Level): Priority {
  return table[impact - 1]![urgency - 1]!;
}

export function isPriority(value: string): value is Priority {
  return (PRIORITIES as readonly string[]).includes(value);
}
