import { sql } from 'kysely';
import { auditActor, type Actor } from '../../kernel/gate/gate.js';
import type { AuditAction, AuditedTx } from '../../kernel/audit/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import { sealLetter } from '../../kernel/letters/index.js';
import type { Policy } from '../../kernel/policy/policy.schema.js';
import { addDays } from '../../platform/calendar.js';
import type { Tx } from '../../platform/db.js';
import { reachTestHook } from '../../platform/test-hooks.js';
import { readPeopleUnderGrant } from '../parties/index.js';
import {
  assertMoneyPurpose,
  authorize,
  authorizeBatch,
  conflict,
  coveredBy,
  notFound,
  purposeOf,
  staffIdOf,
  type BillingContext,
} from './access.js';
import type { CollectionClosedBecause, SellerSnapshot } from './billing.tables.js';
import { BILLING_CATEGORIES as C } from './datamap.js';
import {
  REMINDER_LANGUAGES,
  writeReminder,
  type ReminderLanguage,
  type ReminderLevel,
} from './dunning.texts.js';
import { belgianDate } from './invoice-run.service.js';
import { selectErasedSubjects, selectInvoiceRef, type InvoiceRef } from './invoice.repository.js';
import { statusOf, type InvoiceStatus } from './invoice.service.js';
import { getBillingSettings, type ReminderSchedule } from './settings.service.js';

/**
 * Dunning (issue 22, decision 0300): overdue invoices get a first reminder, a second and a formal
 * notice on the schedule of the billing settings, each as a letter in the customer's language
 * through the sealed letter outbox (decision 0190). A level is a row of invoice_reminders written
 * in the transaction that seals its letter: a crash loses both or neither, and the row's primary
 * key makes a level happen once. Payment in full, a credit note, an open dispute or the hand-over
 * to collection stops it.
 */

const EMAIL = 'user.contact.email';
const LANGUAGE = 'user.demographic.language';

/** A formal notice gives this many days to pay (no later level comes to set the date). */
const FORMAL_NOTICE_TERM_DAYS = 15;
const BATCH = 200;

export const DUNNING_ACTOR: Actor = { kind: 'system', job: 'dunning' };

export interface DunningSummary {
  /** False when the tenant has no billing settings or has dunning off: nothing was looked at. */
  enabled: boolean;
  firstReminders: number;
  secondReminders: number;
  formalNotices: number;
  /** Written, but the customer has no e-mail address the purpose may read: nothing is mailed. */
  withoutAddress: number;
  /** Customers the gate refused (restricted, objected): their invoices wait. */
  refused: number;
}

interface Candidate {
  invoiceId: number;
  subjectId: number;
  invoiceNumber: string;
  issueDate: string;
  dueDate: string;
  balanceCents: number;
  structuredCommunication: string;
  seller: SellerSnapshot;
  lastLevel: number;
  lastSentOn: string | null;
}

/** Days after the due date of level 1, 2, 3. */
const offsetsOf = (schedule: ReminderSchedule): readonly [number, number, number] => [
  schedule.firstReminderDays,
  schedule.secondReminderDays,
  schedule.formalNoticeDays,
];

/**
 * The day the level after `last` is due: its day on the schedule, and never sooner after the last
 * reminder than the schedule's own gap (a dunning that started late keeps its rhythm).
 */
export function nextReminderDay(
  schedule: ReminderSchedule,
  dueDate: string,
  last: { level: number; sentOn: string } | null,
): string | undefined {
  const offsets = offsetsOf(schedule);
  const level = (last?.level ?? 0) + 1;
  const offset = offsets[level - 1];
  if (offset === undefined) return undefined;
  const onSchedule = addDays(dueDate, offset);
  if (!last) return onSchedule;
  const previous = offsets[last.level - 1] ?? 0;
  const afterGap = addDays(last.sentOn, offset - previous);
  return afterGap > onSchedule ? afterGap : onSchedule;
}

/** The day a letter of `level` sent on `sentOn` asks payment by: the day before the next level. */
export function payByOf(
  schedule: ReminderSchedule,
  dueDate: string,
  level: ReminderLevel,
  sentOn: string,
): string {
  const next = nextReminderDay(schedule, dueDate, { level, sentOn });
  return next === undefined ? addDays(sentOn, FORMAL_NOTICE_TERM_DAYS) : addDays(next, -1);
}

