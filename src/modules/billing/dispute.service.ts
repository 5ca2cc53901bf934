import type { Insertable } from 'kysely';
import { z } from 'zod';
import { assertFreeTextAllowed, tableMap } from '../../kernel/datamap/free-text.js';
import { auditActor, type Grant } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tx } from '../../platform/db.js';
import { parseInput } from '../../platform/validation.js';
import { assertPurposeAmong } from '../../kernel/gate/access.js';
import type { Policy } from '../../kernel/policy/policy.schema.js';
import { authorize, disputePurposes, conflict, notFound, staffIdOf, type BillingContext } from './access.js';
import type { BillingTables } from './billing.tables.js';
import { BILLING_CATEGORIES as C, billingDataMap } from './datamap.js';
import { selectErasedSubjects, selectInvoiceRef } from './invoice.repository.js';

/**
 * Disputes on invoices (issue 16, decision 0112): while an invoice is disputed, the retention
 * sweep erases nothing of its customer, its accounting hold does not end, and the call records of
 * its period are not purged: the bill can still be contested, so what proves it stays.
 */
export interface InvoiceDispute {
  disputeId: number;
  invoiceId: number;
  reason: string | null;
  openedAt: Date;
  closedAt: Date | null;
}

export const disputeInputSchema = z.strictObject({ reason: z.string().trim().min(3).max(500) });

/** Marks an invoice disputed; writes kluis.billing.payment of its customer under the caller's purpose. */
export async function disputeInvoice(
  kernel: Kernel,
  context: BillingContext,
  invoiceId: number,
  input: unknown,
): Promise<InvoiceDispute> {
  const { reason } = parseInput(disputeInputSchema, input);
  scanReason(reason);
  assertDisputePurpose((await kernel.policies.current(context.tenantId)).policy, context.purpose);
  const now = kernel.clock.now();
  return kernel.transact(context.tenantId, async (atx) => {
    const invoice = await selectInvoiceRef(atx.tx, invoiceId, true);
    if (!invoice || invoice.kind !== 'invoice') throw notFound('invoice');
    const live = await liveSubject(atx.tx, invoice.subjectId);
    const grant = await authorize(
      kernel,
      atx,
      claimOf(context),
      'write',
      [C.payment],
      live === null ? [] : [live],
    );
    const open = await selectOpenDispute(atx.tx, invoiceId);
    if (open) throw conflict(`invoice ${invoice.invoiceNumber} is already disputed`);
    const disputeId = await insertDispute(atx.tx, grant, {
      tenant_id: context.tenantId,
      invoice_id: invoiceId,
      subject_id: live,
      reason,
      opened_at: now,
      opened_by_staff_id: staffIdOf(context.actor),
    });
    atx.audit.record({
      actor: auditActor(context.actor),
      role: context.actor.kind === 'staff' ? context.actor.role : null,
      purpose: context.purpose,
      action: 'billing.invoice.dispute',
      categories: [C.payment],
      ...(live === null ? {} : { subjectIds: [live] }),
      decision: 'allowed',
    });
    return { disputeId, invoiceId, reason, openedAt: now, closedAt: null };
  });
}

/** Settles the open dispute of an invoice: retention treats the invoice and its customer as usual again. */
export async function settleDispute(
  kernel: Kernel,
  context: BillingContext,
  invoiceId: number,
): Promise<void> {
  assertDisputePurpose((await kernel.policies.current(context.tenantId)).policy, context.purpose);
  await kernel.transact(context.tenantId, async (atx) => {
    const invoice = await selectInvoiceRef(atx.tx, invoiceId, true);
    if (!invoice || invoice.kind !== 'invoice') throw notFound('invoice');
    const live = await liveSubject(atx.tx, invoice.subjectId);
    await authorize(kernel, atx, claimOf(context), 'write', [C.payment], live === null ? [] : [live]);
    const open = await selectOpenDispute(atx.tx, invoiceId);
    if (!open) throw notFound('open dispute on this invoice');
    await atx.tx
      .updateTable('invoice_disputes')
      .set({ closed_at: kernel.clock.now(), closed_by_staff_id: staffIdOf(context.actor) })
      .where('dispute_id', '=', open)
      .execute();
    atx.audit.record({
      actor: auditActor(context.actor),
      role: context.actor.kind === 'staff' ? context.actor.role : null,
      purpose: context.purpose,
      action: 'billing.invoice.dispute.settle',
      categories: [C.payment],
      ...(live === null ? {} : { subjectIds: [live] }),
      decision: 'allowed',
    });
  });
}

function assertDisputePurpose(policy: Policy, purpose: string): void {
  assertPurposeAmong(purpose, disputePurposes(policy), { work: 'disputes', publicWork: 'disputes are made' });
}

/** A dispute is a legal claim: the gate may let it through for a restricted customer (decision 0950). */
function claimOf(context: BillingContext): BillingContext {
  return { ...context, legalClaim: true };
}

async function liveSubject(tx: Tx, subjectId: number | null): Promise<number | null> {
  if (subjectId === null) return null;
  return (await selectErasedSubjects(tx, [subjectId])).has(subjectId) ? null : subjectId;
}

async function selectOpenDispute(tx: Tx, invoiceId: number): Promise<number | undefined> {
  const row = await tx
    .selectFrom('invoice_disputes')
    .select('dispute_id')
    .where('invoice_id', '=', invoiceId)
    .where('closed_at', 'is', null)
    .executeTakeFirst();
  return row?.dispute_id;
}

/** The staff member's words are scanned like any typed text (VK-16). */
function scanReason(reason: string): void {
  assertFreeTextAllowed(tableMap(billingDataMap, 'invoice_disputes'), [
    { column: 'reason', field: 'reason', value: reason },
  ]);
}

/** Writes a dispute (its reason: kluis.billing.payment) under the write grant of its customer. */
async function insertDispute(
  tx: Tx,
  grant: Grant,
  values: Insertable<BillingTables['invoice_disputes']>,
): Promise<number> {
  grant.assertWritable();
  const row = await tx
    .insertInto('invoice_disputes')
    .values(values)
    .returning(['dispute_id'])
    .executeTakeFirstOrThrow();
  return row.dispute_id;
}
