import { addDays } from '../../platform/calendar.js';
import type { Tx } from '../../platform/db.js';
import { AppError } from '../../platform/errors.js';
import { selectRelationSpan } from '../contracts/index.js';
// Not from call-record.service: that imports billing, which imports this module's index (a cycle).
import { BILLING_TIME_ZONE, parseDateOrInstant } from './date-input.js';

/** A number or line-identifier period as it is written once the holder's relation is taken into account. */
export interface PeriodWithinRelation {
  validTo: Date | null;
  /** The relation's last day when the period was given that end because of it; null otherwise. */
  relationLastDay: string | null;
}

/** The next Brussels midnight after a relation's last day: where decision 1032 ends its periods. */
export function relationEndOf(lastDay: string): Date {
  return parseDateOrInstant(addDays(lastDay, 1), BILLING_TIME_ZONE, 'lastDay');
}

/**
 * Keeps a period given to a holder within their customer relation (decision 1160). A holder who
 * never had a contract, or whose contract is open-ended, keeps the period as asked. A relation with
 * a last day ends the period at the next Brussels midnight after it, as decision 1032 would: a
 * relation still running gets that end written; one that has ended (or ends before the period
 * starts) is refused `relation_ended`, unless the period asked already ends by then (a record of
 * the past). Locks the holder's contracts for share (see `selectRelationSpan`).
 */
export async function keepPeriodWithinRelation(
  tx: Tx,
  subjectId: number,
  period: { from: Date; to: Date | null },
  now: Date,
): Promise<PeriodWithinRelation> {
  const span = await selectRelationSpan(tx, subjectId);
  if (span.lastDay === null) return { validTo: period.to, relationLastDay: null };
  const end = relationEndOf(span.lastDay);
  if (period.to !== null && period.to.getTime() <= end.getTime())
    return { validTo: period.to, relationLastDay: null };
  const ended = end.getTime() <= now.getTime();
  if (ended || period.from.getTime() >= end.getTime()) {
    // The holder's last day is said to the caller only (the log carries the internal message).
    throw new AppError('relation_ended', 'number period past the end of the customer relation', {
      publicMessage: ended
        ? `the customer relation ended on ${span.lastDay}: no number or line identifier is given to a former customer past that day`
        : `the customer relation ends on ${span.lastDay}, before the period would start`,
      details: { relationLastDay: span.lastDay, periodsEndBy: end.toISOString() },
    });
  }
  return { validTo: end, relationLastDay: span.lastDay };
}
