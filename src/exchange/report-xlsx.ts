/**
 * A report as a workbook: one sheet, a header row with the CSV's column names, then one row per line
 * of the report. Counts, rates and durations are numbers (rates shown as percentages, durations in
 * milliseconds as in the CSV), days and instants are dates, so the figures can be summed and charted
 * in the spreadsheet. Every text cell goes through neutraliseFormula: names typed by people never run.
 */
import ExcelJS from 'exceljs';
import { snake } from './report-csv.js';
import { cellKind, type Cell, type ColumnKind, type Lang, type ReportTable } from './report-tables.js';
import { neutraliseFormula } from './spreadsheet-safety.js';

const NUMBER_FORMATS: Partial<Record<ColumnKind, string>> = {
  rate: '0.0%',
  ms: '#,##0',
  count: '0',
  day: 'yyyy-mm-dd',
  instant: 'yyyy-mm-dd hh:mm:ss',
};

function value(kind: ColumnKind, cell: Cell): ExcelJS.CellValue {
  if (cell === null) return null;
  if ((kind === 'day' || kind === 'instant') && typeof cell === 'string')
    return new Date(cell.length === 10 ? `${cell}T00:00:00Z` : cell);
  return typeof cell === 'string' ? neutraliseFormula(cell) : cell;
}

export async function reportToXlsx(table: ReportTable, lang: Lang): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Palier';
  wb.title = table.title[lang];
  // Sheet names are at most 31 characters and the report's name is one of Palier's own.
  const sheet = wb.addWorksheet(table.name.slice(0, 31));
  const headers = table.columns.map((c) => snake(c.key));
  sheet.addRow(headers).font = { bold: true };
  for (const row of table.rows) {
    const added = sheet.addRow(row.map((cell, i) => value(cellKind(table, row, i), cell)));
    row.forEach((_, i) => {
      const format = NUMBER_FORMATS[cellKind(table, row, i)];
      if (format) added.getCell(i + 1).numFmt = format;
    });
  }
  // Wide enough for the heading and the longest text, never so wide that a long name hides the rest.
  table.columns.forEach((c, i) => {
    const longest = Math.max(
      headers[i]!.length,
      ...table.rows.map((r) => (c.kind === 'instant' ? 19 : String(r[i] ?? '').length)),
    );
    sheet.getColumn(i + 1).width = Math.min(50, Math.max(10, longest + 2));
  });
  sheet.views = [{ state: 'frozen', ySplit: 1 }];
  return Buffer.from(await wb.xlsx.writeBuffer());
}
