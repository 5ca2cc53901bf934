import { z } from 'zod';
import type { AuditedTx } from '../../kernel/audit/index.js';
import { auditActor } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { touchSubjects } from '../../kernel/subjects/index.js';
import type { UseCaseContext } from '../parties/index.js';
import {
  assertBillableHolder,
  authorizeRows,
  authorizeSubject,
  belgianDate,
  conflict,
  invalid,
  notFound,
  orderCategoryOf,
  assertWorkPurpose,
} from './access.js';
import type { StoredQuoteStatus } from './contracts.tables.js';
import { insertLines, linesInputSchema, priceLines, selectLines, totalOf, type Line } from './lines.js';
import type { Page, PageOptions } from './product.service.js';
import {
  insertQuote,
  promoteProspect,
  selectQuote,
  selectQuotePage,
  updateQuoteStatus,
  type QuoteRow,
} from './quote.repository.js';

export type QuoteStatus = StoredQuoteStatus | 'expired';

export interface Quote {
  quoteId: number;
  /** `null` once the person was erased: the quote stays as an anonymous commercial fact. */
  subjectId: number | null;
  organisationId: number | null;
  status: QuoteStatus;
  validUntil: string;
  createdAt: Date;
  sentAt: Date | null;
  decidedAt: Date | null;
  lines: Line[];
  totalCents: number;
}

export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD')
  .refine((value) => {
    const date = new Date(`${value}T00:00:00Z`);
    return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
  }, 'not a calendar date');

export const createQuoteInputSchema = z.object({
  subjectId: z.number().int().positive(),
  organisationId: z.number().int().positive().nullish(),
  validUntil: isoDate,
  lines: linesInputSchema,
});

export type CreateQuoteInput = z.input<typeof createQuoteInputSchema>;

import { parseInput } from '../../platform/validation.js';

export { parseInput };

export function staffIdOf(context: UseCaseContext): number | null {
  return context.actor.kind === 'staff' ? context.actor.staffId : null;
}

function statusOf(row: QuoteRow, today: string): QuoteStatus {
  const open = row.storedStatus === 'draft' || row.storedStatus === 'sent';
  return open && row.validUntil < today ? 'expired' : row.storedStatus;
}

function toQuote(row: QuoteRow, lines: Line[], today: string): Quote {
  return {
    quoteId: row.quoteId,
    subjectId: row.subjectId,
    organisationId: row.organisationId,
    status: statusOf(row, today),
    validUntil: row.validUntil,
    createdAt: row.createdAt,
    sentAt: row.sentAt,
    decidedAt: row.decidedAt,
    lines,
    totalCents: totalOf(lines),
  };
}

async function categoryFor(kernel: Kernel, tenantId: number): Promise<string> {
  const { policy } = await kernel.policies.current(tenantId);
  return orderCategoryOf(policy);
}

/**
 * Makes a draft quote for a prospect or customer. Writes the quote category (kluis.contract.order
 * where the policy declares it, else kluis.contract.product) of the subject under the context's
 * purpose (Voxtra: quotes; VoiceKing: order_processing).
 */
export async function createQuote(
  kernel: Kernel,
  context: UseCaseContext,
  input: CreateQuoteInput,
): Promise<Quote> {
  await assertWorkPurpose(kernel, context, 'quote');
  const data = parseInput(createQuoteInputSchema, input);
  const at = kernel.clock.now();
  const today = belgianDate(at);
  if (data.validUntil < today) throw invalid('validUntil: must not be in the past');
  const category = await categoryFor(kernel, context.tenantId);
  return kernel.transact(context.tenantId, async (atx) => {
    const lines = await priceLines(atx.tx, data.lines);
    await assertBillableHolder(kernel, atx, context, data.subjectId, 'quote');
    const grant = await authorizeSubject(kernel, atx, context, 'write', [category], data.subjectId);
    const quoteId = await insertQuote(atx.tx, grant, category, {
      subjectId: data.subjectId,
      organisationId: data.organisationId ?? null,
      validUntil: data.validUntil,
      createdByStaffId: staffIdOf(context),
      at,
    });
    await insertLines(atx.tx, context.tenantId, 'quote_lines', quoteId, lines);
    await touchSubjects(atx, [data.subjectId], at);
    return loadQuote(atx, quoteId, today);
  });
}

async function loadQuote(atx: AuditedTx, quoteId: number, today: string): Promise<Quote> {
  const row = await selectQuote(atx.tx, quoteId);
  if (!row) throw notFound('quote');
  const lines = await selectLines(atx.tx, 'quote_lines', [quoteId]);
  return toQuote(row, lines.get(quoteId) ?? [], today);
}

