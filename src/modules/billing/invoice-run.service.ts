import type { Kernel } from '../../kernel/kernel.js';
import type { Tx } from '../../platform/db.js';
import { findCategory } from '../../kernel/policy/policy.query.js';
import { AppError, type UnreadableRecord } from '../../platform/errors.js';
import { holdSubjectsAgainstErasure } from '../../kernel/subjects/index.js';
import { reachTestHook } from '../../platform/test-hooks.js';
import type { Policy } from '../../kernel/policy/policy.schema.js';
import { maskIban } from '../../kernel/identifiers/iban.js';
// The parties module's batch read with a grant (one query, decryption through the grant); its
// index exports only per-person reads, each its own transaction, too slow for a monthly run.
import { readOrganisationsForInvoices, readPeopleUnderGrant } from '../parties/index.js';
import type { InvoicedOrganisation, Person as PersonRecord } from '../parties/index.js';
import {
  authorize,
  authorizeBatches,
  conflict,
  coveredBy,
  invalid,
  staffIdOf,
  type BillingContext,
  assertMoneyPurpose,
} from './access.js';
import {
  BUILT_IN_GROUPS,
  BUILT_IN_HEADS,
  CALL_TOTALS_HEAD_LENGTH,
  countImportsInProgress,
  hasRatingPlans,
  isBuiltInGroup,
  loadDestinationGrouping,
  rerateMonth,
  type DestinationGroup,
  type DestinationGrouping,
} from '../telephony/index.js';
import {
  addDays,
  daysInclusive,
  formatInvoiceNumber,
  holdUntil,
  microsToCents,
  parsePeriod,
  prorate,
  structuredCommunicationOf,
  totalsOf,
  type BillingPeriod,
} from './amounts.js';
import { EXEMPTION_TEXTS } from '../contracts/index.js';
import type { DocumentLanguage, SellerSnapshot } from './billing.tables.js';
import { ACCOUNTING_HOLD, BILLING_CATEGORIES as C, LANGUAGE_CATEGORY } from './datamap.js';
import {
  DOCUMENT_TEXTS,
  callGroupLine,
  defaultDocumentLanguage,
  isDocumentLanguage,
} from './document-texts.js';
import { selectBankAccounts, type BankAccountRecord } from './financial.repository.js';
import {
  advanceCounter,
  lockCounter,
  lockInvoiceRuns,
  assertIssueDateInOrder,
  prepareRunPart,
  invoiceStatisticsNeedRefresh,
  allowBatchSortsInMemory,
  selectCallSummaries,
  draftBatchCallLines,
  selectCallWindow,
  selectCallWindowSubjects,
  selectCandidateSubjects,
  countInvoicedSubjects,
  selectContractLines,
  selectInvoicedSubjects,
  selectLateCalls,
  type BuyerSnapshot,
  type CallLineDrafting,
  type CallSummaryRow,
  type SqlCallLinesTarget,
  type SqlDraftedCalls,
  type InvoiceCallMonth,
  type LateCallsRow,
  type ContractLineRow,
  type NewInvoice,
  type NewInvoiceLine,
} from './invoice-run.repository.js';
import { assertNumberingNotHeld } from './numbering-hold.js';
import { selectBilledSubjectsOfMonth } from './invoice.repository.js';
import { loadSeller } from './settings.service.js';

/**
 * Invoices drafted before their part is sent to the server (decision 0899): small enough that the
 * server starts writing soon, large enough that each statement carries many rows.
 */
const WRITE_PART = 1000;

/** Calls are telecommunication services: the standard Belgian rate. */
export const CALL_VAT_RATE_BP = 2100;
/** Call records are read under this purpose only (G-1, VX-5). */
export const CALL_BILLING_PURPOSE = 'call_billing';

export interface InvoiceRunOptions {
  /** The billing month, `YYYY-MM`. */
  period: string;
  /** The invoices' date; default today in Belgium. */
  issueDate?: string;
  /**
   * Customers per transaction (default 5,000): each batch reads its customers' calls in one
   * aggregate, so fewer, larger batches pass over the month's calls fewer times (decision 0420).
   */
  batchSize?: number;
  /** Bill even though some chargeable calls of the month have no rate (they are left out). */
  allowUnrated?: boolean;
  /**
   * The purpose the caller declares for reading the month's call records (G-1: e.g. call_billing);
   * default: the run's own purpose, for the API and the CLI alike (`callsPurposeOf`, decision
   * 0881). Never chosen on the caller's behalf (decision 0061).
   */
  callsPurpose?: string;
  /**
   * Where the calls lines per destination group are drafted: in SQL from the month's call totals,
   * never leaving the server (the default, decision 0550), or in TypeScript (what a tariff whose
   * groups need longer heads than the totals keep always uses). Both give the same invoices
   * (invoice-run.sql-drafting.test.ts); not offered over HTTP or the CLI.
   */
  callLineDrafting?: 'sql' | 'typescript';
  /**
   * Invoices per part written while the next part is drafted (default `WRITE_PART`, decision
   * 0899); tests make it small to write a few customers in several parts. Not offered over HTTP
   * or the CLI.
   */
  writePart?: number;
}

/** How many refused customers a run's summary names (the count covers all). */
const REFUSED_LISTED = 100;

export interface InvoiceRunSummary {
  period: string;
  issueDate: string;
  /** Customers with a contract or charged calls in the period, not billed for it before. */
  candidates: number;
  invoiced: number;
  /** Nothing to bill (e.g. a free product and no calls). */
  empty: number;
  /** Billed for this period by an earlier or concurrent run. */
  alreadyInvoiced: number;
  /**
   * Not billed: refused by the gate (restricted, objected …; audited), held back because a field
   * does not open (decision 1241) or because there is no postal address to invoice (decision 1290).
   */
  refused: number;
  /**
   * Who was refused and the code (the first 100), so that billing can tell a restricted customer,
   * rightly left out, from one no billing purpose covers (attack S20-17, decision 0929), one whose
   * record does not open (`field_unreadable`) and one with no address (`billing_address_missing`).
   */
  refusedCustomers: Array<{ subjectId: number; code: string }>;
  firstNumber: string | null;
  lastNumber: string | null;
  totalInclVatCents: number;
  /**
   * Calls of earlier, invoiced months that arrived after their invoice (G-1): billed on this
   * run's invoices, or waiting (the customer is already invoiced for this period, was refused,
   * or the calls have no rate yet) for the next run. Never dropped without a word.
   */
  lateCalls: {
    billed: number;
    billedCustomers: number;
    billedExclVatCents: number;
    months: string[];
    waiting: number;
    waitingCustomers: number;
  };
  /**
   * Call-record imports still queued or running when the run started: the run billed the calls
   * stored so far; what they store later is billed as late calls by the next run (S9-4).
   */
  importsInProgress: number;
}

