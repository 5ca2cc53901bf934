import type { AuditedTx } from '../../kernel/audit/index.js';
import { AccessDenied, type AccessAction, type Grant } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Policy } from '../../kernel/policy/policy.schema.js';
import { AppError } from '../../platform/errors.js';
import type { UseCaseContext } from '../parties/index.js';
import { CONTRACT_CATEGORIES } from './datamap.js';

/** The kinds of work this module does, each under its own purpose of the tenant's policy. */
export type ContractWork = 'quote' | 'order' | 'contract';

/**
 * Candidate purposes per kind of work, most specific first: Voxtra splits customer and order
 * management into quotes, orders_deliveries and customer_administration (VX-3); VoiceKing has
 * one order_processing purpose for all of it (VK-4).
 */
const PURPOSE_CANDIDATES: Record<ContractWork, readonly string[]> = {
  quote: ['quotes', 'order_processing'],
  order: ['orders_deliveries', 'order_processing'],
  contract: ['customer_administration', 'order_processing'],
};

/**
 * The purpose under which `role` does this kind of work at this tenant: the first candidate the
 * policy declares and lets the role act under; otherwise the first candidate the policy declares,
 * so that the gate refuses (and audits) the role. A tenant without any of them cannot do the work.
 */
export async function purposeFor(
  kernel: Kernel,
  tenantId: number,
  work: ContractWork,
  role: string | undefined,
): Promise<string> {
  const { policy } = await kernel.policies.current(tenantId);
  const declared = PURPOSE_CANDIDATES[work].filter((key) => policy.purposes[key] !== undefined);
  const forRole = declared.find((key) => role !== undefined && policy.purposes[key]?.roles.includes(role));
  const purpose = forRole ?? declared[0];
  if (!purpose) {
    throw new AppError('purpose_not_allowed', `no purpose for ${work} work in the policy`, {
      publicMessage: `the tenant's policy declares no purpose for ${work} management`,
    });
  }
  return purpose;
}

/**
 * The category quotes and orders are processed under: kluis.contract.order where the policy
 * declares it (Voxtra: "quotes, orders and deliveries"), else kluis.contract.product (VoiceKing).
 */
export function orderCategoryOf(policy: Policy): string {
  return policy.categories[CONTRACT_CATEGORIES.order]
    ? CONTRACT_CATEGORIES.order
    : CONTRACT_CATEGORIES.product;
}

/** The categories of `wanted` that the context's purpose covers (need to know on reads). */
export function coveredBy(policy: Policy, purpose: string, wanted: readonly string[]): string[] {
  const covered = new Set(policy.purposes[purpose]?.categories ?? []);
  return wanted.filter((category) => covered.has(category));
}

export function requestIdOf(context: UseCaseContext): { requestId?: string } {
  return context.requestId ? { requestId: context.requestId } : {};
}

/** One gate decision for one subject. */
export async function authorizeSubject(
  kernel: Kernel,
  atx: AuditedTx,
  context: UseCaseContext,
  action: AccessAction,
  categories: readonly string[],
  subjectId: number,
): Promise<Grant> {
  return kernel.gate.authorize(atx, context.actor, {
    purpose: context.purpose,
    action,
    categories,
    subjectIds: [subjectId],
    ...requestIdOf(context),
  });
}

export interface RowsAccess {
  /** Subjects whose rows may be shown; rows without a subject (erased links) are always shown. */
  allowed: ReadonlySet<number>;
  /** How many subjects' rows were withheld because the gate refused them. */
  withheld: number;
}

/**
 * Gate for a page of rows: one decision for the whole batch. When the batch is refused because of
 * some subjects (restricted, objected, erased …), each subject is decided on its own, refusals are
 * audited, and only the refused subjects' rows are withheld, so one restricted customer does not
 * hide everyone else's contracts. Role and purpose refusals still refuse the whole request.
 */
export async function authorizeRows(
  kernel: Kernel,
  atx: AuditedTx,
  context: UseCaseContext,
  categories: readonly string[],
  subjectIds: readonly number[],
): Promise<RowsAccess> {
  const unique = [...new Set(subjectIds)];
  try {
    await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'read',
      categories,
      subjectIds: unique,
      ...requestIdOf(context),
    });
    return { allowed: new Set(unique), withheld: 0 };
  } catch (error) {
    if (!(error instanceof AccessDenied) || unique.length === 0 || !isSubjectDenial(error)) throw error;
    atx.audit.record(error.auditEvent);
  }
  // The batch decision named no subject-independent reason; decide per subject.
  await kernel.gate.authorize(atx, context.actor, {
    purpose: context.purpose,
    action: 'read',
    categories,
    subjectIds: [],
    ...requestIdOf(context),
  });
  const allowed = new Set<number>();
  for (const subjectId of unique) {
    try {
      await authorizeSubject(kernel, atx, context, 'read', categories, subjectId);
      allowed.add(subjectId);
    } catch (error) {
      if (!(error instanceof AccessDenied)) throw error;
      // This transaction commits, so the refusal is recorded with it.
      atx.audit.record(error.auditEvent);
    }
  }
  return { allowed, withheld: unique.length - allowed.size };
}

function isSubjectDenial(error: AccessDenied): boolean {
  return [
    'subject_restricted',
    'subject_objected',
    'consent_missing',
    'subject_erased',
    'not_found',
    'purpose_not_allowed',
    'category_not_allowed',
  ].includes(error.code);
}

/** The date of `at` in Belgium (YYYY-MM-DD): contracts start and end on Belgian calendar days. */
export function belgianDate(at: Date): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Europe/Brussels',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

export {
  validationError as invalid,
  notFoundError as notFound,
  conflictError as conflict,
} from '../../platform/errors.js';
