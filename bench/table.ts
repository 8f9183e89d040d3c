import type { BenchRow, Cell } from './lib/types.js';

/**
 * Formats a cell: thousands separators, `digits` decimals for numbers, "-" for missing.
 * Without `digits`, integers get none and other numbers up to 2 depending on their size.
 */
export function formatCell(value: Cell | undefined, digits?: number): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value);
    const d = digits ?? decimalsFor([value]);
    return value.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  }
  return value;
}

/**
 * One number of decimals for a whole column: as many as its values carry (at most 2, fewer for
 * big numbers: 1 from 10, none from 100), so 1.2 and 11.7 print as "1.2" and "11.7".
 */
function decimalsFor(values: number[]): number {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return 0;
  const carried = Math.max(
    ...finite.map((v) => (Number.isInteger(v) ? 0 : Math.abs(v * 10 - Math.round(v * 10)) < 1e-9 ? 1 : 2)),
  );
  const max = Math.max(...finite.map((v) => Math.abs(v)));
  return Math.min(carried, max >= 100 ? 0 : max >= 10 ? 1 : 2);
}

/** Plain-text table with aligned columns: text left-aligned, numbers right-aligned. */
export function renderTable(rows: BenchRow[], columns?: string[]): string {
  if (rows.length === 0) return '(no results)';
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const digits = cols.map((c) => decimalsFor(rows.map((r) => r[c]).filter((v): v is number => typeof v === 'number')));
  const cells = rows.map((r) => cols.map((c, i) => formatCell(r[c], digits[i])));
  const numeric = cols.map((c) => rows.every((r) => r[c] === undefined || r[c] === null || typeof r[c] === 'number'));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(cols), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
