import type { Grant } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';
import { TELEPHONY_CATEGORIES } from './datamap.js';
import type { LineIdentifierKind } from './telephony.tables.js';

export interface LineIdentifier {
  identifierId: number;
  subjectId: number;
  kind: LineIdentifierKind;
  value: string;
  /** The dialplan context of an extension; '' for the other kinds. */
  context: string;
  validFrom: Date;
  validTo: Date | null;
}

export interface IdentifierKey {
  kind: LineIdentifierKind;
  value: string;
  context: string;
}

/** Locks the identifier's key for this transaction, so two changes to one identifier queue up. */
export async function lockIdentifierKey(tx: Tx, key: IdentifierKey): Promise<void> {
  await tx
    .selectNoFrom((eb) =>
      eb
        .fn('pg_advisory_xact_lock', [
          eb.fn('hashtextextended', [
            eb.val(`kluis.line_identifier:${key.kind}:${key.context}:${key.value}`),
            eb.lit(0),
          ]),
        ])
        .as('locked'),
    )
    .execute();
}

/** Holders of an identifier whose period is open or ends after `at`: ids only, for the gate. */
export async function selectIdentifierHoldersAfter(tx: Tx, key: IdentifierKey, at: Date): Promise<number[]> {
  const rows = await tx
    .selectFrom('line_identifiers')
    .select('subject_id')
    .where('kind', '=', key.kind)
    .where('value', '=', key.value)
    .where('context', '=', key.context)
    .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>', at)]))
    .execute();
  return [...new Set(rows.map((row) => row.subject_id))];
}

/** Subject ids of every identifier (or of one subject's): what a read has to be authorised for. */
export async function selectIdentifierSubjectIds(tx: Tx, subjectId?: number): Promise<number[]> {
  let query = tx.selectFrom('line_identifiers').select('subject_id').distinct();
  if (subjectId !== undefined) query = query.where('subject_id', '=', subjectId);
  return (await query.execute()).map((row) => row.subject_id);
}

/** The subject holding one identifier row: the id only, for the gate. */
export async function selectIdentifierSubject(tx: Tx, identifierId: number): Promise<number | null> {
  const row = await tx
    .selectFrom('line_identifiers')
    .select('subject_id')
    .where('identifier_id', '=', identifierId)
    .executeTakeFirst();
  return row?.subject_id ?? null;
}

/** Ends the open period of an identifier at `at` (it moves to another customer). */
export async function closeOpenIdentifier(tx: Tx, grant: Grant, key: IdentifierKey, at: Date): Promise<void> {
  grant.assertWritable();
  await tx
    .updateTable('line_identifiers')
    .set({ valid_to: at })
    .where('kind', '=', key.kind)
    .where('value', '=', key.value)
    .where('context', '=', key.context)
    .where('valid_to', 'is', null)
    .where('valid_from', '<', at)
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val([...grant.subjectIds])))
    .execute();
}

export async function insertIdentifier(
  tx: Tx,
  grant: Grant,
  row: Omit<LineIdentifier, 'identifierId'>,
): Promise<LineIdentifier> {
  grant.assertWritable();
  grant.assertCovers(TELEPHONY_CATEGORIES.number, row.subjectId);
  const inserted = await tx
    .insertInto('line_identifiers')
    .values({
      tenant_id: grant.tenantId,
      subject_id: row.subjectId,
      kind: row.kind,
      value: row.value,
      context: row.context,
      valid_from: row.validFrom,
      valid_to: row.validTo,
    })
    .returning('identifier_id')
    .executeTakeFirstOrThrow();
  return { identifierId: inserted.identifier_id, ...row };
}

/**
 * Sets the end of one identifier's open period; null when the row is not the grant's subject's,
 * `already_ended` when the period has an end already (it keeps it).
 */
export async function updateIdentifierEnd(
  tx: Tx,
  grant: Grant,
  identifierId: number,
  at: Date,
): Promise<{ kind: 'ended'; identifier: LineIdentifier } | { kind: 'already_ended' } | null> {
  grant.assertWritable();
  const current = await tx
    .selectFrom('line_identifiers')
    .select(['subject_id', 'valid_to'])
    .where('identifier_id', '=', identifierId)
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val([...grant.subjectIds])))
    .forUpdate()
    .executeTakeFirst();
  if (current === undefined) return null;
  grant.assertCovers(TELEPHONY_CATEGORIES.number, current.subject_id);
  if (current.valid_to !== null) return { kind: 'already_ended' };
  const row = await tx
    .updateTable('line_identifiers')
    .set({ valid_to: at })
    .where('identifier_id', '=', identifierId)
    .returning(['identifier_id', 'subject_id', 'kind', 'value', 'context', 'valid_from', 'valid_to'])
    .executeTakeFirstOrThrow();
  return { kind: 'ended', identifier: toIdentifier(row) };
}

/** Identifiers of the grant's subjects (optionally one kind), by kind, value and start. */
export async function selectIdentifiers(
  tx: Tx,
  grant: Grant,
  filter: { kind?: LineIdentifierKind } = {},
): Promise<LineIdentifier[]> {
  const subjectIds = [...grant.subjectIds];
  if (subjectIds.length === 0) return [];
  for (const id of subjectIds) grant.assertCovers(TELEPHONY_CATEGORIES.number, id);
  let query = tx
    .selectFrom('line_identifiers')
    .select(['identifier_id', 'subject_id', 'kind', 'value', 'context', 'valid_from', 'valid_to'])
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val(subjectIds)))
    .orderBy('kind')
    .orderBy('context')
    .orderBy('value')
    .orderBy('valid_from');
  if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind);
  return (await query.execute()).map(toIdentifier);
}

function toIdentifier(row: {
  identifier_id: number;
  subject_id: number;
  kind: LineIdentifierKind;
  value: string;
  context: string;
  valid_from: Date;
  valid_to: Date | null;
}): LineIdentifier {
  return {
    identifierId: Number(row.identifier_id),
    subjectId: Number(row.subject_id),
    kind: row.kind,
    value: row.value,
    context: row.context,
    validFrom: row.valid_from,
    validTo: row.valid_to,
  };
}
