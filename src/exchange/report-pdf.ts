/**
 * A report as a printable A4 document (landscape, like the printed matrix): the title in the reader's
 * language, the period and filters, when it was made, the figures as tables and, for the trend, a
 * line chart drawn with PDFKit's vector graphics. Text is wrapped to its column, so a long vendor or
 * category name makes its row taller and never runs over its neighbours. Helvetica (WinAnsi) covers
 * French; the narrow no-break space Intl puts in French numbers is printed as a no-break space.
 */
import PDFDocument from 'pdfkit';
import { pdfBytes } from './pdf-buffer.js';
import { COLUMN_LABELS, cellKind, type Cell, type ColumnKind, type Lang, type ReportTable } from './report-tables.js';

export interface ReportContext {
  from: string;
  to: string;
  category?: string[] | undefined;
  tier?: string[] | undefined;
  priority?: string[] | undefined;
  /** When the file was made (ms since the epoch). */
  generatedAt: number;
  /** Category names in the reader's language, by key (reports and filters give keys). */
  categoryNames?: Record<string, string>;
}

const WORDS = {
  fr: {
    period: (from: string, to: string) => `Période : du ${from} au ${to} (exclu)`,
    filters: 'Filtres',
    noFilter: 'Filtres : aucun (toutes les catégories, tous les niveaux, toutes les priorités)',
    generated: (at: string) => `Généré le ${at}`,
    page: (n: number, of: number) => `Page ${n} sur ${of}`,
    empty: 'Aucune donnée sur la période.',
    missed: 'Objectifs manqués',
    day: 'j',
  },
  en: {
    period: (from: string, to: string) => `Period: ${from} to ${to} (excluded)`,
    filters: 'Filters',
    noFilter: 'Filters: none (all categories, tiers and priorities)',
    generated: (at: string) => `Generated on ${at}`,
    page: (n: number, of: number) => `Page ${n} of ${of}`,
    empty: 'No figures over the period.',
    missed: 'Targets missed',
    day: 'd',
  },
} as const;

const label = (key: string, lang: Lang) => COLUMN_LABELS[key]?.[lang] ?? key;
/** Intl's narrow no-break space (French thousands and percent) is not in WinAnsi. */
const printable = (s: string) => s.replace(/\u202f/g, '\u00a0');
const instant = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
/** A period bound as given: a date stays a date, an instant is shown in UTC. */
const bound = (s: string) => (s.length === 10 ? s : instant(Date.parse(s)));

function duration(ms: number, lang: Lang): string {
  const d = Math.floor(ms / 86_400_000);
  const h = Math.floor((ms % 86_400_000) / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  if (d > 0) return `${d} ${WORDS[lang].day} ${h} h`;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  return `${m} min ${String(s).padStart(2, '0')} s`;
}

function target(iso: string, lang: Lang): string {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/.exec(iso);
  if (!m) return iso;
  return [m[1] && `${m[1]} ${WORDS[lang].day}`, m[2] && `${m[2]} h`, m[3] && `${m[3]} min`].filter(Boolean).join(' ');
}

function show(kind: ColumnKind, cell: Cell, lang: Lang, key: string, names: Record<string, string>): string {
  if (cell === null) return '–';
  if (typeof cell === 'string') {
    if (kind === 'instant') return instant(Date.parse(cell));
    if (kind === 'target') return target(cell, lang);
    if (key === 'category') return names[cell] ?? cell;
    return key === 'figure' ? label(cell, lang) : cell;
  }
  if (kind === 'rate') return printable(new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 1 }).format(cell));
  if (kind === 'ms') return duration(cell, lang);
  return printable(new Intl.NumberFormat(lang).format(cell));
}

const TONES = ['#1f5fae', '#2e8b57', '#c46a00', '#b3261e'];

