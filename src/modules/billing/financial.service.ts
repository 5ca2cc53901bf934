import { z } from 'zod';
import { validateIban } from '../../kernel/identifiers/iban.js';
import type { Kernel } from '../../kernel/kernel.js';
import { touchSubjects } from '../../kernel/subjects/index.js';
import { authorize, conflict, invalid, staffIdOf, type BillingContext } from './access.js';
import { BILLING_CATEGORIES as C } from './datamap.js';
import {
  hasBankAccount,
  ibanBlindIndex,
  insertBankAccount,
  insertCreditScore,
  selectBankAccounts,
  selectCreditScores,
  type BankAccountRecord,
  type CreditScoreRecord,
} from './financial.repository.js';

export type { BankAccountRecord, CreditScoreRecord };

const isoDate = z.iso.date('expected a date as YYYY-MM-DD');

export const addBankAccountInputSchema = z
  .object({
    iban: z.string().trim().min(1).max(60),
    directDebitMandate: z
      .string()
      .regex(/^[A-Za-z0-9+?/:().,' -]{1,35}$/, 'a SEPA mandate reference (at most 35 characters)')
      .nullish(),
    mandateSignedOn: isoDate.nullish(),
  })
  .refine((input) => (input.directDebitMandate == null) === (input.mandateSignedOn == null), {
    message: 'a mandate needs both its reference and the day it was signed',
    path: ['mandateSignedOn'],
  });

export const recordCreditScoreInputSchema = z.object({
  score: z.number().int().min(0).max(1000),
  /** The credit reference agency, e.g. graydon, creditsafe. */
  source: z.string().regex(/^[a-z][a-z0-9_]{1,39}$/, 'the agency as a lowercase key, e.g. graydon'),
  observedOn: isoDate,
});

export type AddBankAccountInput = z.input<typeof addBankAccountInputSchema>;
export type RecordCreditScoreInput = z.input<typeof recordCreditScoreInputSchema>;

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw invalid(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  }
  return parsed.data;
}

/**
 * Adds a bank account to a customer: the IBAN is validated (ISO 13616 and the Belgian account
 * check), encrypted under the subject's key and blind-indexed. Writes user.financial.bank_account
 * (and kluis.billing.payment for a direct-debit mandate) under the context's purpose.
 */
export async function addBankAccount(
  kernel: Kernel,
  context: BillingContext,
  subjectId: number,
  input: AddBankAccountInput,
): Promise<BankAccountRecord> {
  const data = parse(addBankAccountInputSchema, input);
  const iban = validateIban(data.iban);
  if (!iban.ok)
    throw invalid(`iban: not a valid IBAN (${iban.reason.replaceAll('_', ' ')})`, { field: 'iban' });
  const mandate = data.directDebitMandate ?? null;
  const categories = mandate === null ? [C.bankAccount] : [C.bankAccount, C.payment];
  const at = kernel.clock.now();
  return kernel.transact(context.tenantId, async (atx) => {
    const grant = await authorize(kernel, atx, context, 'write', categories, [subjectId]);
    if (await hasBankAccount(atx.tx, subjectId, await ibanBlindIndex(grant, iban.iban))) {
      throw conflict('this customer already has this bank account');
    }
    if (mandate !== null) {
      const existing = await selectBankAccounts(atx.tx, grant, [subjectId], { mandatesOnly: true });
      if (existing.length > 0) throw conflict('this customer already has a direct-debit mandate');
    }
    const id = await insertBankAccount(atx.tx, grant, {
      subjectId,
      iban: iban.iban,
      directDebitMandate: mandate,
      mandateSignedOn: data.mandateSignedOn ?? null,
      at,
    });
    await touchSubjects(atx, [subjectId], at);
    const [created] = (await selectBankAccounts(atx.tx, grant, [subjectId])).filter(
      (account) => account.bankAccountId === id,
    );
    if (!created) throw new Error('bank account vanished');
    return created;
  });
}

/** A customer's bank accounts (user.financial.bank_account, read under the context's purpose). */
export async function listBankAccounts(
  kernel: Kernel,
  context: BillingContext,
  subjectId: number,
): Promise<BankAccountRecord[]> {
  return kernel.transact(context.tenantId, async (atx) => {
    const grant = await authorize(kernel, atx, context, 'read', [C.bankAccount], [subjectId]);
    return selectBankAccounts(atx.tx, grant, [subjectId]);
  });
}

/**
 * Records an external credit score with its source (the agency) and the day it was observed
 * (kluis.financial.credit_score, write, under the tenant's solvency/eligibility purpose).
 */
export async function recordCreditScore(
  kernel: Kernel,
  context: BillingContext,
  subjectId: number,
  input: RecordCreditScoreInput,
): Promise<CreditScoreRecord> {
  const data = parse(recordCreditScoreInputSchema, input);
  const at = kernel.clock.now();
  if (data.observedOn > at.toISOString().slice(0, 10)) throw invalid('observedOn: lies in the future');
  return kernel.transact(context.tenantId, async (atx) => {
    const grant = await authorize(kernel, atx, context, 'write', [C.creditScore], [subjectId]);
    const id = await insertCreditScore(atx.tx, grant, {
      subjectId,
      score: data.score,
      source: data.source,
      observedOn: data.observedOn,
      recordedByStaffId: staffIdOf(context.actor),
      at,
    });
    // A score from a credit bureau is no activity of the person (decision 0095): no clock moves.
    const created = (await selectCreditScores(atx.tx, grant, subjectId)).find(
      (score) => score.creditScoreId === id,
    );
    if (!created) throw new Error('credit score vanished');
    return created;
  });
}

/** A customer's credit scores, newest first, each naming its source (VK-21: sources reported). */
export async function listCreditScores(
  kernel: Kernel,
  context: BillingContext,
  subjectId: number,
): Promise<CreditScoreRecord[]> {
  return kernel.transact(context.tenantId, async (atx) => {
    const grant = await authorize(kernel, atx, context, 'read', [C.creditScore], [subjectId]);
    return selectCreditScores(atx.tx, grant, subjectId);
  });
}
