import type { Kernel } from '../../kernel/kernel.js';
import { releaseExpiredInvoices } from '../billing/index.js';
import { readRequestHolds, type RequestHold } from '../requests/index.js';
import { today } from './evaluation.js';

export interface DocumentRelease {
  invoices: number;
  payments: number;
  /** Documents whose accounting hold ended that stay linked, with the request that holds them. */
  held: Array<{ invoiceNumber: string; hold: RequestHold }>;
}

/**
 * Per subject, the access or portability request that holds their data today (decision 0970):
 * the holds the sweep judges by, read for every purge that erases a person's data (decision 1040).
 */
export async function readRunningRequestHolds(
  kernel: Kernel,
  tenantId: number,
  asOf: string,
): Promise<Map<number, RequestHold>> {
  return kernel.plain(tenantId, (tx) => readRequestHolds(tx, 'everyone', asOf));
}

/**
 * `kluis invoices purge` (VX-8, VK-14): the release of documents whose accounting hold ended, as
 * the sweep does it, keeping those of persons whose access or portability request runs (decision
 * 1040), and saying which and why.
 */
export async function releaseEndedDocuments(kernel: Kernel, tenantId: number): Promise<DocumentRelease> {
  const asOf = today(kernel);
  const holds = await readRunningRequestHolds(kernel, tenantId, asOf);
  const result = await releaseExpiredInvoices(kernel, tenantId, {
    today: asOf,
    keepSubjects: [...holds.keys()],
  });
  return {
    invoices: result.invoices,
    payments: result.payments,
    held: result.kept.flatMap((kept) => {
      const hold = holds.get(kept.subjectId);
      return hold ? [{ invoiceNumber: kept.invoiceNumber, hold }] : [];
    }),
  };
}