export function reportToPdf(table: ReportTable, context: ReportContext, lang: Lang): Promise<Buffer> {
  const words = WORDS[lang];
  const names = context.categoryNames ?? {};
  const title = table.title[lang];
  const doc = new PDFDocument({
    size: 'A4',
    layout: 'landscape',
    margin: 36,
    bufferPages: true, // page numbers are written once the page count is known
    info: { Title: title, Creator: 'Palier' },
  });
  const done = pdfBytes(doc);
  const left = doc.page.margins.left;
  const top = doc.page.margins.top;
  const usable = doc.page.width - left - doc.page.margins.right;
  const bottom = doc.page.height - doc.page.margins.bottom - 14; // room for the footer

  doc.font('Helvetica-Bold').fontSize(16).fillColor('black').text(title, left, top, { width: usable });
  doc.moveDown(0.3).font('Helvetica').fontSize(10);
  doc.text(words.period(bound(context.from), bound(context.to)), { width: usable });
  // French puts a (no-break) space before a colon.
  const colon = lang === 'fr' ? '\u00a0:' : ':';
  const filters = (['category', 'tier', 'priority'] as const)
    .filter((f) => context[f]?.length)
    .map((f) => `${label(f, lang)}${colon} ${context[f]!.map((k) => (f === 'category' && names[k]) || k).join(', ')}`);
  doc.text(filters.length ? `${words.filters}${colon} ${filters.join(' ; ')}` : words.noFilter, { width: usable });
  doc
    .fillColor('#555555')
    .text(words.generated(instant(context.generatedAt)), { width: usable })
    .fillColor('black');
  let y = doc.y + 12;

  const pad = 3;
  const size = 8;
  const heightOf = (text: string, width: number, bold: boolean) =>
    doc
      .font(bold ? 'Helvetica-Bold' : 'Helvetica')
      .fontSize(size)
      .heightOfString(text, { width: width - 2 * pad });
  const rowHeight = (cells: string[], widths: number[], bold: boolean) =>
    Math.max(...cells.map((c, i) => heightOf(c, widths[i]!, bold))) + 2 * pad;

  /** A table whose header row comes back on each new page; numbers aligned right. */
  const drawTable = (header: string[], rows: string[][], widths: number[], numeric: boolean[]) => {
    const tableWidth = widths.reduce((a, b) => a + b, 0);
    const drawRow = (cells: string[], bold: boolean) => {
      const h = rowHeight(cells, widths, bold);
      if (y + h > bottom) {
        doc.addPage();
        y = top;
        if (!bold) drawRow(header, true);
      }
      if (bold) doc.rect(left, y, tableWidth, h).fillColor('#e8eef7').fill();
      let x = left;
      cells.forEach((c, i) => {
        doc
          .font(bold ? 'Helvetica-Bold' : 'Helvetica')
          .fontSize(size)
          .fillColor('black')
          .text(c, x + pad, y + pad, { width: widths[i]! - 2 * pad, align: numeric[i] ? 'right' : 'left' });
        x += widths[i]!;
      });
      doc
        .lineWidth(0.4)
        .strokeColor('#999999')
        .moveTo(left, y + h)
        .lineTo(left + tableWidth, y + h)
        .stroke();
      y += h;
    };
    drawRow(header, true);
    for (const r of rows) drawRow(r, false);
    y += 12;
  };

  const shown = table.columns
    .map((c, i) => ({ ...c, i }))
    // The trend's buckets are named by their start; from and to are in the workbook.
    .filter((c) => !(table.name.startsWith('trend') && (c.key === 'from' || c.key === 'to')));
  const text = (row: Cell[], i: number) => show(cellKind(table, row, i), row[i] ?? null, lang, table.columns[i]!.key, names);
  const isNumber = (i: number) => !['text', 'day', 'instant', 'target'].includes(table.columns[i]!.kind);

  if (table.name.startsWith('trend')) y = drawTrendChart(doc, table, { left, y, width: usable, lang }) + 12;

  if (table.rows.length === 0) {
    doc.font('Helvetica').fontSize(10).text(words.empty, left, y, { width: usable });
  } else if (shown.length > 12 || table.name === 'times') {
    // Too many figures side by side (or one record of ten durations): one row per figure, a few records
    // per table, each named in the heading (vendors by name).
    const nameColumn = shown.find((c) => c.kind === 'text');
    const figures = shown.filter((c) => c !== nameColumn);
    const perTable = 5;
    for (let start = 0; start < table.rows.length; start += perTable) {
      const records = table.rows.slice(start, start + perTable);
      const first = Math.min(220, usable / 3);
      // Figures need little room: a lone record (the times) does not stretch over the page.
      const widths = [first, ...records.map(() => Math.min(170, (usable - first) / records.length))];
      drawTable(
        [
          label(nameColumn ? nameColumn.key : 'figure', lang),
          ...records.map((r) => (nameColumn ? text(r, nameColumn.i) : label('value', lang))),
        ],
        figures.map((f) => [label(f.key, lang), ...records.map((r) => text(r, f.i))]),
        widths,
        [false, ...records.map(() => true)],
      );
    }
  } else {
    const weights = shown.map((c) => (c.kind === 'text' ? 2 : 1));
    const total = weights.reduce((a, b) => a + b, 0);
    drawTable(
      shown.map((c) => label(c.key, lang)),
      table.rows.map((r) => shown.map((c) => text(r, c.i))),
      weights.map((w) => (usable * w) / total),
      shown.map((c) => isNumber(c.i)),
    );
  }

  const pages = doc.bufferedPageRange();
  for (let n = 0; n < pages.count; n++) {
    doc.switchToPage(pages.start + n);
    // Writing below the bottom margin would otherwise start a new page.
    doc.page.margins.bottom = 0;
    doc
      .font('Helvetica')
      .fontSize(8)
      .fillColor('#555555')
      .text(`Palier · ${title} · ${words.generated(instant(context.generatedAt))}`, left, doc.page.height - 28, {
        width: usable - 90,
        lineBreak: false,
        ellipsis: true,
      })
      .text(words.page(n + 1, pages.count), left + usable - 90, doc.page.height - 28, { width: 90, align: 'right' });
  }
  doc.end();
  return done;
}