/**
 * One dunning pass over a tenant's overdue invoices, as of the kernel's clock (a Belgian day):
 * each invoice whose next level is due gets it. Reads the customer's name, e-mail address and
 * language (as far as the tenant's billing purpose covers them) and kluis.billing.payment under
 * that purpose, one gate decision per batch; refused customers are skipped and counted. Letters
 * are written, not sent: the letter sender (job, or the caller) sends them.
 */
export async function runDunning(
  kernel: Kernel,
  tenantId: number,
  options: { messageDomain: string; actor?: Actor },
): Promise<DunningSummary> {
  const summary: DunningSummary = {
    enabled: false,
    firstReminders: 0,
    secondReminders: 0,
    formalNotices: 0,
    withoutAddress: 0,
    refused: 0,
  };
  const settings = await getBillingSettings(kernel, tenantId);
  if (!settings?.reminders.enabled) return summary;
  summary.enabled = true;
  const schedule = settings.reminders;
  const { policy } = await kernel.policies.current(tenantId);
  const context: BillingContext = {
    tenantId,
    actor: options.actor ?? DUNNING_ACTOR,
    purpose: purposeOf(policy, 'billing'),
  };
  const categories = [C.payment, ...coveredBy(policy, context.purpose, [C.name, EMAIL, LANGUAGE])];
  const today = belgianDate(kernel.clock.now());
  let after = 0;
  for (;;) {
    const last = await kernel.transact(tenantId, async (atx) => {
      const candidates = await selectCandidates(atx.tx, schedule, today, after);
      const due = candidates.filter((candidate) => {
        const next = nextReminderDay(
          schedule,
          candidate.dueDate,
          candidate.lastSentOn === null ? null : { level: candidate.lastLevel, sentOn: candidate.lastSentOn },
        );
        return next !== undefined && next <= today;
      });
      if (due.length === 0) return candidates.at(-1)?.invoiceId;
      const { grant, refused } = await authorizeBatch(
        kernel,
        atx,
        context,
        'read',
        categories,
        due.map((candidate) => candidate.subjectId),
      );
      const people = new Map(
        (await readPeopleUnderGrant(atx.tx, grant, [...grant.subjectIds])).map((person) => [
          person.subjectId,
          person,
        ]),
      );
      const reminded: number[] = [];
      for (const candidate of due) {
        const person = people.get(candidate.subjectId);
        if (refused.includes(candidate.subjectId) || !person) {
          summary.refused += 1;
          continue;
        }
        const level = (candidate.lastLevel + 1) as ReminderLevel;
        const payBy = payByOf(schedule, candidate.dueDate, level, today);
        const name = [person.givenName, person.familyName].filter(Boolean).join(' ') || null;
        const letter = writeReminder(languageOf(policy, person.preferredLanguage), {
          level,
          name,
          invoiceNumber: candidate.invoiceNumber,
          issueDate: candidate.issueDate,
          dueDate: candidate.dueDate,
          balanceCents: candidate.balanceCents,
          payBy,
          structuredCommunication: candidate.structuredCommunication,
          payeeIban: candidate.seller.payeeIban,
          payeeBic: candidate.seller.payeeBic ?? null,
          sender: senderOf(policy),
          contact: policy.controller.email ?? null,
        });
        const to = person.email ?? null;
        const letterId = await sealLetter(
          kernel,
          atx.tx,
          { to, subject: letter.subject, text: letter.text, fromName: senderOf(policy) },
          {
            tenantId,
            purpose: context.purpose,
            kind: `billing.reminder.${level}`,
            messageDomain: options.messageDomain,
          },
        );
        // The level and its letter commit together; the key refuses a second row for the level.
        await atx.tx
          .insertInto('invoice_reminders')
          .values({
            tenant_id: tenantId,
            invoice_id: candidate.invoiceId,
            level,
            sent_on: today,
            pay_by: payBy,
            balance_cents: candidate.balanceCents,
            mailed: to !== null,
            letter_id: letterId,
            created_at: kernel.clock.now(),
          })
          .execute();
        reminded.push(candidate.subjectId);
        if (to === null) summary.withoutAddress += 1;
        if (level === 1) summary.firstReminders += 1;
        else if (level === 2) summary.secondReminders += 1;
        else summary.formalNotices += 1;
      }
      if (reminded.length > 0) {
        atx.audit.record({
          actor: auditActor(context.actor),
          role: null,
          purpose: context.purpose,
          action: 'billing.invoice.reminder',
          categories,
          subjectIds: [...new Set(reminded)],
          decision: 'allowed',
        });
      }
      return candidates.at(-1)?.invoiceId;
    });
    // Committed: the levels and their letters are in the outbox; a crash from here sends them later.
    await reachTestHook('dunning.committed');
    if (last === undefined) break;
    after = last;
  }
  return summary;
}

