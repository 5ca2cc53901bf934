import { sql } from 'kysely';
import type { Grant } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';
import { TELEPHONY_CATEGORIES as C } from './datamap.js';

/** A charged call as an itemised invoice lists it. */
export interface ChargedCall {
  startedAt: Date;
  destination: string;
  billableSeconds: number;
  costMicros: number;
}

/** Where a page of the call list ended: the last call's start (exact, as text) and its dedup key. */
export interface CallListCursor {
  startedAt: string;
  dedupKey: string;
}

export interface CallListPage {
  calls: ChargedCall[];
  /** Set when there may be more calls after this page. */
  next?: CallListCursor;
}

/**
 * One page of a customer's charged calls in the window, in start order (call_billing, read): the
 * itemised HTML invoice reads its list page by page, each page in its own short transaction, so a
 * list of 160 000 calls never holds a pooled connection while it is rendered and sent (A14).
 * Keyset paging on the primary key's (started_at, dedup_key); the start goes back and forth as
 * PostgreSQL's text so no microsecond is lost to a JavaScript Date.
 */
export async function selectItemisedCallsPage(
  tx: Tx,
  grant: Grant,
  window: { from: Date; to: Date },
  subjectId: number,
  page: { size: number; after?: CallListCursor },
): Promise<CallListPage> {
  grant.assertCovers(C.callRecord, subjectId);
  const after = page.after;
  const result = await sql<{
    started_at: Date;
    started_at_text: string;
    dedup_key: string;
    destination: string;
    billable_seconds: number;
    cost_micros: number | null;
  }>`select started_at, started_at::text as started_at_text, dedup_key, destination, billable_seconds, cost_micros
       from call_records
      where subject_id = ${subjectId}
        and started_at >= ${window.from} and started_at < ${window.to}
        and cost_micros > 0
        ${after ? sql`and (started_at, dedup_key) > (${after.startedAt}::timestamptz, ${after.dedupKey})` : sql``}
      order by started_at, dedup_key
      limit ${page.size}`.execute(tx);
  const rows = result.rows;
  const last = rows.at(-1);
  return {
    calls: rows.map((row) => ({
      startedAt: row.started_at,
      destination: row.destination,
      billableSeconds: row.billable_seconds,
      costMicros: row.cost_micros ?? 0,
    })),
    ...(last && rows.length === page.size
      ? { next: { startedAt: last.started_at_text, dedupKey: last.dedup_key } }
      : {}),
  };
}
