import ExcelJS from 'exceljs';
import { invalid, type ErrorDetail } from '../domain/errors.js';
import type { MatrixDefinition } from '../domain/matrix.js';
import { SHEET_COLUMNS, SHEET_KINDS, SHEET_NAMES, matrixFromRows, matrixToRows, type SourceRow } from './matrix-sheets.js';
import { neutraliseFormula, restoreFormula } from './spreadsheet-safety.js';

export type Lang = 'fr' | 'en';

/**
 * The matrix as a workbook: a first "Matrix" sheet drawn like the printed matrix (for reading; it is
 * ignored on import), then one editable sheet per kind of part with a header row.
 */
export async function matrixToXlsx(m: MatrixDefinition, lang: Lang = 'fr'): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Palier';

  const overview = wb.addWorksheet('Matrix');
  overview.columns = [{ width: 30 }, ...m.tiers.map(() => ({ width: 45 }))];
  const head = overview.addRow(['', ...m.tiers.map((t) => `${t.name[lang]}\n${t.description[lang]}`)]);
  head.font = { bold: true };
  for (const c of m.categories)
    overview.addRow([
      c.name[lang],
      ...m.tiers.map((t) =>
        (m.cells.find((x) => x.category === c.key && x.tier === t.key)?.actions ?? []).map((a) => a[lang]).join('\n'),
      ),
    ]);
  overview.eachRow((row) => row.eachCell((cell) => (cell.alignment = { wrapText: true, vertical: 'top' })));
  overview.getColumn(1).font = { bold: true };

  const rows = matrixToRows(m);
  for (const kind of SHEET_KINDS) {
    const sheet = wb.addWorksheet(SHEET_NAMES[kind]);
    sheet.columns = SHEET_COLUMNS[kind].map((c) => ({ header: c, key: c, width: /actions|description|extra/.test(c) ? 60 : 24 }));
    sheet.getRow(1).font = { bold: true };
    for (const r of rows.filter((x) => x.kind === kind))
      sheet.addRow(Object.fromEntries(Object.entries(r.values).map(([k, v]) => [k, neutraliseFormula(v)])));
    sheet.eachRow((row, n) => n > 1 && row.eachCell((cell) => (cell.alignment = { wrapText: true, vertical: 'top' })));
    sheet.views = [{ state: 'frozen', ySplit: 1 }];
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}

export async function matrixFromXlsx(data: Buffer): Promise<MatrixDefinition> {
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.load(data as unknown as ArrayBuffer);
  } catch (error) {
    throw invalid('invalid_matrix', 'The file is not a readable XLSX workbook', [
      { path: 'file', message: (error as Error).message },
    ]);
  }
  const problems: ErrorDetail[] = [];
  const rows: SourceRow[] = [];
  for (const kind of SHEET_KINDS) {
    const name = SHEET_NAMES[kind];
    const sheet = wb.getWorksheet(name);
    if (!sheet) {
      if (kind !== 'setting') problems.push({ path: `sheet "${name}"`, message: 'missing' });
      continue;
    }
    const header = new Map<number, string>();
    sheet.getRow(1).eachCell((cell, col) => {
      const column = cell.text.trim();
      if (!column) return;
      if (!SHEET_COLUMNS[kind].includes(column))
        problems.push({
          path: `sheet "${name}", row 1, column ${col}`,
          message: `unknown column "${column}"; expected ${SHEET_COLUMNS[kind].join(', ')}`,
        });
      else header.set(col, column);
    });
    sheet.eachRow((row, n) => {
      if (n === 1) return;
      const values: Record<string, string> = {};
      row.eachCell((cell, col) => {
        const column = header.get(col);
        if (column) values[column] = restoreFormula(cell.text);
      });
      if (Object.values(values).every((v) => !v.trim())) return;
      rows.push({ kind, values, where: `sheet "${name}", row ${n}` });
    });
  }
  if (problems.length) throw invalid('invalid_matrix', `The workbook has ${problems.length} problem(s)`, problems);
  return matrixFromRows(rows);
}