import { belgianDay as belgianDate } from '../../platform/calendar.js';

/** The Belgian calendar day of an instant (platform/calendar.ts). */
export { belgianDate };

export function accountingYears(policy: Policy): number {
  const hold = policy.legalHolds[ACCOUNTING_HOLD];
  const rule = hold ? policy.retentionRules[hold.retention] : undefined;
  if (!rule || rule.kind !== 'accounting') {
    throw conflict(`the tenant's policy has no ${ACCOUNTING_HOLD} legal hold with an accounting retention`);
  }
  return rule.years;
}

/**
 * The monthly invoice run (VX-3): one invoice per customer for the period with the contract's
 * subscriptions (pro-rated for part of a month), one-off products of contracts starting in it,
 * and charged calls summarised per destination class; VAT per rate; a structured communication;
 * the party snapshot (name, address, enterprise number, the IBAN collected from) kept under the
 * accounting hold. Numbers are gapless per tenant and year even under concurrent runs: every
 * batch locks the year's counter row in the transaction that inserts its invoices, and only then
 * looks for customers already billed. Running a month twice bills nobody twice.
 *
 * Reads and writes user.name, user.contact.address, user.financial.bank_account,
 * kluis.contract.product and kluis.billing.payment under the context's (billing) purpose, and
 * reads kluis.telephony.call_record under the purpose the caller declares for calls
 * (options.callsPurpose, else the context's); one gate decision per batch each. A purpose for
 * calls that does not cover call records refuses the run (it would bill without the calls).
 */
/**
 * The purpose an invoice run reads the month's call records under: the one declared for them, else
 * the run's own. The one default of both doors (`POST /api/v1/invoice-runs`, `kluis invoices run`;
 * decision 0881), so neither picks a purpose the caller did not declare (decision 0061).
 */
export function callsPurposeOf(
  context: BillingContext,
  options: Pick<InvoiceRunOptions, 'callsPurpose'>,
): string {
  return options.callsPurpose ?? context.purpose;
}

