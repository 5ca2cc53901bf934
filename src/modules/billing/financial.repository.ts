import { decryptOrHoldBack, type UnreadableRecord } from '../../platform/errors.js';
import type { Grant } from '../../kernel/gate/gate.js';
import type { FieldRef } from '../../kernel/gate/access.js';
import type { Tx } from '../../platform/db.js';
import { BILLING_CATEGORIES as C } from './datamap.js';

const ibanRef = (bankAccountId: number): FieldRef => ({
  table: 'bank_accounts',
  column: 'iban_enc',
  rowId: String(bankAccountId),
});
const scoreRef = (creditScoreId: number): FieldRef => ({
  table: 'credit_scores',
  column: 'score_enc',
  rowId: String(creditScoreId),
});

export interface BankAccountRecord {
  bankAccountId: number;
  subjectId: number;
  /** null once the subject's key is destroyed. */
  iban: string | null;
  directDebitMandate: string | null;
  mandateSignedOn: string | null;
  createdAt: Date;
}

/** The blind index of an IBAN (electronic form) for exact-match search. */
export async function ibanBlindIndex(grant: Grant, iban: string): Promise<Buffer> {
  return grant.blindIndex(C.bankAccount, 'iban', iban);
}

/**
 * Stores a bank account; the IBAN is encrypted under the subject's key. The row id is part of the
 * ciphertext's associated data, so the row is inserted first and the ciphertext set after.
 */
export async function insertBankAccount(
  tx: Tx,
  grant: Grant,
  row: {
    subjectId: number;
    iban: string;
    directDebitMandate: string | null;
    mandateSignedOn: string | null;
    at: Date;
  },
): Promise<number> {
  grant.assertWritable();
  grant.assertCovers(C.bankAccount, row.subjectId);
  if (row.directDebitMandate !== null) grant.assertCovers(C.payment, row.subjectId);
  const bidx = await ibanBlindIndex(grant, row.iban);
  const inserted = await tx
    .insertInto('bank_accounts')
    .values({
      tenant_id: grant.tenantId,
      subject_id: row.subjectId,
      iban_enc: Buffer.alloc(0),
      iban_bidx: bidx,
      direct_debit_mandate: row.directDebitMandate,
      mandate_signed_on: row.mandateSignedOn,
      created_at: row.at,
    })
    .returning('bank_account_id')
    .executeTakeFirstOrThrow();
  const id = inserted.bank_account_id;
  const encrypted = await grant.encrypt(C.bankAccount, row.subjectId, ibanRef(id), row.iban);
  await tx
    .updateTable('bank_accounts')
    .set({ iban_enc: encrypted })
    .where('bank_account_id', '=', id)
    .execute();
  return id;
}

/** Whether the subject already has this IBAN (blind index; nothing decrypted). */
export async function hasBankAccount(tx: Tx, subjectId: number, bidx: Buffer): Promise<boolean> {
  const row = await tx
    .selectFrom('bank_accounts')
    .select('bank_account_id')
    .where('subject_id', '=', subjectId)
    .where('iban_bidx', '=', bidx)
    .executeTakeFirst();
  return row !== undefined;
}

