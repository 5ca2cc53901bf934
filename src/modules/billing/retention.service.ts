import { sql } from 'kysely';
import type { Kernel } from '../../kernel/kernel.js';
import { defaultPurpose } from './access.js';
import { BILLING_CATEGORIES as C } from './datamap.js';
import { belgianDate } from './invoice-run.service.js';

export const INVOICE_RETENTION_ACTOR = { kind: 'system', id: 'invoice-retention' } as const;

export interface InvoiceReleaseResult {
  invoices: number;
  payments: number;
}

/**
 * VX-8 / VK-14: when the accounting hold of a document ends (hold_until, 10 years from 1 January
 * after its date), the party snapshot and the link to the person are nulled on the document and
 * its payments (the data map's `then: null_personal`); the amounts stay, anonymous. One audit
 * entry per sweep. The retention job calls this; `kluis invoices purge` runs it by hand.
 */
export async function releaseExpiredInvoices(
  kernel: Kernel,
  tenantId: number,
  options: { today?: string } = {},
): Promise<InvoiceReleaseResult> {
  const today = options.today ?? belgianDate(kernel.clock.now());
  const purpose = await defaultPurpose(kernel, tenantId, 'accounting');
  return kernel.transact(tenantId, async (atx) => {
    const invoices = await sql<{ invoice_id: number }>`
      update invoices set subject_id = null, buyer_name = null, buyer_street = null,
             buyer_postal_code = null, buyer_city = null, buyer_country = null,
             buyer_enterprise_number = null, buyer_iban = null, buyer_mandate = null
       where hold_until <= ${today}::date
         and (subject_id is not null or buyer_name is not null or buyer_street is not null
              or buyer_enterprise_number is not null or buyer_iban is not null)
      returning invoice_id`.execute(atx.tx);
    const ids = invoices.rows.map((row) => row.invoice_id);
    const payments =
      ids.length === 0
        ? 0
        : Number(
            (
              await atx.tx
                .updateTable('payments')
                .set({ subject_id: null })
                .where('invoice_id', '=', (eb) => eb.fn.any(eb.val(ids)))
                .where('subject_id', 'is not', null)
                .executeTakeFirst()
            ).numUpdatedRows,
          );
    if (ids.length > 0) {
      atx.audit.record({
        actor: INVOICE_RETENTION_ACTOR,
        role: null,
        purpose,
        action: 'retention.erase',
        categories: [C.name, C.address, C.bankAccount, C.payment],
        records: ids.length,
        decision: 'allowed',
        reason: 'accounting legal hold ended: party snapshots unlinked',
      });
    }
    return { invoices: ids.length, payments };
  });
}