export async function runInvoices(
  kernel: Kernel,
  context: BillingContext,
  options: InvoiceRunOptions,
): Promise<InvoiceRunSummary> {
  const period = parsePeriod(options.period);
  if (!period) throw invalid('period: expected a month as YYYY-MM', { field: 'period' });
  const today = belgianDate(kernel.clock.now());
  if (period.start > today) {
    // A month that has not started has no calls and no subscription time yet (attack S7-8):
    // refused before anything is decided or written (decision 0501).
    const message = `period ${period.key} has not started yet (today is ${today}); a month is billed once it has ended`;
    throw new AppError('conflict', message, {
      publicMessage: message,
      details: { reason: 'period_not_started', period: period.key, today },
    });
  }
  const issueDate = options.issueDate ?? today;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(issueDate) || Number.isNaN(Date.parse(issueDate))) {
    throw invalid('issueDate: expected a date as YYYY-MM-DD', { field: 'issueDate' });
  }
  if (issueDate <= period.end) {
    throw invalid('issueDate: a month is billed once it has ended', { field: 'issueDate' });
  }
  if (issueDate > today) {
    // A future date would bill a month that has not ended and then block every run dated
    // before it (attack S8-4, decision 0541).
    throw invalid(
      `issueDate: ${issueDate} is after today (${today}); an invoice is issued today or earlier`,
      {
        field: 'issueDate',
      },
    );
  }
  const { policy } = await kernel.policies.current(context.tenantId);
  assertMoneyPurpose(policy, context.purpose, 'invoices');
  const years = accountingYears(policy);
  const categories = [
    C.payment,
    C.product,
    ...coveredBy(policy, context.purpose, [C.name, C.address, C.bankAccount, LANGUAGE_CATEGORY]),
  ];
  const defaultLanguage = defaultDocumentLanguage(policy);
  const callContext: BillingContext = { ...context, purpose: callsPurposeOf(context, options) };
  if (findCategory(policy, C.callRecord) && !coveredBy(policy, callContext.purpose, [C.callRecord]).length) {
    // Names the purposes that would do (covering call records, for the run's roles): the caller
    // declares one, nothing picks it for them (decision 0061).
    const roles = new Set(policy.purposes[context.purpose]?.roles ?? []);
    const covering = Object.entries(policy.purposes)
      .filter(
        ([key, purpose]) =>
          coveredBy(policy, key, [C.callRecord]).length > 0 && purpose.roles.some((role) => roles.has(role)),
      )
      .map(([key]) => key);
    throw new AppError('category_not_allowed', 'calls purpose does not cover call records', {
      publicMessage: `purpose ${callContext.purpose} does not cover call records; declare one that does (${covering.join(', ') || 'none in the policy'}) for the calls: callsPurpose in the API, --calls-purpose in the CLI`,
      details: { callsPurpose: callContext.purpose, validPurposes: covering },
    });
  }
  // With rating plans, import-time costs are provisional: the month is rated under the plans
  // in call order (bundles) before it is billed; customers already invoiced are left alone.
  // Three look-ups, each its own short transaction on its own connection, made at once (decision
  // 0930); all settled before any failure is thrown. The imports are counted as the run starts.
  // A held numbering (a data restore, decision 1320) refuses the run before anything is rated,
  // decided or written; `lockCounter` asks again under the lock.
  const [heldRead, plansRead, sellerRead, importsRead] = await Promise.allSettled([
    kernel.plain(context.tenantId, (tx) => assertNumberingNotHeld(tx, context.tenantId)),
    hasRatingPlans(kernel, context.tenantId),
    loadSeller(kernel, context.tenantId, policy),
    countImportsInProgress(kernel, context.tenantId),
  ]);
  if (heldRead.status === 'rejected') throw heldRead.reason;
  if (plansRead.status === 'rejected') throw plansRead.reason;
  if (sellerRead.status === 'rejected') throw sellerRead.reason;
  if (importsRead.status === 'rejected') throw importsRead.reason;
  if (plansRead.value) {
    await rerateMonth(kernel, context, { month: period.key, callsPurpose: callContext.purpose });
  }
  const seller = sellerRead.value;
  const importsInProgress = importsRead.value;
  const batchSize = options.batchSize ?? 5000;
  const writePart = Math.max(1, options.writePart ?? WRITE_PART);
  const wordsOf = {
    nl: DOCUMENT_TEXTS.nl.callWords,
    fr: DOCUMENT_TEXTS.fr.callWords,
    en: DOCUMENT_TEXTS.en.callWords,
  };
  const { window, candidates, billedBefore, grouping, late, lateAll, invoicedNow } = await kernel.transact(
    context.tenantId,
    async (atx) => {
      // The run itself is decided first, even when the month has nobody to bill (issue 10).
      await authorize(kernel, atx, context, 'write', categories, []);
      // Reads that need nothing of each other, sent back to back (decision 0930); all settled
      // before any failure is thrown, so none outlives the transaction.
      const [windowRead, subjectsRead, lateRead, billedRead, groupingRead] = await Promise.allSettled([
        selectCallWindow(atx.tx, period.start, period.end),
        selectCallWindowSubjects(atx.tx, period.start),
        selectLateCalls(atx.tx, period.start),
        countInvoicedSubjects(atx.tx, period.start),
        loadDestinationGrouping(atx.tx),
      ]);
      if (windowRead.status === 'rejected') throw windowRead.reason;
      if (subjectsRead.status === 'rejected') throw subjectsRead.reason;
      if (lateRead.status === 'rejected') throw lateRead.reason;
      if (billedRead.status === 'rejected') throw billedRead.reason;
      if (groupingRead.status === 'rejected') throw groupingRead.reason;
      const found = windowRead.value;
      const { unrated, charged } = subjectsRead.value;
      if (!options.allowUnrated) {
        if (unrated > 0) {
          throw conflict(
            `${unrated} chargeable calls in ${period.key} have no rate; import a tariff that covers them and rerate, or bill without them`,
          );
        }
      }
      const lateRows = lateRead.value;
      // Late calls of earlier months are billed by this run; those of this very month wait for the
      // next one when the customer is already invoiced for it (else they are simply billed now).
      const late = groupBy(
        lateRows.filter((row) => row.month < period.start),
        (row) => row.subjectId,
      );
      const lateAll = groupBy(lateRows, (row) => row.subjectId);
      // A customer with late calls only is a candidate too, unless already invoiced for the period.
      // Two reads that need nothing of each other, back to back (decision 1010), both settled
      // before either's failure is thrown.
      const [ownRead, invoicedRead] = await Promise.allSettled([
        selectCandidateSubjects(atx.tx, period, charged),
        selectInvoicedSubjects(atx.tx, period.start, [...lateAll.keys()]),
      ]);
      if (ownRead.status === 'rejected') throw ownRead.reason;
      if (invoicedRead.status === 'rejected') throw invoicedRead.reason;
      const own = ownRead.value;
      const invoicedNow = invoicedRead.value;
      const withLate = [...late.keys()].filter((id) => !invoicedNow.has(id));
      return {
        window: found,
        candidates: [...new Set([...own, ...withLate])].sort((a, b) => a - b),
        billedBefore: billedRead.value,
        grouping: groupingRead.value,
        late,
        lateAll,
        invoicedNow,
      };
    },
  );
  // Decision 0550: the calls lines are drafted in SQL from the month's totals unless the tariff's
  // groups need longer heads than the totals keep (or the caller asks TypeScript). The grouping
  // goes with the drafting as data, the same for every batch (decision 0720).
  const drafting =
    (options.callLineDrafting ?? 'sql') === 'sql' && grouping.headLength <= CALL_TOTALS_HEAD_LENGTH
      ? callLineDrafting(grouping, wordsOf)
      : undefined;
  const summary: InvoiceRunSummary = {
    period: period.key,
    issueDate,
    candidates: candidates.length,
    invoiced: 0,
    empty: 0,
    // Customers billed by an earlier run are no candidates; a concurrent run's are added below.
    alreadyInvoiced: billedBefore,
    refused: 0,
    refusedCustomers: [],
    firstNumber: null,
    lastNumber: null,
    totalInclVatCents: 0,
    lateCalls: {
      billed: 0,
      billedCustomers: 0,
      billedExclVatCents: 0,
      months: [],
      waiting: 0,
      waitingCustomers: 0,
    },
    importsInProgress,
  };
  const lateMonths = new Set<string>();
  const waitLate = (subjectId: number): void => {
    const rows = lateAll.get(subjectId) ?? [];
    const calls = rows.reduce((sum, row) => sum + row.calls, 0);
    if (calls === 0) return;
    summary.lateCalls.waiting += calls;
    summary.lateCalls.waitingCustomers += 1;
  };
  for (const subjectId of invoicedNow) waitLate(subjectId);
  const year = Number(issueDate.slice(0, 4));
  // The same for every invoice of the run: computed once, not once per invoice (decision 0605).
  const dueDate = addDays(issueDate, seller.paymentTermDays);
  const holdUntilDate = holdUntil(issueDate, years);
  const createdByStaffId = staffIdOf(context.actor);
  for (let start = 0; start < candidates.length; start += batchSize) {
    const batch = candidates.slice(start, start + batchSize);
    await kernel.transact(context.tenantId, async (atx) => {
      // First of all, before the gate and any read: the batch's customers are held against
      // erasure until its invoices commit (attack S9-3, decision 0584). An erasure in progress is
      // waited for, and the gate then refuses its subject; one that comes later waits for this
      // batch and keeps its invoice under the accounting hold, counted in what it kept.
      await holdSubjectsAgainstErasure(atx, batch);
      // Both decisions on one read of the batch's states (decision 0930), recorded as before.
      const [billing, calls] = await authorizeBatches(
        kernel,
        atx,
        [
          { context, action: 'write', categories },
          { context: callContext, action: 'read', categories: [C.callRecord] },
        ],
        batch,
      );
      if (!billing || !calls) throw new Error('invoice run: a gate decision is missing');
      const refused = new Set([...billing.refused, ...calls.refused]);
      const subjects = batch.filter((id) => !refused.has(id));
      // The people's data keys come from the key store (another database) while this one reads
      // the contract lines and everything up to the people's rows: one read for the batch
      // (decision 0605), awaited by the people's read before it decrypts (decision 0750). Handled
      // here so that a failure surfaces at the people's await, not as unhandled.
      const keys = billing.grant.loadKeys(subjects);
      keys.catch(() => undefined);
      if (drafting) await allowBatchSortsInMemory(atx.tx);
      // Two reads of the batch that need nothing of each other: sent back to back (decision 0899),
      // both settled before either's failure is thrown.
      // A mandate whose IBAN does not open holds its customer back, as an unreadable address does.
      const unreadableAccounts: UnreadableRecord[] = [];
      const [contractLines, accounts] = await Promise.allSettled([
        selectContractLines(atx.tx, billing.grant, period, subjects),
        categories.includes(C.bankAccount)
          ? selectBankAccounts(atx.tx, billing.grant, subjects, {
              mandatesOnly: true,
              unreadable: unreadableAccounts,
            })
          : [],
      ]);
      if (contractLines.status === 'rejected') throw contractLines.reason;
      if (accounts.status === 'rejected') throw accounts.reason;
      const lines = groupBy(contractLines.value, (row) => row.subjectId);
      for (const subjectId of refused) waitLate(subjectId);
      const mandates = new Map(accounts.value.map((account) => [account.subjectId, account]));
      const organisations = await readOrganisationsForInvoices(
        atx.tx,
        [...lines.values()].flatMap((rows) => rows.flatMap((row) => row.organisationId ?? [])),
      );
      // The locks, then the checks: a concurrent run's invoices for these customers are committed
      // and visible once they are ours, so nobody is billed twice and no number is skipped.
      await lockInvoiceRuns(atx.tx, context.tenantId);
      const last = await lockCounter(atx.tx, context.tenantId, 'F', year);
      // The checks, sent once both locks have answered, back to back: none needs another's answer
      // (decision 1010); all settled before the first failure, in this order, is thrown.
      // `partlyBilled`: customers part of whose calls of this month another invoice billed already,
      // as late calls (the month's own run came after the next month's, attack S8-5): they get
      // what is left. The same question a re-rate asks (decision 0540); those with the month's own
      // invoice are in `billed` too, and skipped below. Late calls read before the lock may have
      // been billed since by a run of another period (attack S7-1): read again, under the lock, for
      // the batch's customers that had any.
      const lateSubjects = subjects.filter((id) => lateAll.has(id));
      const [inOrder, billedRead, partlyBilledRead, lateNowRead, refreshRead] = await Promise.allSettled([
        assertIssueDateInOrder(atx.tx, context.tenantId, 'F', year, issueDate),
        selectInvoicedSubjects(atx.tx, period.start, subjects),
        selectBilledSubjectsOfMonth(atx.tx, period.start, subjects),
        selectLateCalls(atx.tx, period.start, lateSubjects),
        invoiceStatisticsNeedRefresh(atx.tx, subjects.length),
      ]);
      if (inOrder.status === 'rejected') throw inOrder.reason;
      if (billedRead.status === 'rejected') throw billedRead.reason;
      if (partlyBilledRead.status === 'rejected') throw partlyBilledRead.reason;
      if (lateNowRead.status === 'rejected') throw lateNowRead.reason;
      if (refreshRead.status === 'rejected') throw refreshRead.reason;
      const billed = billedRead.value;
      const partlyBilled = partlyBilledRead.value;
      const lateNow = groupBy(lateNowRead.value, (row) => row.subjectId);
      for (const subjectId of lateSubjects) {
        const rows = lateNow.get(subjectId) ?? [];
        lateAll.set(subjectId, rows);
        late.set(
          subjectId,
          rows.filter((row) => row.month < period.start),
        );
      }
      // Read under the locks, just before the lines are written: the month's calls lines drafted
      // in SQL in one pass over its totals (decisions 0655, 0720); in TypeScript from the month's
      // summaries when the run does not draft in SQL or a charged head needs `groupOf` (undefined).
      // The drafting statement is queued right behind the people's read, so the server drafts
      // while this process decrypts the people (decision 0775). Both are settled before either's
      // failure is thrown: the drafting's later statements never outlive the transaction.
      const unbilled = subjects.filter((id) => !billed.has(id));
      const [peopleRead, drafted] = await Promise.allSettled([
        readPeopleUnderGrant(atx.tx, billing.grant, subjects, {
          keysLoading: keys,
          holdBackUnreadable: true,
        }),
        drafting ? draftBatchCallLines(atx.tx, calls.grant, drafting, period.start, subjects) : undefined,
      ]);
      if (peopleRead.status === 'rejected') throw peopleRead.reason;
      if (drafted.status === 'rejected') throw drafted.reason;
      const people = new Map(peopleRead.value.people.map((person) => [person.subjectId, person]));
      // A customer whose name or address does not open with this key store is not invoiced: the
      // run bills the others and names them (decision 1241), as a refusal would.
      const unreadable = new Set(
        [...peopleRead.value.unreadable, ...unreadableAccounts].map((record) => Number(record.rowId)),
      );
      const sqlDrafted = drafted.value;
      const sqlDraftedOf = sqlDrafted && new Map(sqlDrafted.map((row) => [row.subjectId, row]));
      const callSummaries = groupBy(
        sqlDraftedOf
          ? []
          : await selectCallSummaries(
              atx.tx,
              calls.grant,
              { ...window, month: period.start },
              subjects,
              grouping.headLength,
            ),
        (row) => row.subjectId,
      );
      const drafts: NewInvoice[] = [];
      const missingAddress: number[] = [];
      const createdAt = kernel.clock.now();
      // The batch's invoices are written part by part as they are drafted, each part in one
      // statement (decision 1080) sent when the part before it has answered, so the server writes
      // one part while this process drafts the next (decision 0899).
      let written: Promise<void> = Promise.resolve();
      const send = (statement: (tx: Tx) => Promise<unknown>): void => {
        written = written.then(async () => {
          await statement(atx.tx);
        });
        // Met again at the await below; a failed statement skips those queued after it.
        written.catch(() => undefined);
      };
      try {
        for (let partStart = 0; partStart < subjects.length; partStart += writePart) {
          const firstDraft = drafts.length;
          const sqlTargets: SqlCallLinesTarget[] = [];
          for (const subjectId of subjects.slice(partStart, partStart + writePart)) {
            if (billed.has(subjectId)) {
              waitLate(subjectId);
              continue;
            }
            if (unreadable.has(subjectId)) {
              waitLate(subjectId);
              continue;
            }
            const language = languageOf(people.get(subjectId), defaultLanguage);
            const calls: DraftedCalls = partlyBilled.has(subjectId)
              ? remainingCallsOfMonth(period.start, lateAll.get(subjectId) ?? [], language)
              : sqlDraftedOf
                ? sqlDraftedCallsOf(period.start, sqlDraftedOf.get(subjectId))
                : summariseCalls(period.start, callSummaries.get(subjectId) ?? [], grouping, language);
            const lateCalls = lateCallLines(late.get(subjectId) ?? [], language);
            const draft = draftInvoice({
              subjectId,
              period,
              contractLines: lines.get(subjectId) ?? [],
              callLines: [...calls.lines, ...lateCalls.lines],
              person: people.get(subjectId),
              mandate: mandates.get(subjectId),
              organisations,
              defaultLanguage,
            });
            if (!draft) {
              summary.empty += 1;
              waitLate(subjectId);
              continue;
            }
            if (!hasPostalAddress(draft.buyer)) {
              // Not invoiced to an empty address: held back until it is recorded (decision 1290).
              missingAddress.push(subjectId);
              waitLate(subjectId);
              continue;
            }
            if (lateCalls.billed > 0) {
              summary.lateCalls.billed += lateCalls.billed;
              summary.lateCalls.billedCustomers += 1;
              summary.lateCalls.billedExclVatCents += lateCalls.lines.reduce(
                (sum, row) => sum + row.amountCents,
                0,
              );
              for (const month of lateCalls.months) lateMonths.add(month.month.slice(0, 7));
            }
            if (lateCalls.waiting > 0) {
              summary.lateCalls.waiting += lateCalls.waiting;
              summary.lateCalls.waitingCustomers += 1;
            }
            const number = last + drafts.length + 1;
            // Totals over every line, the SQL-drafted calls lines' sum among them; then that stand-in
            // leaves the lines and its place is kept for the calls lines prepareRunPart writes.
            const totals = totalsFields(draft.lines);
            const standIn = calls.standIn;
            const at = standIn ? draft.lines.indexOf(standIn) + 1 : 0;
            if (standIn && calls.sql) {
              sqlTargets.push({
                subjectId,
                language,
                at,
                vatRateBp: standIn.vatRateBp,
                vatCategory: standIn.vatCategory,
                vatExemptionCode: standIn.vatExemptionCode,
                vatExemptionReason: standIn.vatExemptionReason,
                cents: calls.sql.cents,
                lines: calls.sql.lines,
              });
            }
            drafts.push({
              kind: 'invoice',
              series: 'F',
              year,
              number,
              invoiceNumber: formatInvoiceNumber('F', year, number),
              subjectId,
              organisationId: draft.organisationId,
              creditedInvoiceId: null,
              periodStart: period.start,
              periodEnd: period.end,
              issueDate,
              dueDate,
              holdUntil: holdUntilDate,
              ...totals,
              structuredCommunication: structuredCommunicationOf('F', year, number),
              itemisedCalls: draft.itemisedCalls,
              creditReason: null,
              buyer: draft.buyer,
              seller: seller.snapshot,
              createdByStaffId,
              createdAt,
              lines: standIn ? draft.lines.filter((candidate) => candidate !== standIn) : draft.lines,
              callMonths: [...(calls.month ? [calls.month] : []), ...lateCalls.months],
              ...(standIn && calls.sql ? { sqlCallLines: { at, count: calls.sql.lines } } : {}),
            });
          }
          const statements = prepareRunPart(billing.grant, drafts.slice(firstDraft), {
            // Before the first part's lines check their invoices, for the batch's invoices (0420).
            // Only when the refresh would run: else the first part is one statement too (1310).
            refreshStatistics: firstDraft === 0 && refreshRead.value ? unbilled.length : 0,
            callLines: drafting ? { grant: calls.grant, drafting, targets: sqlTargets } : undefined,
          });
          for (const statement of statements) send(statement);
          // A turn of the event loop: the connection sends the part while the next is drafted.
          await new Promise((resolve) => setImmediate(resolve));
        }
        if (drafts.length > 0) {
          send((tx) => advanceCounter(tx, 'F', year, drafts.length));
          // The batch's audit entries (two gate decisions of 5,000 subjects each) are signed while
          // the server writes the last parts, not after (decision 0830).
          atx.audit.prepareAppend();
        }
      } catch (error) {
        // No statement of the batch outlives its transaction.
        await written.catch(() => undefined);
        throw error;
      }
      await written;
      // Crash tests: a kill here loses the batch's invoices, numbers and audit entries together.
      await reachTestHook('invoice-run.before-commit');
      summary.invoiced += drafts.length;
      summary.alreadyInvoiced += billed.size;
      const unreadableUnbilled = [...unreadable].filter((subjectId) => !billed.has(subjectId));
      summary.refused += refused.size + unreadableUnbilled.length + missingAddress.length;
      for (const subjectId of unreadableUnbilled) {
        if (summary.refusedCustomers.length >= REFUSED_LISTED) break;
        summary.refusedCustomers.push({ subjectId, code: 'field_unreadable' });
      }
      for (const subjectId of missingAddress) {
        if (summary.refusedCustomers.length >= REFUSED_LISTED) break;
        summary.refusedCustomers.push({ subjectId, code: BILLING_ADDRESS_MISSING });
      }
      for (const subjectId of refused) {
        if (summary.refusedCustomers.length >= REFUSED_LISTED) break;
        const denial = billing.denials.get(subjectId) ?? calls.denials.get(subjectId);
        // The audit's reason, not the answer's code: a subject type outside the purpose answers
        // not_found to the outside (decision 0063), but billing must see why it lost the invoice.
        summary.refusedCustomers.push({
          subjectId,
          code: denial?.auditEvent.reason ?? denial?.code ?? 'refused',
        });
      }
      summary.totalInclVatCents += drafts.reduce((sum, draft) => sum + draft.totalInclVatCents, 0);
      const first = drafts[0];
      const lastDraft = drafts.at(-1);
      if (first && summary.firstNumber === null) summary.firstNumber = first.invoiceNumber;
      if (lastDraft) summary.lastNumber = lastDraft.invoiceNumber;
    });
    await reachTestHook('invoice-run.after-batch');
  }
  summary.lateCalls.months = [...lateMonths].sort();
  return summary;
}

