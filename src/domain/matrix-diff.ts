import type { MatrixDefinition } from './matrix.js';

export interface MatrixChange {
  kind: 'added' | 'removed' | 'changed';
  /** A readable location: "tiers.L2", "cells.network-downtime.L1", "sla.L1.P1", "priorityTable". */
  path: string;
  before?: unknown;
  after?: unknown;
}

/** What changed between two matrices, entity by entity (matched by key, not by position). */
export function diffMatrices(before: MatrixDefinition, after: MatrixDefinition): MatrixChange[] {
  return [
    ...diffKeyed('tiers', before.tiers, after.tiers, (t) => t.key),
    ...diffKeyed('categories', before.categories, after.categories, (c) => c.key),
    ...diffKeyed('cells', before.cells, after.cells, (c) => `${c.category}.${c.tier}`),
    ...diffKeyed('sla', before.sla, after.sla, (s) => `${s.tier}.${s.priority}${s.category ? `.${s.category}` : ''}`),
    ...diffOrder('tiers', before.tiers, after.tiers),
    ...(same(before.priorityTable, after.priorityTable)
      ? []
      : [{ kind: 'changed' as const, path: 'priorityTable', before: before.priorityTable, after: after.priorityTable }]),
  ];
}

function diffKeyed<T>(section: string, before: T[], after: T[], keyOf: (item: T) => string): MatrixChange[] {
  const changes: MatrixChange[] = [];
  const old = new Map(before.map((item) => [keyOf(item), item]));
  const now = new Map(after.map((item) => [keyOf(item), item]));
  for (const [key, item] of old) {
    const next = now.get(key);
    if (next === undefined) changes.push({ kind: 'removed', path: `${section}.${key}`, before: item });
    else if (!same(item, next)) changes.push({ kind: 'changed', path: `${section}.${key}`, before: item, after: next });
  }
  for (const [key, item] of now)
    if (!old.has(key)) changes.push({ kind: 'added', path: `${section}.${key}`, after: item });
  return changes;
}

function diffOrder(section: string, before: Array<{ key: string }>, after: Array<{ key: string }>): MatrixChange[] {
  const a = before.map((t) => t.key).filter((k) => after.some((t) => t.key === k));
  const b = after.map((t) => t.key).filter((k) => before.some((t) => t.key === k));
  return same(a, b) ? [] : [{ kind: 'changed', path: `${section}.order`, before: a, after: b }];
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
