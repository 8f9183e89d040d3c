/**
 * Spreadsheet formula injection: a cell whose text starts with =, +, -, @, a tab or a carriage
 * return may be run as a formula by Excel, LibreOffice or Google Sheets when the file is opened
 * (`=HYPERLINK(...)`, `+cmd|' /C calc'!A0`). Such text is written with a leading single quote,
 * which spreadsheets show as text and never evaluate.
 */
const DANGEROUS_START = /^[=+\-@\t\r]/;

export function neutraliseFormula(text: string): string {
  return DANGEROUS_START.test(text) ? `'${text}` : text;
}

/** The inverse, for Palier's own files read back: only a quote that neutralised a formula is removed. */
export function restoreFormula(text: string): string {
  return text.startsWith("'") && DANGEROUS_START.test(text.slice(1)) ? text.slice(1) : text;
}

/** A row's text cells neutralised; numbers and empty cells as they are. */
export function safeCells<C extends string | number | null>(cells: readonly C[]): C[] {
  return cells.map((c) => (typeof c === 'string' ? (neutraliseFormula(c) as C) : c));
}