type CallMonth = Omit<InvoiceCallMonth, 'invoiceNumber'>;

/** A customer's calls of the month as drafted: lines, the month's record, and SQL's part (0550). */
interface DraftedCalls {
  lines: NewInvoiceLine[];
  month: CallMonth | undefined;
  /** The stand-in for the lines written in SQL (`sqlDraftedCallsOf`). */
  standIn?: NewInvoiceLine | undefined;
  sql?: SqlDraftedCalls | undefined;
}

/**
 * One customer's calls of the period as summary lines per destination group (the tariff's
 * groups, else the built-in classes), and what the invoice bills of the month (every chargeable
 * call, included ones too) for the late-call count (G-1).
 */
export function summariseCalls(
  periodStart: string,
  rows: readonly CallSummaryRow[],
  grouping: DestinationGrouping,
  language: DocumentLanguage,
): { lines: NewInvoiceLine[]; month: CallMonth } {
  const month: CallMonth = { month: periodStart, calls: 0, seconds: 0, costMicros: 0 };
  const groups = new Map<string, { label: string; calls: number; seconds: number; costMicros: number }>();
  for (const row of rows) {
    month.calls += row.chargeable;
    month.seconds += row.chargeableSeconds;
    month.costMicros += row.costMicros;
    if (row.calls === 0) continue;
    const group = grouping.groupOf(row.head);
    const sum = groups.get(group.key) ?? {
      label: groupLabel(group, language),
      calls: 0,
      seconds: 0,
      costMicros: 0,
    };
    sum.calls += row.calls;
    sum.seconds += row.seconds;
    sum.costMicros += row.costMicros;
    groups.set(group.key, sum);
  }
  const lines: NewInvoiceLine[] = [];
  for (const [key, sum] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const cents = microsToCents(sum.costMicros);
    if (cents <= 0) continue;
    lines.push({
      kind: 'calls',
      description: callGroupLine(language, sum.label, sum.calls, formatDuration(sum.seconds)).slice(0, 300),
      productId: null,
      contractId: null,
      destinationClass: isBuiltInGroup(key) ? key : null,
      destinationGroup: key,
      callCount: sum.calls,
      callSeconds: sum.seconds,
      quantity: 1,
      unitPriceCents: cents,
      amountCents: cents,
      vatRateBp: CALL_VAT_RATE_BP,
      vatCategory: 'S',
      vatExemptionCode: null,
      vatExemptionReason: null,
    });
  }
  return { lines, month };
}

