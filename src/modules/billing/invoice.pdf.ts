import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import PDFDocument from 'pdfkit';
import type { DocumentView } from './document-view.js';
import { epcQrModules } from './epc-qr.js';

// Noto Sans (SIL Open Font License) from its npm package, Latin subset: every letter of Dutch,
// French and English (é, è, ë, ç, œ, €, …). Embedded as a subset of the glyphs a document uses.
const require = createRequire(import.meta.url);
const FONT_FILES = {
  regular: '@fontsource/noto-sans/files/noto-sans-latin-400-normal.woff',
  bold: '@fontsource/noto-sans/files/noto-sans-latin-700-normal.woff',
} as const;
let fonts: { regular: Buffer; bold: Buffer } | undefined;
function loadFonts(): { regular: Buffer; bold: Buffer } {
  fonts ??= {
    regular: readFileSync(require.resolve(FONT_FILES.regular)),
    bold: readFileSync(require.resolve(FONT_FILES.bold)),
  };
  return fonts;
}

/** Code points of the font's Latin subset (the package's unicode-range for it). */
function isCovered(codePoint: number): boolean {
  return (
    (codePoint >= 0x20 && codePoint <= 0x7e) ||
    (codePoint >= 0xa0 && codePoint <= 0xff) ||
    codePoint === 0x131 ||
    codePoint === 0x152 ||
    codePoint === 0x153 ||
    (codePoint >= 0x2000 && codePoint <= 0x206f) ||
    codePoint === 0x20ac ||
    codePoint === 0x2122 ||
    codePoint === 0x2212
  );
}

/**
 * What the font can print: a letter outside its subset loses its accent (š → s) or, when it has
 * no Latin base, becomes "?", rather than an empty box. Names are printed as the customer gave them
 * in the HTML and the UBL; this only concerns the print.
 */
export function printable(text: string): string {
  let out = '';
  for (const char of text.normalize('NFC')) {
    const codePoint = char.codePointAt(0) ?? 0x3f;
    if (isCovered(codePoint)) {
      out += char;
      continue;
    }
    if (char === '\n' || char === '\t') {
      out += ' ';
      continue;
    }
    const base = char.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
    out += [...base].every((part) => isCovered(part.codePointAt(0) ?? 0)) && base !== '' ? base : '?';
  }
  return out;
}

const A4 = { width: 595.28, height: 841.89 };
const MARGIN = 50;
const RIGHT = A4.width - MARGIN;
const BOTTOM = A4.height - MARGIN - 20;
const COLUMNS = {
  no: { x: MARGIN, width: 22, align: 'left' },
  description: { x: MARGIN + 24, width: 206, align: 'left' },
  quantity: { x: 282, width: 40, align: 'right' },
  unitPrice: { x: 326, width: 76, align: 'right' },
  vat: { x: 406, width: 50, align: 'right' },
  amount: { x: 460, width: RIGHT - 460, align: 'right' },
} as const;
const QR_SIZE = 118;

/**
 * At most this many itemised calls in a PDF (about 25 pages of them): beyond it the PDF says how
 * many are not listed and that the HTML version has them all (decision 0312).
 */
export const PDF_CALL_LIST_CAP = 1000;
/** Rows drawn between two turns of the event loop: rendering never holds the server for long. */
const ROWS_PER_TURN = 50;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The invoice or credit note as a PDF (A4) for people and for print, drawn from the same view as
 * the HTML: seller, buyer in the window-envelope position, lines, VAT, totals, how to pay with the
 * structured communication and, for a transfer, the EPC069-12 QR code (decision 0311).
 */
