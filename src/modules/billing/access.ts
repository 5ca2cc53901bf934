import type { AuditedTx } from '../../kernel/audit/index.js';
import { AccessDenied, type AccessAction, type Actor, type Grant } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Policy } from '../../kernel/policy/policy.schema.js';
import { AppError } from '../../platform/errors.js';
import { ACCOUNTING_HOLD } from './datamap.js';

/** Who acts, for what: plain data, never an HTTP request. */
export interface BillingContext {
  tenantId: number;
  actor: Actor;
  purpose: string;
  requestId?: string;
}

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

/** The categories of `wanted` that the purpose covers (need to know on reads). */
export function coveredBy(policy: Policy, purpose: string, wanted: readonly string[]): string[] {
  const covered = new Set(policy.purposes[purpose]?.categories ?? []);
  return wanted.filter((category) => covered.has(category));
}

export function requestIdOf(context: { requestId?: string | undefined }): { requestId?: string } {
  return context.requestId ? { requestId: context.requestId } : {};
}

export async function authorize(
  kernel: Kernel,
  atx: AuditedTx,
  context: BillingContext,
  action: AccessAction,
  categories: readonly string[],
  subjectIds: readonly number[],
): Promise<Grant> {
  return kernel.gate.authorize(atx, context.actor, {
    purpose: context.purpose,
    action,
    categories,
    subjectIds: [...new Set(subjectIds)],
    ...requestIdOf(context),
  });
}

const SUBJECT_DENIALS = new Set([
  'subject_restricted',
  'subject_objected',
  'consent_missing',
  'subject_erased',
  'not_found',
  'purpose_not_allowed',
  'category_not_allowed',
]);

/**
 * One gate decision for a batch; when it is refused because of some subjects, each is decided on
 * its own (refusals audited with this transaction) and only those are left out. Role and purpose
 * refusals still refuse the whole batch.
 */
export async function authorizeBatch(
  kernel: Kernel,
  atx: AuditedTx,
  context: BillingContext,
  action: AccessAction,
  categories: readonly string[],
  subjectIds: readonly number[],
): Promise<{ grant: Grant; refused: number[] }> {
  const unique = [...new Set(subjectIds)];
  try {
    return { grant: await authorize(kernel, atx, context, action, categories, unique), refused: [] };
  } catch (error) {
    if (!(error instanceof AccessDenied) || unique.length === 0 || !SUBJECT_DENIALS.has(error.code))
      throw error;
    atx.audit.record(error.auditEvent);
  }
  await authorize(kernel, atx, context, action, categories, []);
  const allowed: number[] = [];
  const refused: number[] = [];
  for (const subjectId of unique) {
    try {
      await authorize(kernel, atx, context, action, categories, [subjectId]);
      allowed.push(subjectId);
    } catch (error) {
      if (!(error instanceof AccessDenied)) throw error;
      atx.audit.record(error.auditEvent);
      refused.push(subjectId);
    }
  }
  return { grant: await authorize(kernel, atx, context, action, categories, allowed), refused };
}

export {
  validationError as invalid,
  notFoundError as notFound,
  conflictError as conflict,
} from '../../platform/errors.js';

export function staffIdOf(actor: Actor): number | null {
  return actor.kind === 'staff' ? actor.staffId : null;
}
