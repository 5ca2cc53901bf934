import { runAsOwner } from './database.js';

/**
 * The sealed letters of one kind per state (`sent`, `dropped`, …), once none is pending any
 * more (the sender runs after the answer); waits up to 10 s.
 */
export async function settledLetterStates(
  ownerUrl: string,
  tenantId: number,
  kind: string,
): Promise<Record<string, number>> {
  let states: Record<string, number> = {};
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const rows = await runAsOwner<{ state: string; n: number }>(
      ownerUrl,
      `select state, count(*)::int as n from sealed_letters
        where tenant_id = $1 and kind = $2 group by state`,
      [tenantId, kind],
    );
    states = Object.fromEntries(rows.rows.map((row) => [row.state, row.n]));
    if (!states.pending) return states;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return states;
}
