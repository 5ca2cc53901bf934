/**
 * The tenant's unrated calls of a billing month across customers (issue 20): chargeable calls the
 * tariff could not price, each with the reason, so the billing office fixes the tariff and rerates
 * before the invoice run (which refuses a month with unrated calls). Call records are personal
 * data of the caller (kluis.telephony.call_record): read under the declared purpose, which the
 * gate allows only where it covers them (call_billing), one decision per page, recorded.
 */
import type { Kernel } from '../../kernel/kernel.js';
import { validationError } from '../../platform/errors.js';
import type { UseCaseContext } from '../parties/index.js';
import {
  countUnrated,
  selectUnratedCalls,
  selectUnratedSubjectIds,
  type StoredCallRecord,
} from './call-record.repository.js';
import { BILLING_TIME_ZONE } from './call-record.service.js';
import { TELEPHONY_CATEGORIES } from './datamap.js';
import { resolveWallClock } from './local-time.js';
import { explainNoRate, type UnratedReason } from './rating.js';
import { loadRatingTable } from './tariff.service.js';

export interface UnratedCall extends StoredCallRecord {
  reason: UnratedReason;
}

export interface UnratedCallsPage {
  items: UnratedCall[];
  /** Unrated calls of the whole month (every page). */
  total: number;
  next: { startedAt: Date; dedupKey: string } | null;
}

/** [from, to) of a billing month 'YYYY-MM' (a calendar month in Brussels). */
export function billingMonthRange(month: string): { from: Date; to: Date } {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!match) throw validationError('month: a month as YYYY-MM');
  const year = Number(match[1]);
  const number = Number(match[2]);
  const start = (y: number, m: number): Date => {
    const [first] = resolveWallClock(
      { year: y, month: m, day: 1, hour: 0, minute: 0, second: 0 },
      BILLING_TIME_ZONE,
    );
    if (first === undefined) throw validationError('month: a month as YYYY-MM');
    return new Date(first);
  };
  return { from: start(year, number), to: number === 12 ? start(year + 1, 1) : start(year, number + 1) };
}

export async function findUnratedCalls(
  kernel: Kernel,
  context: UseCaseContext,
  query: { month: string; limit: number; after?: { startedAt: Date; dedupKey: string } },
): Promise<UnratedCallsPage> {
  const range = billingMonthRange(query.month);
  return kernel.transact(context.tenantId, async (atx) => {
    const grant = await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'read',
      categories: [TELEPHONY_CATEGORIES.callRecord],
      subjectIds: await selectUnratedSubjectIds(atx.tx, range),
      ...(context.requestId ? { requestId: context.requestId } : {}),
    });
    const rows = await selectUnratedCalls(atx.tx, grant, {
      ...range,
      limit: query.limit + 1,
      ...(query.after ? { after: query.after } : {}),
    });
    const shown = rows.slice(0, query.limit);
    const table = shown.length > 0 ? await loadRatingTable(atx.tx) : null;
    const last = shown.at(-1);
    return {
      items: shown.map((row) => ({
        ...row,
        reason: table === null ? 'no_tariff' : explainNoRate(table, row.destination, row.startedAt),
      })),
      total: await countUnrated(atx.tx, grant, range),
      next: rows.length > query.limit && last ? { startedAt: last.startedAt, dedupKey: last.dedupKey } : null,
    };
  });
}