/**
 * The SQL drafting's grouping and names (decisions 0550, 0720): the grouping's heads as data, the
 * tariff's and the built-in classes', and every group either can give, named in each language.
 */
function callLineDrafting(grouping: DestinationGrouping, words: CallLineDrafting['words']): CallLineDrafting {
  const groups = new Map<string, CallLineDrafting['groups'][number]>();
  const named = [...grouping.tariffHeads.map((head) => head.group), ...Object.values(BUILT_IN_GROUPS)];
  for (const group of named) {
    if (groups.has(group.key)) continue;
    groups.set(group.key, {
      key: group.key,
      builtIn: isBuiltInGroup(group.key),
      labels: { nl: groupLabel(group, 'nl'), fr: groupLabel(group, 'fr'), en: groupLabel(group, 'en') },
    });
  }
  return {
    headLength: grouping.headLength,
    heads: [
      ...grouping.tariffHeads.map(({ head, group }) => ({ head, key: group.key, tariff: true })),
      ...BUILT_IN_HEADS.map(({ head, key }) => ({ head, key, tariff: false })),
    ],
    groups: [...groups.values()],
    words,
  };
}

/**
 * A customer's month drafted in SQL: one stand-in line carrying the sum of its calls lines (so the
 * invoice's totals, VAT and reverse charge treat them as TypeScript lines), replaced at insert by
 * the lines themselves; and the month's record (G-1), as `summariseCalls` gives them.
 */
