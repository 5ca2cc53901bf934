import type { Grant } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';
import { TELEPHONY_CATEGORIES } from './datamap.js';

/**
 * Whether the subject holds a number or line identifier that started before `end` and is still
 * held after it: what a relation's end has to end (decision 1032). Yes/no only, for the gate.
 */
export async function hasPeriodsToEnd(tx: Tx, subjectId: number, end: Date): Promise<boolean> {
  const open = (table: 'number_assignments' | 'line_identifiers') =>
    tx
      .selectFrom(table)
      .select('subject_id')
      .where('subject_id', '=', subjectId)
      .where('valid_from', '<', end)
      .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>', end)]))
      .limit(1)
      .execute();
  const [numbers, identifiers] = [await open('number_assignments'), await open('line_identifiers')];
  return numbers.length > 0 || identifiers.length > 0;
}

export interface EndedPeriods {
  numbers: number;
  identifiers: number;
  /** Periods that start at or after the end (a number given ahead): left to staff. */
  startingLater: number;
}

/**
 * Ends the subject's number assignments and line identifiers at `end`: `valid_to = least(valid_to,
 * end)` for the periods that started before it, so a second run moves nothing (an ended period keeps
 * its earlier end, decision 0282). Counts the periods starting later, which it leaves alone.
 */
export async function endPeriodsOf(
  tx: Tx,
  grant: Grant,
  subjectId: number,
  end: Date,
): Promise<EndedPeriods> {
  grant.assertWritable();
  grant.assertCovers(TELEPHONY_CATEGORIES.number, subjectId);
  const numbers = await tx
    .updateTable('number_assignments')
    .set({ valid_to: end })
    .where('subject_id', '=', subjectId)
    .where('valid_from', '<', end)
    .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>', end)]))
    .executeTakeFirst();
  const identifiers = await tx
    .updateTable('line_identifiers')
    .set({ valid_to: end })
    .where('subject_id', '=', subjectId)
    .where('valid_from', '<', end)
    .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>', end)]))
    .executeTakeFirst();
  const later = async (table: 'number_assignments' | 'line_identifiers') =>
    Number(
      (
        await tx
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('subject_id', '=', subjectId)
          .where('valid_from', '>=', end)
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    numbers: Number(numbers.numUpdatedRows),
    identifiers: Number(identifiers.numUpdatedRows),
    startingLater: (await later('number_assignments')) + (await later('line_identifiers')),
  };
}

/** How many of the subject's stored calls started in [from, to): calls attributed after the last day. */
export async function countCallsBetween(
  tx: Tx,
  grant: Grant,
  subjectId: number,
  from: Date,
  to: Date,
): Promise<number> {
  grant.assertCovers(TELEPHONY_CATEGORIES.callRecord, subjectId);
  if (to.getTime() <= from.getTime()) return 0;
  const row = await tx
    .selectFrom('call_records')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('subject_id', '=', subjectId)
    .where('started_at', '>=', from)
    .where('started_at', '<', to)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The subjects holding a number or line identifier at `at` (`valid_from < at`, open or ending later). */
export async function selectHoldersWithPeriodsOpenAt(tx: Tx, at: Date): Promise<number[]> {
  const held = (table: 'number_assignments' | 'line_identifiers') =>
    tx
      .selectFrom(table)
      .select('subject_id')
      .distinct()
      .where('valid_from', '<', at)
      .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>', at)]))
      .execute();
  const ids = new Set<number>();
  for (const row of [...(await held('number_assignments')), ...(await held('line_identifiers'))])
    ids.add(Number(row.subject_id));
  return [...ids].sort((a, b) => a - b);
}
