import type { AuditedTx } from '../../kernel/audit/index.js';
import type { AccessAction, Grant } from '../../kernel/gate/gate.js';
import { assertPurposeAmong, authorize, authorizeBatch, type WithGate } from '../../kernel/gate/access.js';
import type { Kernel } from '../../kernel/kernel.js';
import { findCategory } from '../../kernel/policy/policy.query.js';
import type { Policy } from '../../kernel/policy/policy.schema.js';
import { AppError } from '../../platform/errors.js';
import type { UseCaseContext } from '../parties/index.js';
import { selectSubjectType } from './contract.repository.js';
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

const WORK_NAMES: Record<ContractWork, string> = { quote: 'quotes', order: 'orders', contract: 'contracts' };

/** The purposes of the policy under which this kind of work is made and moved on (decision 0927). */
export function workPurposes(policy: Policy, work: ContractWork): string[] {
  return PURPOSE_CANDIDATES[work].filter((key) => policy.purposes[key] !== undefined);
}

/**
 * Quotes, orders and contracts are made and moved on only under the policy's purposes for that
 * work (Art. 5(1)(b)): another purpose that merely covers the product category (VoiceKing's
 * installation support or service updates, Voxtra's deliveries for a quote) does not make them
 * (attack S20-12, decision 0927). The gate then decides the role by that purpose's roles.
 */
export async function assertWorkPurpose(
  kernel: Kernel,
  context: { tenantId: number; purpose: string },
  work: ContractWork,
): Promise<void> {
  const { policy } = await kernel.policies.current(context.tenantId);
  assertPurposeAmong(context.purpose, workPurposes(policy, work), {
    work,
    publicWork: `${WORK_NAMES[work]} are made and changed`,
  });
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

export { coveredBy, requestIdOf } from '../../kernel/gate/access.js';

/** One gate decision for one subject. */
export async function authorizeSubject(
  kernel: WithGate,
  atx: AuditedTx,
  context: UseCaseContext,
  action: AccessAction,
  categories: readonly string[],
  subjectId: number,
): Promise<Grant> {
  return authorize(kernel, atx, context, action, categories, [subjectId]);
}

export interface RowsAccess {
  /** Subjects whose rows may be shown; rows without a subject (erased links) are always shown. */
  allowed: ReadonlySet<number>;
  /** How many subjects' rows were withheld because the gate refused them. */
  withheld: number;
  /** The read grant for the allowed subjects (repositories return personal columns through it). */
  grant: Grant;
}

/** Gate for a page of rows (the kernel's authorizeBatch): refused subjects' rows are withheld. */
export async function authorizeRows(
  kernel: WithGate,
  atx: AuditedTx,
  context: UseCaseContext,
  categories: readonly string[],
  subjectIds: readonly number[],
): Promise<RowsAccess> {
  const unique = [...new Set(subjectIds)];
  const { grant, refused } = await authorizeBatch(kernel, atx, context, 'read', categories, unique);
  return { allowed: new Set(unique.filter((id) => !refused.includes(id))), withheld: refused.length, grant };
}

import { belgianDay as belgianDate } from '../../platform/calendar.js';

/** The Belgian calendar day of an instant (platform/calendar.ts). */
export { belgianDate };

export {
  validationError as invalid,
  notFoundError as notFound,
  conflictError as conflict,
} from '../../platform/errors.js';

/**
 * The data a contract is billed with (decision 0941): the payments of its invoices and, where the
 * tenant sells telephony, its call records. Named here rather than imported: billing depends on
 * this module, not the other way round.
 */
const BILLED_WITH = ['kluis.billing.payment', 'kluis.telephony.call_record'] as const;

/**
 * The subject types a contract can be billed for: for every category it is billed with that the
 * policy declares, a type the category is kept for and some purpose covering it reaches.
 * Undefined when the policy bills with none of them (nothing to check).
 */
export function billableHolderTypes(policy: Policy): string[] | undefined {
  let types: string[] | undefined;
  for (const key of BILLED_WITH) {
    const category = findCategory(policy, key);
    if (!category) continue;
    const reached = new Set(
      Object.values(policy.purposes)
        .filter((purpose) => purpose.categories.includes(key))
        .flatMap((purpose) => purpose.subjectTypes),
    );
    const here = category.subjectTypes.filter((type) => reached.has(type));
    types = types === undefined ? here : types.filter((type) => here.includes(type));
  }
  return types;
}

/** What is being made for a holder: each leads to a contract, billed only through it. */
export type HolderWork = 'quote' | 'order' | 'contract';

/**
 * The subject types a quote, order or contract may be for (decisions 0941, 1030): the billable
 * types; for a quote also a prospect when a customer is billable, because accepting the quote
 * makes the prospect a customer (promoteProspect). Undefined when nothing is to be checked.
 */
export function holderTypesFor(policy: Policy, work: HolderWork): string[] | undefined {
  const billable = billableHolderTypes(policy);
  if (billable === undefined) return undefined;
  return work === 'quote' && billable.includes('customer') && !billable.includes('prospect')
    ? [...billable, 'prospect']
    : billable;
}

/**
 * Refuses a holder no billing purpose covers (attack S20-17, decision 0941) when the contract is
 * made and already when its quote or order is (attack S21-B-7, decision 1030): the invoice run
 * would refuse them every month, and an order delivered to them could never become a contract.
 * Said before the gate, where the gate may refuse the type by its categories (Voxtra keeps no
 * contract data of contact persons), but only to a role that may act under the purpose and for a
 * type the purpose reaches: it tells nothing the purpose does not cover (decision 0063); anything
 * else is the gate's to refuse.
 */
export async function assertBillableHolder(
  kernel: Kernel,
  atx: AuditedTx,
  context: UseCaseContext,
  subjectId: number,
  work: HolderWork,
): Promise<void> {
  const { policy } = await kernel.policies.current(context.tenantId);
  const purpose = policy.purposes[context.purpose];
  if (!purpose) return;
  if (context.actor.kind === 'staff' && !purpose.roles.includes(context.actor.role)) return;
  const subjectType = await selectSubjectType(atx.tx, subjectId);
  if (subjectType === undefined || !purpose.subjectTypes.includes(subjectType)) return;
  const accepted = holderTypesFor(policy, work);
  const billable = billableHolderTypes(policy);
  if (accepted === undefined || billable === undefined || accepted.includes(subjectType)) return;
  const holder = billable.join(' or ') || 'customer';
  // One text for the three steps (the stable code's words), naming a door that exists: a person
  // keeps their subject type, a customer is registered as a new person (the back office's "new
  // person" form, or POST /api/v1/people; decision 1111).
  const message = `a contract is held by a ${holder}: the purposes that bill it (payments, call records) do not cover a ${subjectType}, so no quote, order or contract is made for them; make it for the ${holder} the person works for, or register the person as a ${holder} (back office: People, New person, kind ${holder}; API: POST /api/v1/people with subjectType ${holder}) and make it for that ${holder}`;
  throw new AppError('holder_not_billable', message, {
    publicMessage: message,
    details: { subjectType, billableSubjectTypes: billable, acceptedSubjectTypes: accepted, work },
  });
}