function sqlDraftedCallsOf(
  periodStart: string,
  row: SqlDraftedCalls | undefined,
): {
  lines: NewInvoiceLine[];
  month: CallMonth;
  standIn: NewInvoiceLine | undefined;
  sql: SqlDraftedCalls | undefined;
} {
  const month: CallMonth = {
    month: periodStart,
    calls: row?.chargeable ?? 0,
    seconds: row?.chargeableSeconds ?? 0,
    costMicros: row?.costMicros ?? 0,
  };
  if (!row || row.lines === 0) return { lines: [], month, standIn: undefined, sql: row };
  const standIn: NewInvoiceLine = {
    kind: 'calls',
    description: '',
    productId: null,
    contractId: null,
    destinationClass: null,
    callCount: null,
    callSeconds: null,
    quantity: 1,
    unitPriceCents: row.cents,
    amountCents: row.cents,
    vatRateBp: CALL_VAT_RATE_BP,
    vatCategory: 'S',
    vatExemptionCode: null,
    vatExemptionReason: null,
  };
  return { lines: [standIn], month, standIn, sql: row };
}

/**
 * How a calls line names its destination group: a built-in class in the document's language, a
 * tariff's own group by the tariff's name for it (the tenant's words, in the tenant's language).
 */
export function groupLabel(group: DestinationGroup, language: DocumentLanguage): string {
  return isBuiltInGroup(group.key) ? DOCUMENT_TEXTS[language].builtInGroups[group.key] : group.label;
}

