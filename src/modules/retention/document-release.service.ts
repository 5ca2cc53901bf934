import type { Kernel } from '../../kernel/kernel.js';
import { readRestrictedSubjects } from '../../kernel/subjects/index.js';
import { releaseExpiredInvoices } from '../billing/index.js';
import { readRequestHolds, type RequestHold } from '../requests/index.js';
import { restrictionHold, today, type Hold } from './evaluation.js';

/** Why a purge keeps a person's data: their running access or portability request, or a restriction. */
export type PurgeHold = Extract<Hold, { kind: 'rights_request' | 'restriction' }>;

export interface DocumentRelease {
  invoices: number;
  payments: number;
  /** Documents whose accounting hold ended that stay linked, with what holds them. */
  held: Array<{ invoiceNumber: string; hold: PurgeHold }>;
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
 * Per subject, what keeps their data from every purge today: a restriction of processing in
 * force (Art. 18, decision 1200; it wins, having no end) or a running access or portability
 * request (decision 1040). Erased persons hold nothing.
 */
export async function readPurgeHolds(
  kernel: Kernel,
  tenantId: number,
  asOf: string,
): Promise<Map<number, PurgeHold>> {
  return kernel.plain(tenantId, async (tx) => {
    const holds = new Map<number, PurgeHold>();
    for (const [subjectId, hold] of await readRequestHolds(tx, 'everyone', asOf)) {
      holds.set(subjectId, { kind: 'rights_request', ...hold });
    }
    for (const [subjectId, since] of await readRestrictedSubjects(tx, asOf)) {
      const hold = restrictionHold(since);
      if (hold) holds.set(subjectId, hold);
    }
    return holds;
  });
}

/**
 * `kluis invoices purge` (VX-8, VK-14, VX-14): the release of documents whose accounting hold
 * ended, as the sweep does it, keeping those of persons whose access or portability request runs
 * (decision 1040) or who restricted processing (decision 1200), and saying which and why.
 */
export async function releaseEndedDocuments(kernel: Kernel, tenantId: number): Promise<DocumentRelease> {
  const asOf = today(kernel);
  const holds = await readPurgeHolds(kernel, tenantId, asOf);
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
