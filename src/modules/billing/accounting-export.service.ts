import { sql } from 'kysely';
import { decide } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { addDays, isIsoDay } from '../../platform/calendar.js';
import { csvRecord } from '../../platform/csv.js';
import { outsideAcceptedWindow } from '../../platform/date-window.js';
import { authorize, invalid, type BillingContext } from './access.js';
import { formatAmount, formatPercent, totalsOf } from './amounts.js';
import { BILLING_CATEGORIES as C } from './datamap.js';
import { selectInvoiceRefPage, selectLinesOfInvoices } from './invoice.repository.js';
import { authorizeDocuments } from './invoice.service.js';

/**
 * The bookkeeper's CSV (issue 22, decision 0301): the invoices and credit notes issued in a
 * period and the payments received in it, one row per document and VAT group (what a VAT return
 * needs) and one per payment. Amounts are positive, in euros with a dot and two decimals; the
 * `type` column says which way they go (a credit note lowers the turnover). A leading minus would
 * be defused as a spreadsheet formula by the CSV writer, so no amount carries one.
 */
export const ACCOUNTING_CSV_COLUMNS = [
  'type',
  'date',
  'number',
  'related_number',
  'customer_name',
  'enterprise_number',
  'vat_number',
  'structured_communication',
  'due_date',
  'currency',
  'vat_category',
  'vat_rate',
  'taxable',
  'vat',
  'total',
  'customer_withheld',
] as const;

export interface AccountingPeriod {
  from: string;
  to: string;
}

/** A period of at most two years (a first financial year may run 24 months). */
const MAX_DAYS = 731;

/**
 * The period of an export: days as YYYY-MM-DD, each within the accepted window for periods
 * (2000-01-01 … a year ahead, decision 0282), `to` not before `from`, at most MAX_DAYS.
 */
export function parseAccountingPeriod(from: string, to: string, now: Date): AccountingPeriod {
  const bad = (path: 'from' | 'to', message: string) =>
    invalid(`${path}: ${message}`, { issues: [{ path, message }] });
  if (!isIsoDay(from)) throw bad('from', 'expected a date as YYYY-MM-DD');
  if (!isIsoDay(to)) throw bad('to', 'expected a date as YYYY-MM-DD');
  for (const [path, day] of [
    ['from', from],
    ['to', to],
  ] as const) {
    const outside = outsideAcceptedWindow(day, now, 'planned');
    if (outside !== undefined) throw bad(path, outside);
  }
  if (to < from) throw bad('to', 'the period ends before it starts');
  if (addDays(from, MAX_DAYS) <= to) throw bad('to', `a period spans at most ${MAX_DAYS} days`);
  return { from, to };
}

const PAGE = 500;

/**
 * The CSV for the period, streamed, a page of documents per transaction. Reads kluis.billing.payment
 * and the buyer's name (user.name) as far as the context's purpose covers them, decided by the
 * gate per page like the invoice list; a document whose customer the gate withholds (restricted,
 * or erased and the purpose not the accounting hold's) keeps its row with its amounts, which are
 * not personal, and `customer_withheld` = yes, so the ledger is complete (HTTP: under the accounting
 * purpose only, decision 0473).
 */
/**
 * Whether the gate lets `context` open the CSV, decided from the policy alone and recorded nowhere:
 * a HEAD of the export answers from it (decision 0580). A refusal is left to `openAccountingCsv`,
 * which records it as for a GET.
 */
export async function mayOpenAccountingCsv(kernel: Kernel, context: BillingContext): Promise<boolean> {
  const { policy } = await kernel.policies.current(context.tenantId);
  const request = {
    purpose: context.purpose,
    action: 'read' as const,
    categories: [C.payment],
    subjectIds: [],
  };
  return (
    decide(policy, context.actor, request, [], kernel.clock.now().toISOString().slice(0, 10)) === undefined
  );
}

export async function openAccountingCsv(
  kernel: Kernel,
  context: BillingContext,
  period: AccountingPeriod,
): Promise<AsyncGenerator<string>> {
  // Decided before the first byte: a role or purpose the gate refuses is a problem answer, not a
  // truncated file.
  await kernel.transact(context.tenantId, async (atx) => {
    await authorize(kernel, atx, context, 'read', [C.payment], []);
  });
  return streamAccountingCsv(kernel, context, period);
}

