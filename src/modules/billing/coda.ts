import { parseStructuredCommunication } from '../../kernel/identifiers/structured-communication.js';
import { outsideAcceptedWindow } from '../../platform/date-window.js';
import { AppError } from '../../platform/errors.js';
import { MAX_PAYMENT_CENTS, MAX_PAYMENT_TEXT } from './amounts.js';
import type { StatementLine } from './payment.service.js';

/**
 * CODA, the Belgian banks' statement format (Febelfin "Coded statement of account" 2.x): records
 * of 128 characters, told apart by their first character (0 header, 1 old balance, 2 movement,
 * 3 information, 4 free message, 8 new balance, 9 trailer). Only movement records 2.1 are read:
 * their amount, value date, sign and communication. Names, addresses and free-text messages of
 * the counterparty (records 2.2, 2.3, 3.x, 4) are never read, let alone stored (decision 0040).
 */
export function isCoda(text: string): boolean {
  const first = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  return /^0000\d/.test(first) && first.trimEnd().length >= 100;
}

function codaError(line: number, message: string): AppError {
  return new AppError('validation_failed', `CODA line ${line}: ${message}`, {
    publicMessage: `line ${line}: ${message}`,
    details: { issues: [{ path: 'body', line, message }] },
  });
}

/** DDMMYY → YYYY-MM-DD (CODA dates are of this century). */
function codaDate(text: string): string | undefined {
  const match = /^(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (!match) return undefined;
  const iso = `20${match[3]}-${match[2]}-${match[1]}`;
  const parsed = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(iso) ? iso : undefined;
}

/**
 * The incoming movements of a CODA file, each with a bank reference that is stable across
 * re-imports of the same statement: the account, the statement's sequence number and the
 * movement's sequence and detail numbers. A globalised movement (a batch total whose details
 * follow) is skipped in favour of its details, so nothing is counted twice. Any bad record
 * refuses the whole file, naming the line, before anything is written; so does a value date
 * more than a week after `now` (decision 0282).
 */
export function parseCoda(text: string, now: Date): { lines: StatementLine[]; outgoing: number } {
  const records = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const lines: StatementLine[] = [];
  const seen = new Set<string>();
  let account: string | undefined;
  let statement: string | undefined;
  let outgoing = 0;
  let trailer = false;
  records.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    const record = raw.padEnd(128, ' ');
    if (raw.length > 128) throw codaError(line, 'a CODA record has 128 characters');
    const type = record[0];
    if (type === '1') {
      // The account: a Belgian number (structure 0) or an IBAN (structure 2), then the statement number.
      account = record
        .slice(5, 39)
        .replace(/[^A-Za-z0-9].*$/, '')
        .slice(0, 34);
      statement = record.slice(2, 5);
      if (!/^[A-Z0-9]{8,34}$/.test(account) || !/^\d{3}$/.test(statement)) {
        throw codaError(line, 'old balance record: no account number or statement number');
      }
      return;
    }
    if (type === '9') trailer = true;
    if (type !== '2' || record[1] !== '1') {
      if (!'0123489'.includes(type ?? '')) throw codaError(line, `unknown record type ${type ?? ''}`);
      return;
    }
    if (!account || !statement) throw codaError(line, 'a movement before the old balance record');
    const sequence = record.slice(2, 6);
    const detail = record.slice(6, 10);
    const sign = record[31];
    const amountDigits = record.slice(32, 47);
    const valueDate = codaDate(record.slice(47, 53));
    if (!/^\d{4}$/.test(sequence) || !/^\d{4}$/.test(detail))
      throw codaError(line, 'movement: bad sequence number');
    if (sign !== '0' && sign !== '1') throw codaError(line, 'movement: the sign is 0 (credit) or 1 (debit)');
    if (!/^\d{15}$/.test(amountDigits)) throw codaError(line, 'movement: the amount has 15 digits');
    if (!valueDate) throw codaError(line, 'movement: value date expected as DDMMYY');
    const outside = outsideAcceptedWindow(valueDate, now, 'happened');
    if (outside) throw codaError(line, `movement: the value date ${outside}`);
    const globalised = record[124] !== '0' && record[124] !== ' ';
    if (globalised && detail === '0000') return;
    // Twelve digits for the units and cents, a third decimal that euro amounts leave at 0.
    const cents = Number(amountDigits.slice(0, 14));
    if (cents > MAX_PAYMENT_CENTS)
      throw codaError(line, `movement: the amount is at most ${MAX_PAYMENT_TEXT}`);
    const bankReference = `coda/${account}/${statement}/${sequence}.${detail}`;
    if (seen.has(bankReference)) throw codaError(line, 'movement: appears twice in the file');
    seen.add(bankReference);
    if (sign === '1' || cents === 0) {
      outgoing += 1;
      return;
    }
    // Communication type 1 with code 101 (or 102) carries a structured communication.
    const structured = record[61] === '1' && /^10[12]\d{12}/.test(record.slice(62, 77));
    const ogm = structured ? parseStructuredCommunication(record.slice(65, 77)) : undefined;
    lines.push({
      line,
      bankReference,
      valueDate,
      amountCents: cents,
      structuredCommunication: ogm?.ok ? ogm.digits : null,
    });
  });
  if (!account) throw codaError(1, 'no old balance record (type 1): not a CODA statement');
  if (!trailer) throw codaError(records.length, 'no trailer record (type 9): the file is cut short');
  return { lines, outgoing };
}
