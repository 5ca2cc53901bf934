import { sql } from 'kysely';
import type { Tx } from '../../platform/db.js';
import { AppError } from '../../platform/errors.js';
import type { TableDataMap } from '../datamap/datamap.js';
import type { Grant } from '../gate/gate.js';

/**
 * The end of a legal hold, by the data map: the personal columns of the given rows of a `held`
 * table are nulled (its `then: null_personal`) or the rows deleted (`then: delete_rows`), under an
 * erase or store grant the gate issued for this purge (audited with it). Returns the rows that changed;
 * rows that hold nothing personal any more are left alone, so a second run changes nothing.
 */
export async function releaseHeldRows(
  tx: Tx,
  grant: Grant,
  map: TableDataMap,
  rows: { keyColumn: string; keys: readonly number[] },
): Promise<number> {
  if (grant.action !== 'erase' && grant.action !== 'store')
    throw new AppError('forbidden', `a ${grant.action} grant cannot purge ${map.table}`);
  if (map.erasure?.kind !== 'held') throw new Error(`${map.table} is not kept under a legal hold`);
  const columns = Object.keys(map.personal);
  if (rows.keys.length === 0 || columns.length === 0) return 0;
  const where = sql`${sql.ref(rows.keyColumn)} = any(${[...rows.keys]}::bigint[]) and (${sql.join(
    columns.map((column) => sql`${sql.ref(column)} is not null`),
    sql` or `,
  )})`;
  const result =
    map.erasure.then === 'delete_rows'
      ? await sql`delete from ${sql.table(map.table)} where ${where}`.execute(tx)
      : await sql`update ${sql.table(map.table)} set ${sql.join(
          columns.map((column) => sql`${sql.ref(column)} = null`),
        )} where ${where}`.execute(tx);
  return Number(result.numAffectedRows ?? 0n);
}