/**
 * Invoices with something left to pay, past the first level's day, of a customer who is not
 * erased, with no open dispute, not handed over for collection and short of the formal notice;
 * with their last level. Locked (SKIP LOCKED): a payment being booked or another pass holding
 * one leaves it to the next run.
 */
async function selectCandidates(
  tx: Tx,
  schedule: ReminderSchedule,
  today: string,
  after: number,
): Promise<Candidate[]> {
  const result = await sql<{
    invoice_id: number;
    subject_id: number;
    invoice_number: string;
    issue_date: string;
    due_date: string;
    balance_cents: number;
    structured_communication: string;
    seller: SellerSnapshot;
    last_level: number | null;
    last_sent_on: string | null;
  }>`select i.invoice_id, i.subject_id, i.invoice_number, i.issue_date::text as issue_date,
         i.due_date::text as due_date,
         (i.total_incl_vat_cents - i.credited_cents - i.paid_cents)::int as balance_cents,
         i.structured_communication, i.seller, r.level as last_level, r.sent_on::text as last_sent_on
       from invoices i
       join data_subjects d on d.tenant_id = i.tenant_id and d.subject_id = i.subject_id
       left join lateral (select level, sent_on from invoice_reminders x
                           where x.tenant_id = i.tenant_id and x.invoice_id = i.invoice_id
                           order by level desc limit 1) r on true
      where i.kind = 'invoice' and i.invoice_id > ${after}
        and d.erased_at is null
        and i.total_incl_vat_cents - i.credited_cents - i.paid_cents > 0
        and i.due_date + ${schedule.firstReminderDays}::int <= ${today}::date
        and coalesce(r.level, 0) < 3
        and not exists (select 1 from invoice_disputes s where s.tenant_id = i.tenant_id
                         and s.invoice_id = i.invoice_id and s.closed_at is null)
        and not exists (select 1 from invoice_collections c where c.tenant_id = i.tenant_id
                         and c.invoice_id = i.invoice_id)
      order by i.invoice_id
      limit ${BATCH}
      for update of i skip locked`.execute(tx);
  return result.rows.map((row) => ({
    invoiceId: Number(row.invoice_id),
    subjectId: Number(row.subject_id),
    invoiceNumber: row.invoice_number,
    issueDate: row.issue_date,
    dueDate: row.due_date,
    balanceCents: row.balance_cents,
    structuredCommunication: row.structured_communication,
    seller: row.seller,
    lastLevel: row.last_level ?? 0,
    lastSentOn: row.last_sent_on,
  }));
}

/** The customer's language when the letters speak it, else the statement's first. */
function languageOf(policy: Policy, preferred: string | null | undefined): ReminderLanguage {
  const offered: readonly string[] = REMINDER_LANGUAGES;
  const pick = [preferred, ...policy.statement.languages].find(
    (language): language is ReminderLanguage =>
      language !== null && language !== undefined && offered.includes(language),
  );
  return pick ?? 'nl';
}

const senderOf = (policy: Policy): string =>
  [policy.controller.legalName, policy.controller.legalForm].filter(Boolean).join(' ');

export interface InvoiceReminder {
  level: ReminderLevel;
  kind: 'first_reminder' | 'second_reminder' | 'formal_notice';
  sentOn: string;
  payBy: string;
  balanceCents: number;
  mailed: boolean;
}

export interface InvoiceDunning {
  invoiceId: number;
  invoiceNumber: string;
  status: InvoiceStatus;
  balanceCents: number;
  disputed: boolean;
  sentForCollectionAt: Date | null;
  /** When the hand-over closed (null while open or never handed over) and why (decision 0465). */
  collectionClosedAt: Date | null;
  collectionClosedBecause: CollectionClosedBecause | null;
  reminders: InvoiceReminder[];
}

const KIND_OF: Record<ReminderLevel, InvoiceReminder['kind']> = {
  1: 'first_reminder',
  2: 'second_reminder',
  3: 'formal_notice',
};

