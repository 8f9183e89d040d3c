/**
 * Reports as CSV files: a header row, then one row per line of the report. Every text cell goes
 * through neutraliseFormula: vendor names and keys are typed by people and must never run as
 * spreadsheet formulas. UTF-8 with a byte order mark and CRLF, like the incident export.
 */
import { stringify } from 'csv-stringify/sync';
import type { ReportTable } from './report-tables.js';
import { safeCells } from './spreadsheet-safety.js';

/** `ackMeanMs` -> `ack_mean_ms`: the column names of Palier's other CSV files. */
export const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export function reportToCsv(table: ReportTable): string {
  return stringify([table.columns.map((c) => snake(c.key)), ...table.rows.map(safeCells)], {
    bom: true,
    record_delimiter: '\r\n',
    cast: { number: (n) => String(n) },
  });
}
