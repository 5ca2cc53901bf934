import { parse } from 'csv-parse/sync';
import { parseStructuredCommunication } from '../../kernel/identifiers/structured-communication.js';
import { auditActor } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { outsideAcceptedWindow } from '../../platform/date-window.js';
import { AppError } from '../../platform/errors.js';
import { assertMoneyPurpose, authorizeBatch, type BillingContext } from './access.js';
import { MAX_PAYMENT_CENTS, MAX_PAYMENT_TEXT, parseEuroAmount } from './amounts.js';
import { isCoda, parseCoda } from './coda.js';
import { BILLING_CATEGORIES as C } from './datamap.js';
import { addPaid, selectErasedSubjects, selectInvoicesByCommunication } from './invoice.repository.js';

/** One bank statement line as imported. Free-text communications are never kept. */
export interface StatementLine {
  line: number;
  bankReference: string;
  valueDate: string;
  amountCents: number;
  /** Twelve digits when the communication was a valid structured one. */
  structuredCommunication: string | null;
}

const COLUMN_ALIASES: Record<string, keyof Omit<StatementLine, 'line'> | 'communication'> = {
  date: 'valueDate',
  value_date: 'valueDate',
  valuedate: 'valueDate',
  amount: 'amountCents',
  communication: 'communication',
  ogm: 'communication',
  structured_communication: 'communication',
  reference: 'bankReference',
  bank_reference: 'bankReference',
  transaction_id: 'bankReference',
  // Belgian banks' exports name their columns in Dutch or French.
  datum: 'valueDate',
  valutadatum: 'valueDate',
  date_valeur: 'valueDate',
  bedrag: 'amountCents',
  montant: 'amountCents',
  mededeling: 'communication',
  gestructureerde_mededeling: 'communication',
  communication_structuree: 'communication',
  referentie: 'bankReference',
  referentie_bank: 'bankReference',
  reference_banque: 'bankReference',
};

export function statementError(line: number, message: string): AppError {
  return new AppError('validation_failed', `statement line ${line}: ${message}`, {
    publicMessage: `line ${line}: ${message}`,
    details: { issues: [{ path: 'body', line, message }] },
  });
}

/**
 * Reads a bank statement export as CSV (`,` or `;`), with a header naming at least date, amount,
 * communication and reference (aliases: value_date, ogm, bank_reference, transaction_id; other
 * columns such as the counterparty are ignored and never stored). Dates as YYYY-MM-DD or
 * DD/MM/YYYY, from 2000-01-01 to a week after `now` (decision 0282); amounts as 12.34, 12,34 or
 * 1.234,56. Outgoing (negative) lines are skipped. Any bad line refuses the whole file, naming the
 * line, before anything is written.
 */
