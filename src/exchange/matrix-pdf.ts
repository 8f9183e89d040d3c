import PDFDocument from 'pdfkit';
import { pdfBytes } from './pdf-buffer.js';
import type { MatrixDefinition } from '../domain/matrix.js';
import type { Lang } from './matrix-xlsx.js';

const TITLE: Record<Lang, string> = { fr: 'Matrice d’escalade informatique', en: 'IT escalation matrix' };
const VERSION: Record<Lang, string> = { fr: 'version', en: 'version' };
const CATEGORY: Record<Lang, string> = { fr: 'Type d’incident', en: 'Incident type' };

/**
 * The printable matrix, laid out like the template it came from: A4 landscape, one column per tier
 * (name and description on top), one row per incident category, the tier's actions in each cell.
 * Helvetica, a PDF standard font, covers French (accents, ’, «», œ and no-break spaces) through its
 * WinAnsi encoding, so nothing needs embedding. A row that does not fit starts a new page, which
 * repeats the tier header.
 */
export function matrixToPdf(m: MatrixDefinition & { version?: number }, lang: Lang = 'fr'): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    layout: 'landscape',
    margin: 28,
    info: { Title: TITLE[lang], Creator: 'Palier' },
  });
  const done = pdfBytes(doc);

  const left = doc.page.margins.left;
  const top = doc.page.margins.top;
  const usable = doc.page.width - left - doc.page.margins.right;
  const bottom = doc.page.height - doc.page.margins.bottom;
  const firstWidth = Math.min(130, usable / (m.tiers.length + 1));
  const tierWidth = (usable - firstWidth) / m.tiers.length;
  const pad = 4;
  const fontSize = m.tiers.length > 5 ? 7 : 8.5;

  const heightOf = (text: string, width: number, font: string, size: number) => {
    doc.font(font).fontSize(size);
    return doc.heightOfString(text, { width: width - 2 * pad });
  };
  const write = (text: string, x: number, y: number, width: number, font: string, size: number) => {
    doc
      .font(font)
      .fontSize(size)
      .fillColor('black')
      .text(text, x + pad, y, { width: width - 2 * pad });
  };

  const title = `${TITLE[lang]}${m.version !== undefined ? ` — ${VERSION[lang]} ${m.version}` : ''}`;
  doc.font('Helvetica-Bold').fontSize(14).text(title, left, top, { width: usable });
  let y = doc.y + 8;

  const header = () => {
    const h =
      Math.max(
        heightOf(CATEGORY[lang], firstWidth, 'Helvetica-Bold', fontSize),
        ...m.tiers.map(
          (t) =>
            heightOf(t.name[lang], tierWidth, 'Helvetica-Bold', fontSize + 0.5) +
            2 +
            heightOf(t.description[lang], tierWidth, 'Helvetica-Oblique', fontSize - 1),
        ),
      ) +
      2 * pad;
    doc.rect(left, y, usable, h).fillColor('#e8eef7').fill();
    write(CATEGORY[lang], left, y + pad, firstWidth, 'Helvetica-Bold', fontSize);
    m.tiers.forEach((t, i) => {
      const x = left + firstWidth + i * tierWidth;
      write(t.name[lang], x, y + pad, tierWidth, 'Helvetica-Bold', fontSize + 0.5);
      write(t.description[lang], x, doc.y + 2, tierWidth, 'Helvetica-Oblique', fontSize - 1);
    });
    grid(y, h);
    y += h;
  };
  const grid = (rowTop: number, h: number) => {
    doc.lineWidth(0.5).strokeColor('#555555');
    doc.rect(left, rowTop, usable, h).stroke();
    for (let i = 0; i < m.tiers.length; i++) {
      const x = left + firstWidth + i * tierWidth;
      doc
        .moveTo(x, rowTop)
        .lineTo(x, rowTop + h)
        .stroke();
    }
  };

  header();
  for (const category of m.categories) {
    const texts = m.tiers.map((t) =>
      (m.cells.find((c) => c.category === category.key && c.tier === t.key)?.actions ?? []).map((a) => `• ${a[lang]}`).join('\n'),
    );
    const h =
      Math.max(
        heightOf(category.name[lang], firstWidth, 'Helvetica-Bold', fontSize),
        ...texts.map((t) => heightOf(t, tierWidth, 'Helvetica', fontSize)),
      ) +
      2 * pad;
    if (y + h > bottom) {
      doc.addPage();
      y = top;
      header();
    }
    write(category.name[lang], left, y + pad, firstWidth, 'Helvetica-Bold', fontSize);
    texts.forEach((t, i) => write(t, left + firstWidth + i * tierWidth, y + pad, tierWidth, 'Helvetica', fontSize));
    grid(y, h);
    y += h;
  }
  doc.end();
  return done;
}
