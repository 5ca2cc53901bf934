import type { Tx } from '../../platform/db.js';

/** A person's contract clock for retention (VK-14): whether a contract ran, runs, and when the last ended. */
export interface ContractClock {
  contracts: number;
  /** A contract without an end date: it runs. */
  openEnded: boolean;
  /** The latest end date (inclusive, YYYY-MM-DD) of the person's contracts, if any has one. */
  lastEndDate: string | null;
}

/**
 * Contract clocks of the given subjects, from the contracts themselves (no copy is kept). Dates
 * and counts only: no personal value leaves this function. Subjects without contracts are absent.
 */
export async function readContractClocks(
  tx: Tx,
  subjectIds: readonly number[],
): Promise<Map<number, ContractClock>> {
  const clocks = new Map<number, ContractClock>();
  if (subjectIds.length === 0) return clocks;
  const rows = await tx
    .selectFrom('contracts')
    .select((eb) => [
      'subject_id',
      eb.fn.countAll<string>().as('contracts'),
      eb.fn.count<string>('contract_id').filterWhere('end_date', 'is', null).as('open_ended'),
      eb.fn.max('end_date').as('last_end'),
    ])
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val([...subjectIds])))
    .groupBy('subject_id')
    .execute();
  for (const row of rows) {
    if (row.subject_id === null) continue;
    clocks.set(Number(row.subject_id), {
      contracts: Number(row.contracts),
      openEnded: Number(row.open_ended) > 0,
      lastEndDate: row.last_end === null ? null : isoDate(row.last_end),
    });
  }
  return clocks;
}

function isoDate(value: Date | string): string {
  return typeof value === 'string' ? value.slice(0, 10) : value.toISOString().slice(0, 10);
}