/** A subject's accounts, IBANs decrypted through the grant (user.financial.bank_account). */
export async function selectBankAccounts(
  tx: Tx,
  grant: Grant,
  subjectIds: readonly number[],
  options: {
    mandatesOnly?: boolean;
    /** Given, an account whose IBAN does not open is left out and named here (row id: its subject; decision 1241). */
    unreadable?: UnreadableRecord[];
  } = {},
): Promise<BankAccountRecord[]> {
  if (subjectIds.length === 0) return [];
  let query = tx
    .selectFrom('bank_accounts')
    .select([
      'bank_account_id',
      'subject_id',
      'iban_enc',
      'direct_debit_mandate',
      (eb) => eb.cast<string | null>('mandate_signed_on', 'text').as('mandate_signed_on'),
      'created_at',
    ])
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val([...subjectIds])))
    .orderBy('subject_id')
    .orderBy('bank_account_id');
  if (options.mandatesOnly) query = query.where('direct_debit_mandate', 'is not', null);
  const rows = await query.execute();
  const records: BankAccountRecord[] = [];
  for (const row of rows) {
    const iban = await decryptOrHoldBack(String(row.subject_id), options.unreadable, () =>
      grant.decrypt(C.bankAccount, row.subject_id, ibanRef(row.bank_account_id), row.iban_enc),
    );
    if (iban === undefined) continue;
    records.push({
      bankAccountId: row.bank_account_id,
      subjectId: row.subject_id,
      iban,
      directDebitMandate: row.direct_debit_mandate,
      mandateSignedOn: row.mandate_signed_on,
      createdAt: row.created_at,
    });
  }
  return records;
}

/** Subjects holding an IBAN (exact match through the blind index). */
export async function selectSubjectsByIban(tx: Tx, bidx: Buffer): Promise<number[]> {
  const rows = await tx
    .selectFrom('bank_accounts')
    .select('subject_id')
    .where('iban_bidx', '=', bidx)
    .orderBy('subject_id')
    .execute();
  return [...new Set(rows.map((row) => row.subject_id))];
}

export interface CreditScoreRecord {
  creditScoreId: number;
  subjectId: number;
  /** null once the subject's key is destroyed. */
  score: number | null;
  source: string;
  observedOn: string;
  recordedByStaffId: number | null;
  createdAt: Date;
}

/** Stores an external credit score; the score is encrypted, the source and date are not. */
export async function insertCreditScore(
  tx: Tx,
  grant: Grant,
  row: {
    subjectId: number;
    score: number;
    source: string;
    observedOn: string;
    recordedByStaffId: number | null;
    at: Date;
  },
): Promise<number> {
  grant.assertWritable();
  grant.assertCovers(C.creditScore, row.subjectId);
  const inserted = await tx
    .insertInto('credit_scores')
    .values({
      tenant_id: grant.tenantId,
      subject_id: row.subjectId,
      score_enc: Buffer.alloc(0),
      source: row.source,
      observed_on: row.observedOn,
      recorded_by_staff_id: row.recordedByStaffId,
      created_at: row.at,
    })
    .returning('credit_score_id')
    .executeTakeFirstOrThrow();
  const id = inserted.credit_score_id;
  const encrypted = await grant.encrypt(C.creditScore, row.subjectId, scoreRef(id), String(row.score));
  await tx
    .updateTable('credit_scores')
    .set({ score_enc: encrypted })
    .where('credit_score_id', '=', id)
    .execute();
  return id;
}

/** A subject's credit scores, newest first, each with its source and date. */
export async function selectCreditScores(
  tx: Tx,
  grant: Grant,
  subjectId: number,
): Promise<CreditScoreRecord[]> {
  grant.assertCovers(C.creditScore, subjectId);
  const rows = await tx
    .selectFrom('credit_scores')
    .select([
      'credit_score_id',
      'subject_id',
      'score_enc',
      'source',
      (eb) => eb.cast<string>('observed_on', 'text').as('observed_on'),
      'recorded_by_staff_id',
      'created_at',
    ])
    .where('subject_id', '=', subjectId)
    .orderBy('observed_on', 'desc')
    .orderBy('credit_score_id', 'desc')
    .execute();
  const records: CreditScoreRecord[] = [];
  for (const row of rows) {
    const score = await grant.decrypt(C.creditScore, subjectId, scoreRef(row.credit_score_id), row.score_enc);
    records.push({
      creditScoreId: row.credit_score_id,
      subjectId,
      score: score === null ? null : Number(score),
      source: row.source,
      observedOn: row.observed_on,
      recordedByStaffId: row.recorded_by_staff_id,
      createdAt: row.created_at,
    });
  }
  return records;
}