async function* streamAccountingCsv(
  kernel: Kernel,
  context: BillingContext,
  period: AccountingPeriod,
): AsyncGenerator<string> {
  const { policy } = await kernel.policies.current(context.tenantId);
  yield csvRecord([...ACCOUNTING_CSV_COLUMNS]);
  let after = 0;
  for (;;) {
    const page = await kernel.transact(context.tenantId, async (atx) => {
      const rows = await selectInvoiceRefPage(atx.tx, {
        afterId: after,
        limit: PAGE,
        issuedFrom: period.from,
        issuedTo: period.to,
      });
      if (rows.length === 0) return { records: [], last: undefined };
      const access = await authorizeDocuments(kernel, atx, context, policy, 'read', rows);
      const lines = await selectLinesOfInvoices(
        atx.tx,
        rows.map((row) => row.invoiceId),
      );
      const credited = await selectNumbers(
        atx.tx,
        rows.flatMap((row) => (row.creditedInvoiceId === null ? [] : [row.creditedInvoiceId])),
      );
      const records: string[] = [];
      for (const row of rows) {
        const buyer = access.allowed.has(row.invoiceId) ? access.buyers.get(row.invoiceId) : undefined;
        const subtotals = totalsOf(lines.get(row.invoiceId) ?? []).subtotals;
        // A document without lines (none today) still has its row, with its stored totals.
        const groups =
          subtotals.length > 0
            ? subtotals
            : [
                {
                  category: '',
                  rateBp: null,
                  taxableCents: row.totalExclVatCents,
                  vatCents: row.vatCents,
                },
              ];
        for (const group of groups) {
          records.push(
            csvRecord([
              row.kind,
              row.issueDate,
              row.invoiceNumber,
              row.creditedInvoiceId === null ? null : (credited.get(row.creditedInvoiceId) ?? null),
              buyer?.name ?? null,
              buyer?.enterpriseNumber ?? null,
              buyer?.vatNumber ?? null,
              row.structuredCommunication,
              row.kind === 'invoice' ? row.dueDate : null,
              row.currency,
              group.category,
              group.rateBp === null ? null : formatPercent(group.rateBp),
              formatAmount(group.taxableCents),
              formatAmount(group.vatCents),
              formatAmount(group.taxableCents + group.vatCents),
              buyer === undefined ? 'yes' : null,
            ]),
          );
        }
      }
      return { records, last: rows.at(-1)?.invoiceId };
    });
    yield* page.records;
    if (page.last === undefined) break;
    after = page.last;
  }
  yield* streamPayments(kernel, context, period);
}

/** Payments by value date: amount, the bank's reference and the invoice paid (no person). */
async function* streamPayments(
  kernel: Kernel,
  context: BillingContext,
  period: AccountingPeriod,
): AsyncGenerator<string> {
  let after = 0;
  for (;;) {
    const rows = await kernel.transact(context.tenantId, async (atx) => {
      // Payments name no one here; reading them is still decided by the gate, like every payment route.
      await authorize(kernel, atx, context, 'read', [C.payment], []);
      return atx.tx
        .selectFrom('payments as p')
        .leftJoin('invoices as i', (join) =>
          join.onRef('i.tenant_id', '=', 'p.tenant_id').onRef('i.invoice_id', '=', 'p.invoice_id'),
        )
        .select([
          'p.payment_id',
          'p.bank_reference',
          'p.amount_cents',
          'p.structured_communication',
          'i.invoice_number',
          'i.currency',
        ])
        .select(sql<string>`p.value_date::text`.as('value_date'))
        .where('p.value_date', '>=', period.from)
        .where('p.value_date', '<=', period.to)
        .where('p.payment_id', '>', after)
        .orderBy('p.payment_id')
        .limit(PAGE)
        .execute();
    });
    for (const row of rows) {
      yield csvRecord([
        'payment',
        row.value_date,
        row.bank_reference,
        row.invoice_number,
        null,
        null,
        null,
        row.structured_communication,
        null,
        row.currency ?? 'EUR',
        null,
        null,
        null,
        null,
        formatAmount(row.amount_cents),
        null,
      ]);
    }
    const last = rows.at(-1);
    if (!last) break;
    after = last.payment_id;
  }
}

async function selectNumbers(
  tx: Parameters<typeof selectLinesOfInvoices>[0],
  invoiceIds: readonly number[],
): Promise<Map<number, string>> {
  if (invoiceIds.length === 0) return new Map();
  const rows = await tx
    .selectFrom('invoices')
    .select(['invoice_id', 'invoice_number'])
    .where('invoice_id', '=', (eb) => eb.fn.any(eb.val([...invoiceIds])))
    .execute();
  return new Map(rows.map((row) => [row.invoice_id, row.invoice_number]));
}