export async function renderInvoicePdf(
  view: DocumentView,
  info: { author: string; createdAt: Date },
): Promise<Buffer> {
  const { regular, bold } = loadFonts();
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    bufferPages: true,
    lang: view.language,
    displayTitle: true,
    info: {
      Title: printable(view.title),
      Author: printable(info.author),
      Creator: 'Kluis',
      CreationDate: info.createdAt,
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const finished = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.registerFont('regular', regular);
  doc.registerFont('bold', bold);
  const t = view.texts;
  const say = (text: string) => printable(text);

  // Seller (top left) and buyer (where a C5/DL window envelope shows it).
  doc.font('bold').fontSize(12).text(say(view.seller.name), MARGIN, MARGIN, { width: 250 });
  doc.font('regular').fontSize(9);
  for (const line of view.seller.lines) doc.text(say(line), { width: 250 });
  doc.font('regular').fontSize(10);
  let y = 140;
  for (const line of view.buyerLines) {
    doc.text(say(line), 320, y, { width: RIGHT - 320 });
    y = doc.y;
  }

  doc.font('bold').fontSize(18).text(say(view.title), MARGIN, Math.max(y, 230));
  doc.moveDown(0.3);
  doc.font('regular').fontSize(10);
  for (const [label, value] of view.meta) {
    const top = doc.y;
    doc.text(say(label), MARGIN, top, { width: 120 });
    doc.text(say(value), MARGIN + 125, top, { width: 250 });
  }
  doc.moveDown(1);

  // The lines, with the header repeated on every page they run onto.
  const header = () => {
    const top = doc.y;
    doc.font('bold').fontSize(9);
    cell(t.line, 'no', top);
    cell(t.description, 'description', top);
    cell(t.quantity, 'quantity', top);
    cell(t.unitPrice, 'unitPrice', top);
    cell(t.vat, 'vat', top);
    cell(t.amount, 'amount', top);
    doc.y = top + 14;
    rule();
    doc.font('regular').fontSize(9);
  };
  const cell = (text: string, column: keyof typeof COLUMNS, top: number) => {
    const { x, width, align } = COLUMNS[column];
    doc.text(say(text), x, top, { width, align });
  };
  const rule = () => {
    doc.moveTo(MARGIN, doc.y).lineTo(RIGHT, doc.y).lineWidth(0.5).strokeColor('#999999').stroke();
    doc.y += 3;
  };
  const room = (height: number, onNewPage?: () => void) => {
    if (doc.y + height <= BOTTOM) return;
    doc.addPage();
    doc.y = MARGIN;
    onNewPage?.();
  };
  header();
  let drawn = 0;
  for (const line of view.lines) {
    drawn += 1;
    if (drawn % ROWS_PER_TURN === 0) await yieldToEventLoop();
    doc.font('regular').fontSize(9);
    const height = doc.heightOfString(say(line.description), { width: COLUMNS.description.width }) + 4;
    room(height, header);
    const top = doc.y;
    cell(line.no, 'no', top);
    cell(line.description, 'description', top);
    cell(line.quantity, 'quantity', top);
    cell(line.unitPrice, 'unitPrice', top);
    cell(line.vat, 'vat', top);
    cell(line.amount, 'amount', top);
    doc.y = top + height;
  }
  rule();

  // Totals, right-aligned under the amounts.
  doc.moveDown(0.5);
  for (const total of view.totals) {
    doc.font(total.strong ? 'bold' : 'regular').fontSize(total.strong ? 11 : 9);
    const label = say(total.label);
    const height = doc.heightOfString(label, { width: 300 }) + 3;
    room(height);
    const top = doc.y;
    doc.text(label, 150, top, { width: 300, align: 'right' });
    doc.text(say(total.value), COLUMNS.amount.x, top, { width: COLUMNS.amount.width, align: 'right' });
    doc.y = top + height;
  }
  doc.moveDown(1.5);

  // How to pay.
  const payment = view.payment;
  if (payment.kind === 'transfer') {
    room(QR_SIZE + 20);
    const top = doc.y;
    const textWidth = payment.qrPayload ? RIGHT - MARGIN - QR_SIZE - 20 : RIGHT - MARGIN;
    // The IBAN is not broken over two lines: no-break spaces between its groups.
    const text = say(payment.text).replace(payment.account, payment.account.replaceAll(' ', '\u00a0'));
    doc.font('regular').fontSize(10).text(text, MARGIN, top, { width: textWidth });
    doc.moveDown(0.3);
    doc
      .font('bold')
      .fontSize(13)
      .text(say(payment.structuredCommunication), MARGIN, doc.y, { width: textWidth });
    const textBottom = doc.y;
    if (payment.qrPayload) {
      drawQr(doc, payment.qrPayload, RIGHT - QR_SIZE, top);
      doc
        .font('regular')
        .fontSize(7)
        .text(say(t.scanToPay), RIGHT - QR_SIZE, top + QR_SIZE + 2, { width: QR_SIZE, align: 'center' });
    }
    doc.x = MARGIN;
    doc.y = Math.max(textBottom, payment.qrPayload ? top + QR_SIZE + 14 : textBottom);
  } else {
    room(30);
    doc
      .font('regular')
      .fontSize(10)
      .text(say(payment.text), MARGIN, doc.y, { width: RIGHT - MARGIN });
  }

  // The itemised calls, when the contract asks for them.
  if (view.calls) {
    doc.moveDown(1.5);
    room(40);
    doc.font('bold').fontSize(12).text(say(t.callDetails), MARGIN, doc.y);
    doc.moveDown(0.3);
    if ('unavailable' in view.calls) {
      doc.font('regular').fontSize(9).text(say(view.calls.unavailable), MARGIN, doc.y);
    } else {
      const columns = [
        { x: MARGIN, width: 130, align: 'left' as const },
        { x: MARGIN + 135, width: 150, align: 'left' as const },
        { x: 340, width: 80, align: 'right' as const },
        { x: 425, width: RIGHT - 425, align: 'right' as const },
      ];
      const row = (values: readonly string[], font: 'regular' | 'bold') => {
        doc.font(font).fontSize(8);
        room(12, () => row([t.callStart, t.callDestination, t.callSeconds, t.callCost], 'bold'));
        const top = doc.y;
        values.forEach((value, index) => {
          const column = columns[index];
          if (column) doc.text(say(value), column.x, top, { width: column.width, align: column.align });
        });
        doc.y = top + 11;
      };
      row([t.callStart, t.callDestination, t.callSeconds, t.callCost], 'bold');
      for (const call of view.calls.rows) {
        drawn += 1;
        if (drawn % ROWS_PER_TURN === 0) await yieldToEventLoop();
        row(call, 'regular');
      }
      if (view.calls.notListed) {
        doc.moveDown(0.5);
        doc.font('regular').fontSize(9);
        const text = say(view.calls.notListed);
        room(doc.heightOfString(text, { width: RIGHT - MARGIN }) + 4);
        doc.text(text, MARGIN, doc.y, { width: RIGHT - MARGIN });
      }
    }
  }

  // Page numbers, once the number of pages is known.
  const range = doc.bufferedPageRange();
  for (let index = 0; index < range.count; index += 1) {
    if (index > 0 && index % 10 === 0) await yieldToEventLoop();
    doc.switchToPage(range.start + index);
    const bottomMargin = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc
      .font('regular')
      .fontSize(8)
      .fillColor('#555555')
      .text(say(`${view.title} · ${t.page(index + 1, range.count)}`), MARGIN, A4.height - MARGIN + 10, {
        width: RIGHT - MARGIN,
        align: 'center',
        lineBreak: false,
      });
    doc.page.margins.bottom = bottomMargin;
    doc.fillColor('black');
  }
  doc.end();
  return finished;
}

/** The QR code as filled squares (vector: sharp at any print size), with its four-module quiet zone. */
function drawQr(doc: PDFKit.PDFDocument, payload: string, x: number, y: number): void {
  const modules = epcQrModules(payload);
  const module = QR_SIZE / (modules.length + 8);
  modules.forEach((row, rowIndex) => {
    row.forEach((dark, columnIndex) => {
      if (dark) doc.rect(x + (columnIndex + 4) * module, y + (rowIndex + 4) * module, module, module);
    });
  });
  doc.fillColor('black').fill();
}
