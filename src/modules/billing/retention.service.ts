import { tableMap } from '../../kernel/datamap/free-text.js';
import { releaseHeldRows } from '../../kernel/erasure/index.js';
import type { Actor } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { defaultPurpose } from './access.js';
import { BILLING_CATEGORIES as C, billingDataMap } from './datamap.js';
import { belgianDate } from './invoice-run.service.js';
import { locateKeptInvoices, locateReleasableInvoices } from './retention-clocks.js';
import { selectErasedSubjects } from './invoice.repository.js';

export const INVOICE_RETENTION_ACTOR = { kind: 'system', id: 'invoice-retention' } as const;
const INVOICE_RETENTION: Actor = { kind: 'system', job: 'invoice-retention' };

export interface InvoiceReleaseResult {
  invoices: number;
  payments: number;
  /** Documents whose hold ended but that stay linked: their person is one of `keepSubjects`. */
  kept: Array<{ invoiceNumber: string; subjectId: number }>;
}

/**
 * VX-8 / VK-14: when the accounting hold of a document ends (hold_until, 10 years from 1 January
 * after its date), the party snapshot and the link to the person are nulled on the document and
 * its payments (the data map's `then: null_personal`, applied by the kernel's releaseHeldRows under
 * a store grant of the gate); the amounts stay, anonymous. One gate decision and one summary
 * audit entry per sweep. The retention sweep calls this, and `kluis invoices purge` by hand
 * (modules/retention's releaseEndedDocuments), each with the persons whose access or portability
 * request holds their documents (decision 0970, 1040) as `keepSubjects`.
 */
export async function releaseExpiredInvoices(
  kernel: Kernel,
  tenantId: number,
  options: { today?: string; keepSubjects?: readonly number[] } = {},
): Promise<InvoiceReleaseResult> {
  const today = options.today ?? belgianDate(kernel.clock.now());
  const purpose = await defaultPurpose(kernel, tenantId, 'accounting');
  return kernel.transact(tenantId, async (atx) => {
    const kept = await locateKeptInvoices(atx.tx, today, options.keepSubjects ?? []);
    const ids = await locateReleasableInvoices(atx.tx, today, options.keepSubjects);
    if (ids.length === 0) return { invoices: 0, payments: 0, kept };
    const owners = await atx.tx
      .selectFrom('invoices')
      .select('subject_id')
      .distinct()
      .where('invoice_id', '=', (eb) => eb.fn.any(eb.val(ids)))
      .where('subject_id', 'is not', null)
      .execute();
    const subjects = owners.flatMap((row) => (row.subject_id === null ? [] : [row.subject_id]));
    const erased = await selectErasedSubjects(atx.tx, subjects);
    // Through the gate: one `store` decision (the storage life cycle under the hold's own purpose,
    // not a whole-person erasure) for the sweep, audited with its subjects; those already erased
    // are past the gate's reach, and their documents are the hold's alone.
    const grant = await kernel.gate.authorize(atx, INVOICE_RETENTION, {
      purpose,
      action: 'store',
      categories: [C.name, C.address, C.bankAccount, C.payment],
      subjectIds: subjects.filter((id) => !erased.has(id)),
    });
    const invoices = await releaseHeldRows(atx.tx, grant, tableMap(billingDataMap, 'invoices'), {
      keyColumn: 'invoice_id',
      keys: ids,
    });
    const payments = await releaseHeldRows(atx.tx, grant, tableMap(billingDataMap, 'payments'), {
      keyColumn: 'invoice_id',
      keys: ids,
    });
    atx.audit.record({
      actor: INVOICE_RETENTION_ACTOR,
      role: null,
      purpose,
      action: 'retention.erase',
      categories: [C.name, C.address, C.bankAccount, C.payment],
      records: invoices,
      decision: 'allowed',
      reason: 'accounting legal hold ended: party snapshots unlinked',
    });
    return { invoices, payments, kept };
  });
}