/**
 * Lines for a customer's late calls (G-1): one per earlier month, "calls of 2026-09 not on that
 * month's invoice", or "… not billed before" when the customer had no invoice for that month
 * (attack S8-4). A month with unrated late calls waits (it would be billed incompletely).
 */
export function lateCallLines(
  rows: readonly LateCallsRow[],
  language: DocumentLanguage,
  text: 'lateCalls' | 'remainingCalls' = 'lateCalls',
): {
  lines: NewInvoiceLine[];
  months: CallMonth[];
  billed: number;
  waiting: number;
} {
  const result = { lines: [] as NewInvoiceLine[], months: [] as CallMonth[], billed: 0, waiting: 0 };
  for (const row of rows) {
    if (row.unrated > 0 || row.costMicros < 0) {
      result.waiting += row.calls;
      continue;
    }
    result.billed += row.calls;
    result.months.push({
      month: row.month,
      calls: row.calls,
      seconds: row.seconds,
      costMicros: row.costMicros,
    });
    const cents = microsToCents(row.costMicros);
    if (cents <= 0) continue;
    result.lines.push({
      kind: 'calls',
      description: DOCUMENT_TEXTS[language][row.monthInvoiced ? text : 'remainingCalls'](
        row.month.slice(0, 7),
        row.calls,
        formatDuration(row.seconds),
      ).slice(0, 300),
      productId: null,
      contractId: null,
      destinationClass: null,
      destinationGroup: null,
      callsMonth: row.month,
      callCount: row.calls,
      callSeconds: row.seconds,
      quantity: 1,
      unitPriceCents: cents,
      amountCents: cents,
      vatRateBp: CALL_VAT_RATE_BP,
      vatCategory: 'S',
      vatExemptionCode: null,
      vatExemptionReason: null,
    });
  }
  return result;
}

/**
 * The month's own calls of a customer part of whose calls of it another invoice billed already:
 * one line for the rest, stored minus billed (the late-call count), so each call is billed once
 * whichever run comes first (attack S8-5, decision 0532). Nothing left, no line and no record.
 */
function remainingCallsOfMonth(
  periodStart: string,
  lateRows: readonly LateCallsRow[],
  language: DocumentLanguage,
): { lines: NewInvoiceLine[]; month: CallMonth | undefined } {
  const rest = lateCallLines(
    lateRows.filter((row) => row.month === periodStart),
    language,
    'remainingCalls',
  );
  return { lines: rest.lines, month: rest.months[0] };
}

function totalsFields(lines: readonly NewInvoiceLine[]): {
  totalExclVatCents: number;
  vatCents: number;
  totalInclVatCents: number;
} {
  const totals = totalsOf(lines);
  return {
    totalExclVatCents: totals.totalExclVatCents,
    vatCents: totals.vatCents,
    totalInclVatCents: totals.totalInclVatCents,
  };
}

interface Draft {
  organisationId: number | null;
  itemisedCalls: boolean;
  buyer: BuyerSnapshot;
  lines: NewInvoiceLine[];
}

/** One customer's invoice for the period, or undefined when there is nothing to bill. */
export function draftInvoice(input: {
  subjectId: number;
  period: BillingPeriod;
  contractLines: readonly ContractLineRow[];
  /** Calls lines, already summarised (summariseCalls, lateCallLines). */
  callLines: readonly NewInvoiceLine[];
  person: PersonRecord | undefined;
  mandate: BankAccountRecord | undefined;
  organisations: ReadonlyMap<number, InvoicedOrganisation>;
  /** The tenant's language, for a customer whose own is not known under the run's purpose. */
  defaultLanguage: DocumentLanguage;
}): Draft | undefined {
  const { period } = input;
  const lines: NewInvoiceLine[] = [];
  for (const row of input.contractLines) {
    const full = row.quantity * row.unitPriceCents;
    if (row.productKind !== 'subscription') {
      lines.push(line(row, `${row.productName}`, row.quantity, row.unitPriceCents));
      continue;
    }
    const from = row.startDate > period.start ? row.startDate : period.start;
    const to = row.endDate !== null && row.endDate < period.end ? row.endDate : period.end;
    const covered = daysInclusive(from, to);
    if (covered >= period.days) {
      lines.push(line(row, `${row.productName} (${period.key})`, row.quantity, row.unitPriceCents));
    } else {
      const amount = prorate(full, covered, period.days);
      const times = row.quantity > 1 ? `${row.quantity} × ` : '';
      lines.push(line(row, `${times}${row.productName} (${from} – ${to})`, 1, amount));
    }
  }
  lines.push(...input.callLines);
  if (lines.length === 0 || lines.every((candidate) => candidate.amountCents === 0)) return undefined;
  const organisationId =
    input.contractLines.find((row) => row.organisationId !== null)?.organisationId ?? null;
  const organisation = organisationId === null ? undefined : input.organisations.get(organisationId);
  // A company established in another EU member state, identified by its VAT number, pays the
  // VAT itself on services (VAT directive art. 44 and 196): standard-rated lines become AE.
  const reverseCharge = Boolean(organisation?.vatNumber && organisation.country !== 'BE');
  if (reverseCharge) {
    for (const candidate of lines) {
      if (candidate.vatCategory !== 'S') continue;
      Object.assign(candidate, {
        vatRateBp: 0,
        vatCategory: 'AE',
        vatExemptionCode: 'VATEX-EU-AE',
        vatExemptionReason: EXEMPTION_TEXTS['VATEX-EU-AE'] ?? 'Reverse charge',
      });
    }
  }
  const person = input.person;
  const personName = [person?.givenName, person?.familyName].filter((part) => part).join(' ');
  // A business invoice goes to the company's billing (else registered) address, never to its
  // contact person's home address.
  const address = organisation ? organisation.invoiceAddress : (person?.address ?? null);
  const references = referencesOf(input.contractLines, lines);
  return {
    organisationId,
    itemisedCalls: input.contractLines.some((row) => row.itemisedCalls),
    buyer: {
      name: organisation?.name ?? (personName === '' ? null : personName),
      street: address?.street ?? null,
      postalCode: address?.postalCode ?? null,
      city: address?.city ?? null,
      country: address?.country ?? organisation?.country ?? null,
      enterpriseNumber: organisation?.enterpriseNumber ?? null,
      vatRegistered: organisation ? organisation.vatRegistered : null,
      reference: references.buyerReference ?? organisation?.buyerReference ?? null,
      orderReference: references.orderReference,
      vatNumber: organisation?.vatNumber ?? null,
      peppolScheme: organisation?.peppolEndpoint?.scheme ?? null,
      peppolId: organisation?.peppolEndpoint?.id ?? null,
      // Masked: the invoice outlives an erasure under the accounting hold (decision 0066).
      iban: input.mandate?.iban ? maskIban(input.mandate.iban) : null,
      mandate: input.mandate?.iban ? input.mandate.directDebitMandate : null,
      language: languageOf(person, input.defaultLanguage),
    },
    lines,
  };
}

