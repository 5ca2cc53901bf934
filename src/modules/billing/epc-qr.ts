import QRCode from 'qrcode';
import { isValidIban, normaliseIban } from '../../kernel/identifiers/iban.js';
import { parseStructuredCommunication } from '../../kernel/identifiers/structured-communication.js';
import { formatAmount } from './amounts.js';

/**
 * The SEPA credit transfer QR code of the European Payments Council (EPC069-12, version 002):
 * a banking app that scans it fills in the transfer. Decision 0311 says what goes where; in short:
 * UTF-8, the BIC only when the seller gave one (optional in version 002 within the EEA), the
 * Belgian structured communication's twelve digits as the creditor reference (element 10), no
 * unstructured remittance next to it (the guidelines allow one or the other).
 */
export interface EpcTransfer {
  /** The beneficiary: at most 70 characters (longer names are cut). */
  name: string;
  iban: string;
  bic?: string | undefined;
  /** From 0.01 to 999,999,999.99 euro. */
  amountCents: number;
  /** The Belgian structured communication, in any form `parseStructuredCommunication` reads. */
  structuredCommunication: string;
}

/** The most an EPC QR code may carry, in bytes (EPC069-12, section 3.4). */
export const EPC_MAX_BYTES = 331;

/**
 * The text of the code: the elements one a line, separated by LF, none after the last element
 * that has a value. Throws RangeError when the transfer cannot be encoded (the document is then
 * printed without a code, see invoice.pdf.ts).
 */
export function epcPayload(transfer: EpcTransfer): string {
  const iban = normaliseIban(transfer.iban);
  if (!isValidIban(iban)) throw new RangeError('EPC QR: not a valid IBAN');
  const bic = (transfer.bic ?? '').replace(/\s/g, '').toUpperCase();
  if (bic !== '' && !/^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$/.test(bic)) throw new RangeError('EPC QR: bad BIC');
  if (
    !Number.isInteger(transfer.amountCents) ||
    transfer.amountCents < 1 ||
    transfer.amountCents > 99_999_999_999
  )
    throw new RangeError('EPC QR: amount out of range');
  const reference = parseStructuredCommunication(transfer.structuredCommunication);
  if (!reference.ok) throw new RangeError('EPC QR: not a structured communication');
  // Line breaks would shift every element after them.
  const name = [...transfer.name.replace(/[\r\n]+/g, ' ').trim()].slice(0, 70).join('');
  if (name === '') throw new RangeError('EPC QR: the beneficiary has no name');
  const payload = [
    'BCD', // service tag
    '002', // version
    '1', // character set: UTF-8
    'SCT', // identification: SEPA credit transfer
    bic,
    name,
    iban,
    `EUR${formatAmount(transfer.amountCents)}`,
    '', // purpose code: none
    reference.digits, // remittance, structured: the creditor reference
  ].join('\n');
  if (Buffer.byteLength(payload, 'utf8') > EPC_MAX_BYTES) throw new RangeError('EPC QR: payload too long');
  return payload;
}

/**
 * The code's modules (true = dark), row by row: error correction level M as EPC069-12 requires,
 * the payload's UTF-8 bytes in byte mode.
 */
export function epcQrModules(payload: string): boolean[][] {
  const code = QRCode.create([{ data: new Uint8ClampedArray(Buffer.from(payload, 'utf8')), mode: 'byte' }], {
    errorCorrectionLevel: 'M',
  });
  const size = code.modules.size;
  const rows: boolean[][] = [];
  for (let row = 0; row < size; row += 1) {
    const cells: boolean[] = [];
    for (let column = 0; column < size; column += 1) cells.push(code.modules.get(row, column) === 1);
    rows.push(cells);
  }
  return rows;
}
