import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { invalid } from '../domain/errors.js';
import type { MatrixDefinition } from '../domain/matrix.js';
import { CSV_COLUMNS, SHEET_KINDS, matrixFromRows, matrixToRows, type SheetKind, type SourceRow } from './matrix-sheets.js';
import { neutraliseFormula, restoreFormula } from './spreadsheet-safety.js';

/**
 * The matrix as one CSV table: a `kind` column (tier, category, cell, sla, setting) and the union
 * of the kinds' columns, UTF-8 with a byte order mark so that spreadsheets read the accents right.
 */
export function matrixToCsv(m: MatrixDefinition): string {
  const records = matrixToRows(m).map(({ kind, values }) =>
    CSV_COLUMNS.map((c) => neutraliseFormula(c === 'kind' ? kind : (values[c] ?? ''))),
  );
  return stringify([CSV_COLUMNS as string[], ...records], { bom: true, record_delimiter: '\r\n' });
}

export function matrixFromCsv(text: string): MatrixDefinition {
  let records: string[][];
  try {
    records = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true }) as string[][];
  } catch (error) {
    const e = error as { message: string; lines?: number };
    throw invalid('invalid_matrix', 'The CSV file cannot be read', [
      { path: e.lines ? `line ${e.lines}` : 'file', message: e.message.replace(/^Invalid Record Length: |^CSV_\w+: /, '') },
    ]);
  }
  const [header, ...body] = records;
  if (!header)
    throw invalid('invalid_matrix', 'The CSV file is empty', [
      { path: 'row 1', message: `expected a header row: ${CSV_COLUMNS.join(',')}` },
    ]);
  const columns = header.map((h) => h.trim());
  const problems = columns.flatMap((c, i) =>
    CSV_COLUMNS.includes(c)
      ? []
      : [{ path: `row 1, column ${i + 1}`, message: `unknown column "${c}"; expected ${CSV_COLUMNS.join(', ')}` }],
  );
  if (!columns.includes('kind')) problems.push({ path: 'row 1', message: 'the header has no "kind" column' });
  if (problems.length) throw invalid('invalid_matrix', `The matrix has ${problems.length} problem(s)`, problems);

  const rows: SourceRow[] = [];
  body.forEach((record, i) => {
    const where = `row ${i + 2}`;
    if (record.length > columns.length)
      problems.push({ path: where, message: `${record.length} values for ${columns.length} columns` });
    const values = Object.fromEntries(columns.map((c, j) => [c, restoreFormula(record[j] ?? '')]));
    const kind = (values.kind ?? '').trim().toLowerCase();
    if (!(SHEET_KINDS as readonly string[]).includes(kind)) {
      problems.push({
        path: `${where}, column "kind"`,
        message: `unknown kind "${kind}"; expected one of ${SHEET_KINDS.join(', ')}`,
      });
      return;
    }
    rows.push({ kind: kind as SheetKind, values, where });
  });
  if (problems.length) throw invalid('invalid_matrix', `The matrix has ${problems.length} problem(s)`, problems);
  return matrixFromRows(rows);
}
