import { sql } from 'kysely';
import type { Grant } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';
import type { StoredQuoteStatus } from './contracts.tables.js';

export interface QuoteRow {
  quoteId: number;
  subjectId: number | null;
  organisationId: number | null;
  storedStatus: StoredQuoteStatus;
  validUntil: string;
  createdByStaffId: number | null;
  createdAt: Date;
  sentAt: Date | null;
  decidedAt: Date | null;
}

const columns = [
  'quote_id',
  'subject_id',
  'organisation_id',
  'status',
  sql<string>`valid_until::text`.as('valid_until'),
  'created_by_staff_id',
  'created_at',
  'sent_at',
  'decided_at',
] as const;

function toRow(row: {
  quote_id: number;
  subject_id: number | null;
  organisation_id: number | null;
  status: StoredQuoteStatus;
  valid_until: string;
  created_by_staff_id: number | null;
  created_at: Date;
  sent_at: Date | null;
  decided_at: Date | null;
}): QuoteRow {
  return {
    quoteId: row.quote_id,
    subjectId: row.subject_id,
    organisationId: row.organisation_id,
    storedStatus: row.status,
    validUntil: row.valid_until,
    createdByStaffId: row.created_by_staff_id,
    createdAt: row.created_at,
    sentAt: row.sent_at,
    decidedAt: row.decided_at,
  };
}

export interface NewQuoteRow {
  subjectId: number;
  organisationId: number | null;
  validUntil: string;
  createdByStaffId: number | null;
  at: Date;
}

/** Links a new quote to its subject under a grant that covers the quote category. */
export async function insertQuote(tx: Tx, grant: Grant, category: string, row: NewQuoteRow): Promise<number> {
  grant.assertWritable();
  grant.assertCovers(category, row.subjectId);
  const inserted = await tx
    .insertInto('quotes')
    .values({
      tenant_id: grant.tenantId,
      subject_id: row.subjectId,
      organisation_id: row.organisationId,
      status: 'draft',
      valid_until: row.validUntil,
      created_by_staff_id: row.createdByStaffId,
      created_at: row.at,
    })
    .returning('quote_id')
    .executeTakeFirstOrThrow();
  return inserted.quote_id;
}

/** The row, locked for a status change when `forUpdate`. The caller authorises before using it. */
export async function selectQuote(tx: Tx, quoteId: number, forUpdate = false): Promise<QuoteRow | undefined> {
  let query = tx.selectFrom('quotes').select(columns).where('quote_id', '=', quoteId);
  if (forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row && toRow(row);
}

export async function selectQuotePage(
  tx: Tx,
  options: { afterId: number; limit: number; subjectId?: number },
): Promise<QuoteRow[]> {
  let query = tx
    .selectFrom('quotes')
    .select(columns)
    .where('quote_id', '>', options.afterId)
    .orderBy('quote_id')
    .limit(options.limit);
  if (options.subjectId !== undefined) query = query.where('subject_id', '=', options.subjectId);
  return (await query.execute()).map(toRow);
}

export async function updateQuoteStatus(
  tx: Tx,
  grant: Grant,
  quoteId: number,
  change: { status: StoredQuoteStatus; sentAt?: Date; decidedAt?: Date },
): Promise<void> {
  grant.assertWritable();
  await tx
    .updateTable('quotes')
    .set({
      status: change.status,
      ...(change.sentAt ? { sent_at: change.sentAt } : {}),
      ...(change.decidedAt ? { decided_at: change.decidedAt } : {}),
    })
    .where('quote_id', '=', quoteId)
    .execute();
}

/**
 * A prospect who accepts a quote enters into a contract and becomes a customer in the policy's
 * sense (the subject type the gate checks for order and contract purposes). Returns whether the
 * type changed. (Belongs in kernel/subjects; here until it exports a reclassification.)
 */
export async function promoteProspect(tx: Tx, subjectId: number): Promise<boolean> {
  const result = await tx
    .updateTable('data_subjects')
    .set({ subject_type: 'customer' })
    .where('subject_id', '=', subjectId)
    .where('subject_type', '=', 'prospect')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