/**
 * The code a customer is held back under when the invoice would carry no postal address
 * (decision 1290): refused like a customer whose record does not open (1241), billed by the first
 * run after the address is recorded.
 */
export const BILLING_ADDRESS_MISSING = 'billing_address_missing';

/**
 * Whether a drafted buyer has a postal address an invoice can go to (decision 1290): street,
 * postal code, city and country, each not blank. What the PDF prints and what the Peppol UBL's
 * buyer PostalAddress needs (its country at least; Belgian VAT law asks for the customer's
 * address). A business customer's comes from its organisation (billing, else registered address),
 * a private customer's from their person record as the run's purpose reads it.
 */
export function hasPostalAddress(
  buyer: Pick<BuyerSnapshot, 'street' | 'postalCode' | 'city' | 'country'>,
): boolean {
  return (
    [buyer.street, buyer.postalCode, buyer.city].every((part) => (part ?? '').trim() !== '') &&
    /^[A-Z]{2}$/.test(buyer.country ?? '')
  );
}

/** The invoice's language: the customer's when we write in it, else the tenant's (decision 0310). */
function languageOf(person: PersonRecord | undefined, defaultLanguage: DocumentLanguage): DocumentLanguage {
  return isDocumentLanguage(person?.preferredLanguage) ? person.preferredLanguage : defaultLanguage;
}

/**
 * The document's order reference (BT-13) and buyer reference (BT-10) from its contracts
 * (decision 0260): one value shared by the contracts that give one goes on the document; when
 * contracts on the same invoice name different ones, the document names none of them and each
 * such contract's lines say theirs, so the buyer's accounts payable can still match them.
 */
export function referencesOf(
  contractLines: readonly ContractLineRow[],
  lines: NewInvoiceLine[],
): { orderReference: string | null; buyerReference: string | null } {
  const orders = distinct(contractLines.map((row) => row.purchaseOrderNumber));
  const buyers = distinct(contractLines.map((row) => row.buyerReference));
  if (orders.length > 1 || buyers.length > 1) {
    const byContract = new Map(contractLines.map((row) => [row.contractId, row]));
    for (const invoiceLine of lines) {
      const row = invoiceLine.contractId === null ? undefined : byContract.get(invoiceLine.contractId);
      if (!row) continue;
      const notes = [
        orders.length > 1 && row.purchaseOrderNumber ? `PO ${row.purchaseOrderNumber}` : null,
        buyers.length > 1 && row.buyerReference ? `ref. ${row.buyerReference}` : null,
      ].filter((note) => note !== null);
      if (notes.length > 0)
        invoiceLine.description = `${invoiceLine.description}, ${notes.join(', ')}`.slice(0, 300);
    }
  }
  return {
    orderReference: orders.length === 1 ? (orders[0] ?? null) : null,
    buyerReference: buyers.length === 1 ? (buyers[0] ?? null) : null,
  };
}

function distinct(values: ReadonlyArray<string | null>): string[] {
  return [...new Set(values.filter((value): value is string => value !== null))];
}

function line(
  row: ContractLineRow,
  description: string,
  quantity: number,
  unitPriceCents: number,
): NewInvoiceLine {
  return {
    kind: 'subscription',
    description: description.slice(0, 300),
    productId: row.productId,
    contractId: row.contractId,
    destinationClass: null,
    callCount: null,
    callSeconds: null,
    quantity,
    unitPriceCents,
    amountCents: quantity * unitPriceCents,
    vatRateBp: row.vatRateBp,
    vatCategory: row.vat.category,
    vatExemptionCode: row.vat.exemptionCode,
    vatExemptionReason: row.vat.exemptionReason,
  };
}

/** 3725 → "1 h 02 min 05 s". */
export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const pad = (value: number) => String(value).padStart(2, '0');
  return h > 0 ? `${h} h ${pad(m)} min ${pad(s)} s` : `${m} min ${pad(s)} s`;
}

function groupBy<T>(rows: readonly T[], key: (row: T) => number): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const row of rows) {
    const id = key(row);
    const group = groups.get(id);
    if (group) group.push(row);
    else groups.set(id, [row]);
  }
  return groups;
}

export type { SellerSnapshot };