export function parseStatementCsv(text: string, now: Date): { lines: StatementLine[]; outgoing: number } {
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  const delimiter = (firstLine.match(/;/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? ';' : ',';
  let records: string[][];
  try {
    records = parse(text, {
      delimiter,
      bom: true,
      skip_empty_lines: true,
      relax_column_count: false,
      trim: true,
    });
  } catch (error) {
    const line = (error as { lines?: number }).lines ?? 0;
    throw statementError(line, 'not valid CSV (check quotes and the number of columns)');
  }
  const [header, ...rows] = records;
  if (!header) throw statementError(1, 'the file is empty');
  const index = new Map<string, number>();
  header.forEach((name, position) => {
    const key = COLUMN_ALIASES[name.toLowerCase().replace(/[\s-]/g, '_')];
    if (key && !index.has(key)) index.set(key, position);
  });
  for (const required of ['valueDate', 'amountCents', 'communication', 'bankReference']) {
    if (!index.has(required)) {
      throw statementError(1, 'the header must name the columns date, amount, communication and reference');
    }
  }
  const lines: StatementLine[] = [];
  const seen = new Set<string>();
  let outgoing = 0;
  rows.forEach((row, position) => {
    const line = position + 2;
    const cell = (key: string): string => row[index.get(key) ?? -1] ?? '';
    const valueDate = parseStatementDate(cell('valueDate'));
    if (!valueDate) throw statementError(line, 'date: expected YYYY-MM-DD or DD/MM/YYYY');
    const outside = outsideAcceptedWindow(valueDate, now, 'happened');
    if (outside) throw statementError(line, `date: ${outside}`);
    const amount = parseEuroAmount(cell('amountCents'));
    if (amount === undefined) throw statementError(line, 'amount: expected an amount in euros, e.g. 12.34');
    if (Math.abs(amount) > MAX_PAYMENT_CENTS)
      throw statementError(line, `amount: at most ${MAX_PAYMENT_TEXT} per line`);
    const bankReference = cell('bankReference');
    if (!/^[A-Za-z0-9._/-]{1,64}$/.test(bankReference)) {
      throw statementError(line, 'reference: 1 to 64 letters, digits or ._/-');
    }
    if (seen.has(bankReference)) throw statementError(line, 'reference: appears twice in the file');
    seen.add(bankReference);
    if (amount <= 0) {
      outgoing += 1;
      return;
    }
    const ogm = parseStructuredCommunication(cell('communication'));
    lines.push({
      line,
      bankReference,
      valueDate,
      amountCents: amount,
      structuredCommunication: ogm.ok ? ogm.digits : null,
    });
  });
  return { lines, outgoing };
}

function parseStatementDate(text: string): string | undefined {
  let iso: string;
  const dmy = /^(\d{2})[/.-](\d{2})[/.-](\d{4})$/.exec(text);
  if (dmy) iso = `${dmy[3]}-${dmy[2]}-${dmy[1]}`;
  else if (/^\d{4}-\d{2}-\d{2}$/.test(text)) iso = text;
  else return undefined;
  const parsed = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(iso) ? iso : undefined;
}

export interface PaymentImportSummary {
  lines: number;
  imported: number;
  /** Lines whose bank reference was imported before (the import is idempotent). */
  duplicates: number;
  matched: number;
  /** No valid structured communication, or one no invoice has: left for a person to match. */
  unmatched: number;
  /** Outgoing lines (debits) skipped. */
  outgoing: number;
  /** Invoice numbers now paid more than due. */
  overpaid: string[];
  /** Invoice numbers now partly paid. */
  partiallyPaid: string[];
}

/**
 * Imports incoming payments and matches each by its structured communication to an invoice; the
 * invoice's paid amount grows (partial and over-payments are kept as they are; the status is
 * derived). One transaction: an error changes nothing; re-importing the same statement adds
 * nothing (bank reference). Writes kluis.billing.payment of the invoices' customers.
 * `onProgress` hears the statement lines done (of all, outgoing included) as the import goes.
 */
export async function importPayments(
  kernel: Kernel,
  context: BillingContext,
  csv: string,
  options: { onProgress?: (done: number, total: number) => void } = {},
): Promise<PaymentImportSummary> {
  // A CODA statement (the Belgian banks' own format) or a CSV export of one.
  const { policy } = await kernel.policies.current(context.tenantId);
  assertMoneyPurpose(policy, context.purpose, 'payments');
  const at = kernel.clock.now();
  const { lines, outgoing } = isCoda(csv) ? parseCoda(csv, at) : parseStatementCsv(csv, at);
  return kernel.transact(context.tenantId, async (atx) => {
    const invoices = await selectInvoicesByCommunication(
      atx.tx,
      lines.flatMap((line) => line.structuredCommunication ?? []),
    );
    const subjects = [...new Set([...invoices.values()].flatMap((invoice) => invoice.subjectId ?? []))];
    const erased = await selectErasedSubjects(atx.tx, subjects);
    const live = subjects.filter((id) => !erased.has(id));
    // Payments are kept whatever the customer's state (accounting); a refused or erased customer's
    // payment is matched to the invoice without a link to the person.
    const { refused } = await authorizeBatch(kernel, atx, context, 'write', [C.payment], live);
    const linkable = new Set(live.filter((id) => !refused.includes(id)));
    const summary: PaymentImportSummary = {
      lines: lines.length + outgoing,
      imported: 0,
      duplicates: 0,
      matched: 0,
      unmatched: 0,
      outgoing,
      overpaid: [],
      partiallyPaid: [],
    };
    const paidNow = new Map<number, number>();
    const total = lines.length + outgoing;
    options.onProgress?.(outgoing, total);
    for (const [index, line] of lines.entries()) {
      options.onProgress?.(outgoing + index, total);
      const invoice =
        line.structuredCommunication === null ? undefined : invoices.get(line.structuredCommunication);
      const matched = invoice?.kind === 'invoice' ? invoice : undefined;
      const inserted = await atx.tx
        .insertInto('payments')
        .values({
          tenant_id: context.tenantId,
          bank_reference: line.bankReference,
          value_date: line.valueDate,
          amount_cents: line.amountCents,
          structured_communication: line.structuredCommunication,
          invoice_id: matched?.invoiceId ?? null,
          subject_id:
            matched?.subjectId !== undefined && linkable.has(matched.subjectId ?? -1)
              ? matched.subjectId
              : null,
          imported_at: at,
        })
        .onConflict((oc) => oc.columns(['tenant_id', 'bank_reference']).doNothing())
        .returning('payment_id')
        .executeTakeFirst();
      if (!inserted) {
        summary.duplicates += 1;
        continue;
      }
      summary.imported += 1;
      if (!matched) {
        summary.unmatched += 1;
        continue;
      }
      summary.matched += 1;
      // The invoice's payments stay within the cap (decision 0405): the whole file is refused.
      const paidBefore = matched.paidCents + (paidNow.get(matched.invoiceId) ?? 0);
      if (paidBefore + line.amountCents > MAX_PAYMENT_CENTS)
        throw statementError(
          line.line,
          `amount: the payments of invoice ${matched.invoiceNumber} would exceed ${MAX_PAYMENT_TEXT}`,
        );
      await addPaid(atx.tx, matched.invoiceId, line.amountCents, at);
      paidNow.set(matched.invoiceId, (paidNow.get(matched.invoiceId) ?? 0) + line.amountCents);
    }
    options.onProgress?.(total, total);
    for (const invoice of invoices.values()) {
      const added = paidNow.get(invoice.invoiceId);
      if (added === undefined) continue;
      const due = invoice.totalInclVatCents - invoice.creditedCents;
      const paid = invoice.paidCents + added;
      if (paid > due) summary.overpaid.push(invoice.invoiceNumber);
      else if (paid < due) summary.partiallyPaid.push(invoice.invoiceNumber);
    }
    atx.audit.record({
      actor: auditActor(context.actor),
      role: context.actor.kind === 'staff' ? context.actor.role : null,
      purpose: context.purpose,
      action: 'payments.import',
      categories: [C.payment],
      records: summary.imported,
      decision: 'allowed',
      ...(context.requestId ? { requestId: context.requestId } : {}),
    });
    return summary;
  });
}
