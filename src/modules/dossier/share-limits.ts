import type { Kernel } from '../../kernel/kernel.js';
import { assertAllowed, countAttempt, type Limit } from '../throttle/index.js';

const HOUR = 60 * 60 * 1000;

/**
 * Limits of the one-time share links (issue 17; counters of docs/decisions/0075). Opening is a
 * public door: every look and every opening counts per client address and per link, so a leaked
 * link cannot be hammered and one address cannot sweep tokens. Creating a link counts per staff
 * member and per tenant: a technician hands out a few links an hour, not hundreds.
 */
export interface ShareLimits {
  openByAddress: Limit;
  openByLink: Limit;
  createByStaff: Limit;
  createByTenant: Limit;
}

export const DEFAULT_SHARE_LIMITS: ShareLimits = {
  openByAddress: { bucket: 'dossier-share-open.address', mode: 'block', max: 30, windowMs: HOUR },
  openByLink: { bucket: 'dossier-share-open.link', mode: 'block', max: 10, windowMs: HOUR },
  createByStaff: { bucket: 'dossier-share-create.staff', mode: 'block', max: 20, windowMs: HOUR },
  createByTenant: { bucket: 'dossier-share-create.tenant', mode: 'block', max: 200, windowMs: HOUR },
};

/** Counts a look at or an opening of a link; 429 past a limit, before the link is looked up. */
export async function countShareOpen(
  kernel: Kernel,
  limits: ShareLimits,
  tenantId: number,
  from: { address: string; token: string },
): Promise<void> {
  const verdict = await countAttempt(kernel, tenantId, [
    { limit: limits.openByAddress, value: from.address },
    { limit: limits.openByLink, value: from.token },
  ]);
  assertAllowed(verdict, 'too many attempts to open share links');
}

/** Counts a share-link creation by a staff member; 429 past a limit, before the reveal rule. */
export async function countShareCreation(
  kernel: Kernel,
  limits: ShareLimits,
  tenantId: number,
  staffId: number,
): Promise<void> {
  const verdict = await countAttempt(kernel, tenantId, [
    { limit: limits.createByStaff, value: String(staffId) },
    { limit: limits.createByTenant, value: '' },
  ]);
  assertAllowed(verdict, 'too many share links created');
}