/** The reminders of an invoice, its dispute and collection state; reads kluis.billing.payment of its customer. */
export async function listInvoiceReminders(
  kernel: Kernel,
  context: BillingContext,
  invoiceId: number,
): Promise<InvoiceDunning> {
  return kernel.transact(context.tenantId, async (atx) => {
    const invoice = await selectInvoiceRef(atx.tx, invoiceId);
    if (!invoice || invoice.kind !== 'invoice') throw notFound('invoice');
    const live = await liveSubject(atx.tx, invoice.subjectId);
    await authorize(kernel, atx, context, 'read', [C.payment], live === null ? [] : [live]);
    const state = await selectDunningState(atx.tx, invoiceId);
    const rows = await atx.tx
      .selectFrom('invoice_reminders')
      .select(['level', 'balance_cents', 'mailed'])
      .select(sql<string>`sent_on::text`.as('sent_on'))
      .select(sql<string>`pay_by::text`.as('pay_by'))
      .where('invoice_id', '=', invoiceId)
      .orderBy('level')
      .execute();
    return {
      invoiceId,
      invoiceNumber: invoice.invoiceNumber,
      ...statusOf(invoice, belgianDate(kernel.clock.now())),
      disputed: state.disputed,
      sentForCollectionAt: state.sentForCollectionAt,
      collectionClosedAt: state.collectionClosedAt,
      collectionClosedBecause: state.collectionClosedBecause,
      reminders: rows.map((row) => {
        const level = row.level as ReminderLevel;
        return {
          level,
          kind: KIND_OF[level],
          sentOn: row.sent_on,
          payBy: row.pay_by,
          balanceCents: Number(row.balance_cents),
          mailed: row.mailed,
        };
      }),
    };
  });
}

/**
 * Records that an invoice was handed over for collection (an agency, a bailiff) after its formal
 * notice: dunning ends for it. Only after the formal notice, while something is left to pay and
 * no dispute is open; once. Writes kluis.billing.payment of its customer.
 */
export async function markSentForCollection(
  kernel: Kernel,
  context: BillingContext,
  invoiceId: number,
): Promise<{ invoiceId: number; invoiceNumber: string; sentForCollectionAt: Date }> {
  return inCollectionTransaction(kernel, context, invoiceId, async ({ atx, invoice, live, state, now }) => {
    if (state.sentForCollectionAt) throw conflict(`invoice ${invoice.invoiceNumber} was handed over already`);
    if (!state.formalNotice)
      throw conflict(`no formal notice has been sent for invoice ${invoice.invoiceNumber}`);
    if (state.disputed)
      throw conflict(`invoice ${invoice.invoiceNumber} is disputed; settle the dispute first`);
    const { balanceCents } = statusOf(invoice, belgianDate(now));
    if (balanceCents <= 0) throw conflict(`invoice ${invoice.invoiceNumber} has nothing left to pay`);
    await atx.tx
      .insertInto('invoice_collections')
      .values({
        tenant_id: context.tenantId,
        invoice_id: invoiceId,
        handed_over_at: now,
        handed_over_by_staff_id: staffIdOf(context.actor),
        // The claim's debtor: while the hand-over is open it holds them from erasure (decision 0465).
        subject_id: live,
      })
      .execute();
    recordCollectionWrite(atx, context, 'billing.invoice.collection', live);
    return { invoiceId, invoiceNumber: invoice.invoiceNumber, sentForCollectionAt: now };
  });
}

/** A hand-over for collection and how it stands (decision 0465). */
export interface CollectionState {
  invoiceId: number;
  invoiceNumber: string;
  sentForCollectionAt: Date;
  collectionClosedAt: Date | null;
  collectionClosedBecause: CollectionClosedBecause | null;
}

/**
 * Closes an invoice's hand-over for collection (the agency returned the claim, it was written off,
 * a settlement outside our books): it no longer holds the customer from erasure (decision 0465).
 * Idempotent: a closed hand-over is answered as it stands; 409 when the invoice was never handed
 * over. Writes kluis.billing.payment of its customer.
 */