/** Reads one quote (its link to the subject: the quote category) under the context's purpose. */
export async function getQuote(kernel: Kernel, context: UseCaseContext, quoteId: number): Promise<Quote> {
  const category = await categoryFor(kernel, context.tenantId);
  const today = belgianDate(kernel.clock.now());
  return kernel.transact(context.tenantId, async (atx) => {
    const row = await selectQuote(atx.tx, quoteId);
    if (!row) throw notFound('quote');
    if (row.subjectId !== null)
      await authorizeSubject(kernel, atx, context, 'read', [category], row.subjectId);
    else await authorizeRows(kernel, atx, context, [category], []);
    const lines = await selectLines(atx.tx, 'quote_lines', [quoteId]);
    return toQuote(row, lines.get(quoteId) ?? [], today);
  });
}

/** A page of quotes; subjects the gate refuses (e.g. restricted) are left out and counted. */
export async function listQuotes(
  kernel: Kernel,
  context: UseCaseContext,
  options: PageOptions & { subjectId?: number },
): Promise<Page<Quote> & { withheld: number }> {
  const category = await categoryFor(kernel, context.tenantId);
  const today = belgianDate(kernel.clock.now());
  return kernel.transact(context.tenantId, async (atx) => {
    const rows = await selectQuotePage(atx.tx, {
      afterId: options.after ?? 0,
      limit: options.limit + 1,
      ...(options.subjectId === undefined ? {} : { subjectId: options.subjectId }),
    });
    const page = rows.slice(0, options.limit);
    const subjects = page.flatMap((row) => (row.subjectId === null ? [] : [row.subjectId]));
    const access = await authorizeRows(kernel, atx, context, [category], subjects);
    const visible = page.filter((row) => row.subjectId === null || access.allowed.has(row.subjectId));
    const lines = await selectLines(
      atx.tx,
      'quote_lines',
      visible.map((row) => row.quoteId),
    );
    const last = page.at(-1);
    return {
      items: visible.map((row) => toQuote(row, lines.get(row.quoteId) ?? [], today)),
      nextCursor: rows.length > options.limit && last ? String(last.quoteId) : null,
      withheld: access.withheld,
    };
  });
}

type QuoteTransition = 'send' | 'accept' | 'reject';

const TRANSITIONS: Record<QuoteTransition, { from: readonly QuoteStatus[]; to: StoredQuoteStatus }> = {
  send: { from: ['draft'], to: 'sent' },
  accept: { from: ['sent'], to: 'accepted' },
  reject: { from: ['draft', 'sent'], to: 'rejected' },
};

/**
 * Moves a quote on: send (draft → sent), accept (sent → accepted), reject. An expired quote can
 * only be rejected. Accepting makes a prospect a customer (the subject type the order and
 * contract purposes require), audited as subject.reclassify.
 */
export async function changeQuoteStatus(
  kernel: Kernel,
  context: UseCaseContext,
  quoteId: number,
  transition: QuoteTransition,
): Promise<Quote> {
  await assertWorkPurpose(kernel, context, 'quote');
  const category = await categoryFor(kernel, context.tenantId);
  const at = kernel.clock.now();
  const today = belgianDate(at);
  return kernel.transact(context.tenantId, async (atx) => {
    const row = await selectQuote(atx.tx, quoteId, true);
    if (!row) throw notFound('quote');
    if (row.subjectId === null) throw conflict('the quote no longer belongs to anyone');
    const grant = await authorizeSubject(kernel, atx, context, 'write', [category], row.subjectId);
    const current = statusOf(row, today);
    const rule = TRANSITIONS[transition];
    if (!rule.from.includes(current)) throw conflict(`a ${current} quote cannot be ${rule.to}`);
    await updateQuoteStatus(atx.tx, grant, quoteId, {
      status: rule.to,
      ...(transition === 'send' ? { sentAt: at } : { decidedAt: at }),
    });
    if (transition === 'accept' && (await promoteProspect(atx.tx, row.subjectId))) {
      atx.audit.record({
        actor: auditActor(context.actor),
        role: context.actor.kind === 'staff' ? context.actor.role : null,
        purpose: context.purpose,
        action: 'subject.reclassify',
        subjectIds: [row.subjectId],
        decision: 'allowed',
        reason: 'prospect accepted a quote and became a customer',
      });
    }
    await touchSubjects(atx, [row.subjectId], at);
    return loadQuote(atx, quoteId, today);
  });
}
