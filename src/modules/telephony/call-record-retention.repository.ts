import { sql } from 'kysely';
import type { Tx } from '../../platform/db.js';

/** The callers with call records in any of the ranges: the subjects a purge asks the gate about. */
export async function selectSubjectsWithCallsIn(
  tx: Tx,
  ranges: ReadonlyArray<{ from: Date; to: Date }>,
): Promise<number[]> {
  if (ranges.length === 0) return [];
  const result = await sql<{ subject_id: number }>`
    select distinct c.subject_id from call_records c
      join unnest(${ranges.map((range) => range.from)}::timestamptz[], ${ranges.map((range) => range.to)}::timestamptz[])
           as r(from_at, to_at)
        on c.started_at >= r.from_at and c.started_at < r.to_at`.execute(tx);
  return result.rows.map((row) => Number(row.subject_id));
}

/**
 * Which of the months (each its [from, to) window) hold call records; with `callers`, records of
 * those callers only. Months only.
 */
export async function selectMonthsWithCalls(
  tx: Tx,
  months: ReadonlyArray<{ month: string; from: Date; to: Date }>,
  callers?: readonly number[],
): Promise<Set<string>> {
  if (months.length === 0 || callers?.length === 0) return new Set();
  const whose = callers === undefined ? sql`true` : sql`c.subject_id = any(${[...callers]}::bigint[])`;
  const result = await sql<{ month: string }>`
    select m.month from unnest(${months.map((m) => m.month)}::text[], ${months.map((m) => m.from)}::timestamptz[],
                               ${months.map((m) => m.to)}::timestamptz[]) as m(month, from_at, to_at)
     where exists (select 1 from call_records c
                    where c.started_at >= m.from_at and c.started_at < m.to_at and ${whose})`.execute(tx);
  return new Set(result.rows.map((row) => row.month));
}
