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

/** How many documents still name a person although their accounting hold ends by `today`. */
export async function countReleasableInvoices(tx: Tx, today: string): Promise<number> {
  const row = await tx
    .selectFrom('invoices')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('hold_until', '<=', today)
    .where((eb) =>
      eb.or([
        eb('subject_id', 'is not', null),
        eb('buyer_name', 'is not', null),
        eb('buyer_street', 'is not', null),
        eb('buyer_enterprise_number', 'is not', null),
        eb('buyer_iban', 'is not', null),
      ]),
    )
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