/** Opened, resolved, escalated and targets missed per bucket as lines over a light grid; returns the y below it. */
function drawTrendChart(
  doc: PDFKit.PDFDocument,
  table: ReportTable,
  at: { left: number; y: number; width: number; lang: Lang },
): number {
  const col = (key: string) => table.columns.findIndex((c) => c.key === key);
  const value = (row: Cell[], key: string) => Number(row[col(key)] ?? 0);
  const series = [
    { name: label('opened', at.lang), values: table.rows.map((r) => value(r, 'opened')) },
    { name: label('resolved', at.lang), values: table.rows.map((r) => value(r, 'resolved')) },
    { name: label('escalated', at.lang), values: table.rows.map((r) => value(r, 'escalated')) },
    { name: WORDS[at.lang].missed, values: table.rows.map((r) => value(r, 'ackMissed') + value(r, 'resolveMissed')) },
  ];
  const starts = table.rows.map((r) => String(r[col('start')]));
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const axis = 30;
  const plot = { x: at.left + axis, y: at.y + 6, w: at.width - axis - 10, h: 150 };
  const xOf = (i: number) => plot.x + (starts.length > 1 ? (plot.w * i) / (starts.length - 1) : plot.w / 2);
  const yOf = (v: number) => plot.y + plot.h - (plot.h * v) / max;

  doc.font('Helvetica').fontSize(7).lineWidth(0.4);
  for (const v of [0, max / 2, max]) {
    doc
      .strokeColor('#cccccc')
      .moveTo(plot.x, yOf(v))
      .lineTo(plot.x + plot.w, yOf(v))
      .stroke();
    doc
      .fillColor('#555555')
      .text(printable(new Intl.NumberFormat(at.lang, { maximumFractionDigits: 1 }).format(v)), at.left, yOf(v) - 3, {
        width: axis - 4,
        align: 'right',
      });
  }
  // At most about ten bucket labels under the axis.
  const every = Math.max(1, Math.ceil(starts.length / 10));
  starts.forEach((s, i) => {
    if (i % every === 0 || i === starts.length - 1)
      doc.fillColor('#555555').text(s, xOf(i) - 25, plot.y + plot.h + 4, { width: 50, align: 'center' });
  });
  series.forEach((s, k) => {
    doc.strokeColor(TONES[k]!).fillColor(TONES[k]!).lineWidth(1.5);
    s.values.forEach((v, i) => (i === 0 ? doc.moveTo(xOf(i), yOf(v)) : doc.lineTo(xOf(i), yOf(v))));
    if (s.values.length > 1) doc.stroke();
    s.values.forEach((v, i) => doc.circle(xOf(i), yOf(v), 1.8).fill());
  });
  // The legend, one coloured mark per line.
  let x = plot.x;
  const legendY = plot.y + plot.h + 18;
  series.forEach((s, k) => {
    doc
      .rect(x, legendY + 1, 10, 6)
      .fillColor(TONES[k]!)
      .fill();
    doc
      .fillColor('black')
      .fontSize(8)
      .text(s.name, x + 14, legendY, { lineBreak: false });
    x += 14 + doc.widthOfString(s.name) + 18;
  });
  doc.fillColor('black').lineWidth(0.4);
  return legendY + 12;
}
