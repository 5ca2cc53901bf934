import { assertPurposeAmong, type AccessContext } from '../../kernel/gate/access.js';
import type { Actor } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Policy } from '../../kernel/policy/policy.schema.js';
import { AppError } from '../../platform/errors.js';
import { ACCOUNTING_HOLD } from './datamap.js';

/** Who acts, for what: plain data, never an HTTP request. */
export type BillingContext = AccessContext;

/** The kinds of work this module does, each under its own purpose of the tenant's policy. */
export type BillingWork = 'billing' | 'solvency' | 'accounting';

/**
 * Candidate purposes per kind of work, first declared wins: VoiceKing bills under `billing` and
 * checks eligibility; Voxtra invoices under `invoicing` and follows up `solvency` (VX-3).
 */
const PURPOSE_CANDIDATES: Record<BillingWork, readonly string[]> = {
  billing: ['billing', 'invoicing'],
  solvency: ['solvency', 'eligibility'],
  accounting: ['accounting'],
};

/** The tenant's purpose for a kind of work; a tenant without one cannot do it. */
export function purposeOf(policy: Policy, work: BillingWork): string {
  const purpose = PURPOSE_CANDIDATES[work].find((key) => policy.purposes[key] !== undefined);
  if (!purpose) {
    throw new AppError('purpose_not_allowed', `no purpose for ${work} in the policy`, {
      publicMessage: `the tenant's policy declares no purpose for ${work}`,
    });
  }
  return purpose;
}

/**
 * Money documents (the invoices of a run, credit notes, imported and matched payments) are made
 * under the tenant's purpose for billing only (VoiceKing `billing`, Voxtra `invoicing`): another
 * purpose that merely covers payment data (VoiceKing's `order_processing`, which sales acts under)
 * does not make them. The gate then decides the role by that purpose's roles (decision 0284).
 */
export function assertMoneyPurpose(policy: Policy, purpose: string, what: string): void {
  assertPurposeAmong(purpose, [purposeOf(policy, 'billing')], {
    work: what,
    publicWork: `${what} are made`,
    validSuffix: ", the policy's purpose for billing",
  });
}

/**
 * Disputes are recorded and settled under the policy's purpose for billing, or under its purpose
 * for the books where the policy lets that purpose read a restricted person (both seeds:
 * `accounting`): a contested invoice is a legal claim (Art. 18(2)), and the books keep it
 * (decision 0950). The gate lets only the latter write for a restricted customer.
 */
export function disputePurposes(policy: Policy): string[] {
  const books = PURPOSE_CANDIDATES.accounting.find((key) => policy.purposes[key]?.readWhileRestricted);
  return [purposeOf(policy, 'billing'), ...(books === undefined ? [] : [books])];
}

export async function defaultPurpose(kernel: Kernel, tenantId: number, work: BillingWork): Promise<string> {
  const { policy } = await kernel.policies.current(tenantId);
  return purposeOf(policy, work);
}

/**
 * Purposes under which documents kept by the accounting hold may be read once their subject is
 * erased: a legal obligation whose retention is the hold's own (both seeds: `accounting`).
 */
export function isHoldPurpose(policy: Policy, purpose: string): boolean {
  const hold = policy.legalHolds[ACCOUNTING_HOLD];
  const declared = policy.purposes[purpose];
  return (
    hold !== undefined &&
    declared !== undefined &&
    declared.legalBasis === 'legal_obligation' &&
    declared.retention === hold.retention
  );
}

// The gate helpers live in the kernel (one copy for every module).
export {
  authorize,
  authorizeBatch,
  authorizeBatches,
  coveredBy,
  requestIdOf,
} from '../../kernel/gate/access.js';

export {
  validationError as invalid,
  notFoundError as notFound,
  conflictError as conflict,
} from '../../platform/errors.js';

export function staffIdOf(actor: Actor): number | null {
  return actor.kind === 'staff' ? actor.staffId : null;
}