export async function closeCollection(
  kernel: Kernel,
  context: BillingContext,
  invoiceId: number,
): Promise<CollectionState> {
  return inCollectionTransaction(kernel, context, invoiceId, async ({ atx, invoice, live, state, now }) => {
    if (!state.sentForCollectionAt)
      throw conflict(`invoice ${invoice.invoiceNumber} was not handed over for collection`);
    const stands = {
      invoiceId,
      invoiceNumber: invoice.invoiceNumber,
      sentForCollectionAt: state.sentForCollectionAt,
    };
    if (state.collectionClosedAt)
      return {
        ...stands,
        collectionClosedAt: state.collectionClosedAt,
        collectionClosedBecause: state.collectionClosedBecause,
      };
    await atx.tx
      .updateTable('invoice_collections')
      .set({ closed_at: now, closed_by_staff_id: staffIdOf(context.actor), closed_because: 'staff' })
      .where('invoice_id', '=', invoiceId)
      .where('closed_at', 'is', null)
      .execute();
    recordCollectionWrite(atx, context, 'billing.invoice.collection_closed', live);
    return { ...stands, collectionClosedAt: now, collectionClosedBecause: 'staff' };
  });
}

interface CollectionStep {
  atx: AuditedTx;
  invoice: InvoiceRef;
  live: number | null;
  state: Awaited<ReturnType<typeof selectDunningState>>;
  now: Date;
}

/** A hand-over's transaction: money purpose, the invoice, its live customer, the write decided. */
async function inCollectionTransaction<T>(
  kernel: Kernel,
  context: BillingContext,
  invoiceId: number,
  work: (step: CollectionStep) => Promise<T>,
): Promise<T> {
  const { policy } = await kernel.policies.current(context.tenantId);
  assertMoneyPurpose(policy, context.purpose, 'hand-overs for collection');
  const now = kernel.clock.now();
  return kernel.transact(context.tenantId, async (atx) => {
    const invoice = await selectInvoiceRef(atx.tx, invoiceId, true);
    if (!invoice || invoice.kind !== 'invoice') throw notFound('invoice');
    const live = await liveSubject(atx.tx, invoice.subjectId);
    await authorize(kernel, atx, context, 'write', [C.payment], live === null ? [] : [live]);
    const state = await selectDunningState(atx.tx, invoiceId);
    return work({ atx, invoice, live, state, now });
  });
}

function recordCollectionWrite(
  atx: AuditedTx,
  context: BillingContext,
  action: AuditAction,
  live: number | null,
): void {
  atx.audit.record({
    actor: auditActor(context.actor),
    role: context.actor.kind === 'staff' ? context.actor.role : null,
    purpose: context.purpose,
    action,
    categories: [C.payment],
    ...(live === null ? {} : { subjectIds: [live] }),
    decision: 'allowed',
  });
}

/** An invoice's id from its number (F2026-000042) or its id; documents' numbers are not personal. */
export async function findInvoiceId(kernel: Kernel, tenantId: number, reference: string): Promise<number> {
  const byId = /^\d{1,15}$/.test(reference) ? Number(reference) : undefined;
  const row = await kernel.plain(tenantId, (tx) => {
    const query = tx.selectFrom('invoices').select('invoice_id');
    return (
      byId === undefined
        ? query.where('invoice_number', '=', reference)
        : query.where('invoice_id', '=', byId)
    ).executeTakeFirst();
  });
  if (!row) throw notFound(`invoice ${reference}`);
  return row.invoice_id;
}

async function selectDunningState(
  tx: Tx,
  invoiceId: number,
): Promise<{
  disputed: boolean;
  formalNotice: boolean;
  sentForCollectionAt: Date | null;
  collectionClosedAt: Date | null;
  collectionClosedBecause: CollectionClosedBecause | null;
}> {
  const dispute = await tx
    .selectFrom('invoice_disputes')
    .select('dispute_id')
    .where('invoice_id', '=', invoiceId)
    .where('closed_at', 'is', null)
    .executeTakeFirst();
  const notice = await tx
    .selectFrom('invoice_reminders')
    .select('level')
    .where('invoice_id', '=', invoiceId)
    .where('level', '=', 3)
    .executeTakeFirst();
  const collection = await tx
    .selectFrom('invoice_collections')
    .select(['handed_over_at', 'closed_at', 'closed_because'])
    .where('invoice_id', '=', invoiceId)
    .executeTakeFirst();
  return {
    disputed: dispute !== undefined,
    formalNotice: notice !== undefined,
    sentForCollectionAt: collection?.handed_over_at ?? null,
    collectionClosedAt: collection?.closed_at ?? null,
    collectionClosedBecause: collection?.closed_because ?? null,
  };
}

async function liveSubject(tx: Tx, subjectId: number | null): Promise<number | null> {
  if (subjectId === null) return null;
  return (await selectErasedSubjects(tx, [subjectId])).has(subjectId) ? null : subjectId;
}
