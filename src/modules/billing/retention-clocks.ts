import type { ExpressionBuilder } from 'kysely';
import type { Database } from '../../platform/database.js';
import type { Tx } from '../../platform/db.js';

/** The accounting legal hold on a person's documents (VX-8): how many, and until when. */
export interface DocumentHold {
  invoices: number;
  /** The day (YYYY-MM-DD) the hold of the latest document ends (billing releases it that day). */
  holdUntil: string;
}

/**
 * The documents that name each subject and are still under the accounting hold on `today`
 * (hold_until is computed when the document is issued). Counts and dates only.
 */
export async function readDocumentHolds(
  tx: Tx,
  subjectIds: readonly number[],
  today: string,
): Promise<Map<number, DocumentHold>> {
  const holds = new Map<number, DocumentHold>();
  if (subjectIds.length === 0) return holds;
  const rows = await tx
    .selectFrom('invoices')
    .select((eb) => [
      'subject_id',
      eb.fn.countAll<string>().as('invoices'),
      eb.fn.max('hold_until').as('until'),
    ])
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val([...subjectIds])))
    .where('hold_until', '>', today)
    .groupBy('subject_id')
    .execute();
  for (const row of rows) {
    if (row.subject_id === null) continue;
    holds.set(Number(row.subject_id), { invoices: Number(row.invoices), holdUntil: String(row.until) });
  }
  return holds;
}

/** Invoices with an open dispute, per subject (counts and the day of the oldest): retention keeps the person. */
export async function readOpenDisputes(
  tx: Tx,
  subjectIds: readonly number[],
): Promise<Map<number, { invoices: number; since: Date }>> {
  const disputes = new Map<number, { invoices: number; since: Date }>();
  if (subjectIds.length === 0) return disputes;
  const rows = await tx
    .selectFrom('invoice_disputes')
    .select((eb) => [
      'subject_id',
      eb.fn.countAll<string>().as('invoices'),
      eb.fn.min('opened_at').as('since'),
    ])
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val([...subjectIds])))
    .where('closed_at', 'is', null)
    .groupBy('subject_id')
    .execute();
  for (const row of rows) {
    if (row.subject_id === null) continue;
    disputes.set(Number(row.subject_id), { invoices: Number(row.invoices), since: new Date(row.since) });
  }
  return disputes;
}

/** The billing months (YYYY-MM) of invoices under an open dispute: their call records stay. */
export async function readDisputedMonths(tx: Tx): Promise<Set<string>> {
  const rows = await tx
    .selectFrom('invoice_disputes as d')
    .innerJoin('invoices as i', (join) =>
      join.onRef('i.tenant_id', '=', 'd.tenant_id').onRef('i.invoice_id', '=', 'd.invoice_id'),
    )
    .select(['i.period_start'])
    .where('d.closed_at', 'is', null)
    .where('i.period_start', 'is not', null)
    .execute();
  return new Set(rows.map((row) => String(row.period_start).slice(0, 7)));
}

/**
 * Locator: the documents that still name a person although their accounting hold ends by
 * `today` and no open dispute keeps them (decision 0112); those of `keepSubjects` (persons whose
 * access request is not yet delivered, decision 0970) wait. The party columns are a filter only.
 */
export async function locateReleasableInvoices(
  tx: Tx,
  today: string,
  keepSubjects: readonly number[] = [],
): Promise<number[]> {
  const rows = await selectEndedHolds(tx, today)
    .select('invoice_id')
    // The party columns are a filter only: a document that names no one any more is done.
    .where((eb) =>
      eb.or([
        eb('subject_id', 'is not', null),
        eb('buyer_name', 'is not', null),
        eb('buyer_street', 'is not', null),
        eb('buyer_enterprise_number', 'is not', null),
        eb('buyer_iban', 'is not', null),
      ]),
    )
    .$if(keepSubjects.length > 0, (query) =>
      query.where((eb) =>
        eb.or([
          eb('subject_id', 'is', null),
          eb.not(eb('subject_id', '=', eb.fn.any(eb.val([...keepSubjects])))),
        ]),
      ),
    )
    .orderBy('invoice_id')
    .execute();
  return rows.map((row) => row.invoice_id);
}

/**
 * The documents the release would unlink on `today` but keeps because their person is one of
 * `keepSubjects` (decision 1040): their numbers and whose they are, for the purge to say so.
 */
export async function locateKeptInvoices(
  tx: Tx,
  today: string,
  keepSubjects: readonly number[],
): Promise<Array<{ invoiceNumber: string; subjectId: number }>> {
  if (keepSubjects.length === 0) return [];
  const rows = await selectEndedHolds(tx, today)
    .select(['invoice_number', 'subject_id'])
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val([...keepSubjects])))
    .orderBy('invoice_id')
    .execute();
  return rows.flatMap((row) =>
    row.subject_id === null ? [] : [{ invoiceNumber: row.invoice_number, subjectId: Number(row.subject_id) }],
  );
}

/**
 * Documents past their accounting hold on `today` and not disputed. No party column here: the
 * locator above filters on them (it reads ids only); the kept documents are a person's, so they
 * name someone.
 */
function selectEndedHolds(tx: Tx, today: string) {
  return tx
    .selectFrom('invoices')
    .where('hold_until', '<=', today)
    .where((eb) => eb.not(eb.exists(openDisputeOf(eb))));
}

/** How many documents the release would unlink on `today` (the dry run's count; no value read). */
export async function countReleasableInvoices(
  tx: Tx,
  today: string,
  keepSubjects: readonly number[] = [],
): Promise<number> {
  return (await locateReleasableInvoices(tx, today, keepSubjects)).length;
}

/** An open dispute on the outer query's invoice: its accounting hold does not end while it lasts. */
export function openDisputeOf(eb: ExpressionBuilder<Database, 'invoices'>) {
  return eb
    .selectFrom('invoice_disputes')
    .select('invoice_disputes.dispute_id')
    .whereRef('invoice_disputes.invoice_id', '=', 'invoices.invoice_id')
    .where('invoice_disputes.closed_at', 'is', null);
}
