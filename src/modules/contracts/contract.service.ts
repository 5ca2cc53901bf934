import { z } from 'zod';
import type { AuditedTx } from '../../kernel/audit/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import { touchSubjects } from '../../kernel/subjects/index.js';
import type { UseCaseContext } from '../parties/index.js';
import {
  assertBillableHolder,
  authorizeRows,
  authorizeSubject,
  belgianDate,
  conflict,
  invalid,
  notFound,
  assertWorkPurpose,
} from './access.js';
import {
  insertContract,
  lockCustomerContracts,
  selectContract,
  selectContractHolder,
  selectContractPage,
  selectContractPeriods,
  selectRelationState,
  selectRelationsRunOutOn,
  selectEndedRelationsAmong,
  selectSubjectType,
  updateTermination,
  type ContractRow,
  type Termination,
} from './contract.repository.js';
import { CONTRACT_CATEGORIES } from './datamap.js';
import { recordDomainEvent } from './domain-events.js';
import { insertLines, linesInputSchema, priceLines, selectLines, totalOf, type Line } from './lines.js';
import { selectOrderRef } from './order.repository.js';
import type { Page, PageOptions } from './product.service.js';
import { isoDate, parseInput, staffIdOf } from './quote.service.js';

export type { Termination };

/** Derived from the dates and today (Belgian calendar day), never stored. */
export type ContractStatus = 'upcoming' | 'active' | 'ended';

export interface Contract {
  contractId: number;
  subjectId: number | null;
  organisationId: number | null;
  orderId: number | null;
  startDate: string;
  endDate: string | null;
  status: ContractStatus;
  termination: Termination | null;
  createdAt: Date;
  lines: Line[];
  totalCents: number;
}

export const createContractInputSchema = z
  .object({
    orderId: z.number().int().positive().optional(),
    subjectId: z.number().int().positive().optional(),
    organisationId: z.number().int().positive().nullish(),
    startDate: isoDate,
    endDate: isoDate.nullish(),
    lines: linesInputSchema.optional(),
  })
  .refine((input) => input.orderId !== undefined || input.subjectId !== undefined, {
    message: 'give an orderId, or a subjectId and lines',
    path: ['subjectId'],
  })
  .refine((input) => input.orderId !== undefined || input.lines !== undefined, {
    message: 'a contract without an order needs lines',
    path: ['lines'],
  })
  .refine((input) => !input.endDate || input.endDate >= input.startDate, {
    message: 'must not be before startDate',
    path: ['endDate'],
  });

export const terminateContractInputSchema = z.object({
  /** The day the termination takes effect: the contract's last day. */
  terminatedOn: isoDate,
  channel: z.enum(['written', 'email', 'phone', 'portal']),
  reasonCode: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'a reason code: lowercase letters, digits and _'),
});

export type CreateContractInput = z.input<typeof createContractInputSchema>;
export type TerminateContractInput = z.input<typeof terminateContractInputSchema>;

export function contractStatusOf(
  period: { startDate: string; endDate: string | null },
  today: string,
): ContractStatus {
  if (period.endDate !== null && period.endDate < today) return 'ended';
  return period.startDate > today ? 'upcoming' : 'active';
}

function toContract(row: ContractRow, lines: Line[], today: string): Contract {
  return {
    contractId: row.contractId,
    subjectId: row.subjectId,
    organisationId: row.organisationId,
    orderId: row.orderId,
    startDate: row.startDate,
    endDate: row.endDate,
    status: contractStatusOf(row, today),
    termination: row.termination,
    createdAt: row.createdAt,
    lines,
    totalCents: totalOf(lines),
  };
}

async function loadContract(atx: AuditedTx, contractId: number, today: string): Promise<Contract> {
  const row = await selectContract(atx.tx, contractId);
  if (!row) throw notFound('contract');
  const lines = await selectLines(atx.tx, 'contract_lines', [contractId]);
  return toContract(row, lines.get(contractId) ?? [], today);
}

/**
 * Starts a contract for a subject, from an order (its subject, and its lines unless others are
 * given) or direct. Writes kluis.contract.product of the subject under the context's purpose
 * (Voxtra: customer_administration; VoiceKing: order_processing).
 */
export async function createContract(
  kernel: Kernel,
  context: UseCaseContext,
  input: CreateContractInput,
): Promise<Contract> {
  await assertWorkPurpose(kernel, context, 'contract');
  const data = parseInput(createContractInputSchema, input);
  const at = kernel.clock.now();
  const today = belgianDate(at);
  return kernel.transact(context.tenantId, async (atx) => {
    let subjectId = data.subjectId;
    let organisationId = data.organisationId ?? null;
    let lines: Line[] | undefined = data.lines ? await priceLines(atx.tx, data.lines) : undefined;
    if (data.orderId !== undefined) {
      const order = await selectOrderRef(atx.tx, data.orderId);
      if (!order) throw invalid('orderId: no such order', { field: 'orderId' });
      if (order.subjectId === null) throw conflict('the order no longer belongs to anyone');
      if (subjectId !== undefined && subjectId !== order.subjectId) {
        throw invalid('subjectId: differs from the order’s', { field: 'subjectId' });
      }
      if (order.status === 'cancelled') throw conflict('a cancelled order cannot become a contract');
      subjectId = order.subjectId;
      organisationId = organisationId ?? order.organisationId;
      lines ??= (await selectLines(atx.tx, 'order_lines', [data.orderId])).get(data.orderId) ?? [];
    }
    if (subjectId === undefined) throw invalid('subjectId: required');
    await assertBillableHolder(kernel, atx, context, subjectId, 'contract');
    const grant = await authorizeSubject(
      kernel,
      atx,
      context,
      'write',
      [CONTRACT_CATEGORIES.product],
      subjectId,
    );
    const contractId = await insertContract(atx.tx, grant, {
      subjectId,
      organisationId,
      orderId: data.orderId ?? null,
      startDate: data.startDate,
      endDate: data.endDate ?? null,
      createdByStaffId: staffIdOf(context),
      at,
    });
    await insertLines(atx.tx, context.tenantId, 'contract_lines', contractId, lines ?? []);
    await touchSubjects(atx, [subjectId], at);
    return loadContract(atx, contractId, today);
  });
}

/** Reads one contract (kluis.contract.product of its subject) under the context's purpose. */
export async function getContract(
  kernel: Kernel,
  context: UseCaseContext,
  contractId: number,
): Promise<Contract> {
  const today = belgianDate(kernel.clock.now());
  return kernel.transact(context.tenantId, async (atx) => {
    const row = await selectContract(atx.tx, contractId);
    if (!row) throw notFound('contract');
    if (row.subjectId !== null) {
      await authorizeSubject(kernel, atx, context, 'read', [CONTRACT_CATEGORIES.product], row.subjectId);
    } else {
      await authorizeRows(kernel, atx, context, [CONTRACT_CATEGORIES.product], []);
    }
    const lines = await selectLines(atx.tx, 'contract_lines', [contractId]);
    return toContract(row, lines.get(contractId) ?? [], today);
  });
}

export async function listContracts(
  kernel: Kernel,
  context: UseCaseContext,
  options: PageOptions & { subjectId?: number },
): Promise<Page<Contract> & { withheld: number }> {
  const today = belgianDate(kernel.clock.now());
  return kernel.transact(context.tenantId, async (atx) => {
    const rows = await selectContractPage(atx.tx, {
      afterId: options.after ?? 0,
      limit: options.limit + 1,
      ...(options.subjectId === undefined ? {} : { subjectId: options.subjectId }),
    });
    const page = rows.slice(0, options.limit);
    const subjects = page.flatMap((row) => (row.subjectId === null ? [] : [row.subjectId]));
    const access = await authorizeRows(kernel, atx, context, [CONTRACT_CATEGORIES.product], subjects);
    const visible = page.filter((row) => row.subjectId === null || access.allowed.has(row.subjectId));
    const lines = await selectLines(
      atx.tx,
      'contract_lines',
      visible.map((row) => row.contractId),
    );
    const last = page.at(-1);
    return {
      items: visible.map((row) => toContract(row, lines.get(row.contractId) ?? [], today)),
      nextCursor: rows.length > options.limit && last ? String(last.contractId) : null,
      withheld: access.withheld,
    };
  });
}

/**
 * Records a termination: the day it takes effect (the new end date, between the start and any
 * agreed end), how the notice came in and why (a reason code), and who recorded it. In the same
 * transaction it records a `contract.terminated` domain event (ids, dates and the channel key),
 * which the technical dossier (VX-7), the retention clocks (VK-14) and the holder's number periods
 * (decision 1032) subscribe to.
 */
export async function terminateContract(
  kernel: Kernel,
  context: UseCaseContext,
  contractId: number,
  input: TerminateContractInput,
): Promise<Contract> {
  await assertWorkPurpose(kernel, context, 'contract');
  const data = parseInput(terminateContractInputSchema, input);
  const at = kernel.clock.now();
  const today = belgianDate(at);
  return kernel.transact(context.tenantId, async (atx) => {
    const holder = await selectContractHolder(atx.tx, contractId);
    if (holder?.subjectId) await lockCustomerContracts(atx.tx, holder.subjectId);
    const row = await selectContract(atx.tx, contractId, true);
    if (!row) throw notFound('contract');
    if (row.subjectId === null) throw conflict('the contract no longer belongs to anyone');
    const grant = await authorizeSubject(
      kernel,
      atx,
      context,
      'write',
      [CONTRACT_CATEGORIES.product],
      row.subjectId,
    );
    if (row.termination) throw conflict('the contract is already terminated');
    if (row.endDate !== null && row.endDate < today) throw conflict('the contract has already ended');
    if (data.terminatedOn < row.startDate) throw invalid('terminatedOn: before the contract starts');
    if (row.endDate !== null && data.terminatedOn > row.endDate) {
      throw invalid('terminatedOn: after the contract’s agreed end');
    }
    await updateTermination(
      atx.tx,
      grant,
      { contractId, subjectId: row.subjectId },
      {
        terminatedOn: data.terminatedOn,
        channel: data.channel,
        reasonCode: data.reasonCode,
        recordedByStaffId: staffIdOf(context),
        at,
      },
    );
    const { othersLastDay, ...relation } = await selectRelationState(
      atx.tx,
      grant,
      row.subjectId,
      contractId,
      today,
    );
    await recordDomainEvent(
      atx.tx,
      context.tenantId,
      'contract.terminated',
      {
        contractId,
        subjectId: row.subjectId,
        organisationId: row.organisationId,
        terminatedOn: data.terminatedOn,
        channel: data.channel,
        recordedAt: at.toISOString(),
        ...relation,
        relationLastDay:
          othersLastDay !== null && othersLastDay > data.terminatedOn ? othersLastDay : data.terminatedOn,
      },
      at,
    );
    await touchSubjects(atx, [row.subjectId], at);
    return loadContract(atx, contractId, today);
  });
}

export type CustomerStatusValue = 'prospect' | 'customer' | 'former_customer';

export interface CustomerStatus {
  subjectId: number;
  status: CustomerStatusValue;
  activeContracts: number;
  upcomingContracts: number;
  endedContracts: number;
  /** For a former customer: the last day of their last contract, which starts the post-contract retention clocks. */
  lastContractEndedOn: string | null;
}

/** The pure rule: prospect (no contract) → customer (one running or about to start) → former customer. */
export function deriveCustomerStatus(
  subjectId: number,
  periods: ReadonlyArray<{ startDate: string; endDate: string | null }>,
  today: string,
): CustomerStatus {
  const statuses = periods.map((period) => contractStatusOf(period, today));
  const count = (status: ContractStatus) => statuses.filter((candidate) => candidate === status).length;
  const active = count('active');
  const upcoming = count('upcoming');
  const ended = count('ended');
  const status: CustomerStatusValue =
    periods.length === 0 ? 'prospect' : active + upcoming > 0 ? 'customer' : 'former_customer';
  const lastEnd =
    status === 'former_customer'
      ? periods.reduce<string | null>(
          (latest, period) =>
            period.endDate !== null && (latest === null || period.endDate > latest) ? period.endDate : latest,
          null,
        )
      : null;
  return {
    subjectId,
    status,
    activeContracts: active,
    upcomingContracts: upcoming,
    endedContracts: ended,
    lastContractEndedOn: lastEnd,
  };
}

/** A person's customer status, derived from their contracts (kluis.contract.product, read). */
export async function getCustomerStatus(
  kernel: Kernel,
  context: UseCaseContext,
  subjectId: number,
): Promise<CustomerStatus> {
  const today = belgianDate(kernel.clock.now());
  const { policy } = await kernel.policies.current(context.tenantId);
  const contractTypes = policy.purposes[context.purpose]?.subjectTypes ?? [];
  return kernel.transact(context.tenantId, async (atx) => {
    const subjectType = await selectSubjectType(atx.tx, subjectId);
    if (subjectType === undefined) throw notFound('data subject');
    if (!contractTypes.includes(subjectType)) {
      // A person the contract purpose does not apply to (a prospect) cannot have a contract under
      // it: the answer needs none of their data, only the role's right to ask (audited).
      await authorizeRows(kernel, atx, context, [CONTRACT_CATEGORIES.product], []);
      return deriveCustomerStatus(subjectId, [], today);
    }
    const grant = await authorizeSubject(
      kernel,
      atx,
      context,
      'read',
      [CONTRACT_CATEGORIES.product],
      subjectId,
    );
    const periods = await selectContractPeriods(atx.tx, grant, subjectId);
    return deriveCustomerStatus(subjectId, periods, today);
  });
}

/**
 * The holders whose customer relation ran out on `day` (a contract ended on its agreed end date,
 * none runs or starts after it without a termination) with the relation's last day, the latest
 * contract end: what the daily number-period end looks for (decision 1032). A termination is not
 * among them: it emits `contract.terminated`. Ids and days only; nothing is read of the holders.
 */
export async function listRelationsRunOutOn(
  kernel: Kernel,
  tenantId: number,
  day: string,
): Promise<Array<{ subjectId: number; lastDay: string }>> {
  return kernel.transact(tenantId, (atx) => selectRelationsRunOutOn(atx.tx, day));
}

/** How many holders one query of the safety net asks about. */
const ENDED_RELATIONS_BATCH = 1000;

/**
 * Of the given holders, those whose customer relation ended before `today` (they had contracts,
 * none runs or starts later) with its last day: the daily job's safety net for number periods a
 * termination's handler could not end (decision 1160). Ids and days only.
 */
export async function listEndedRelationsAmong(
  kernel: Kernel,
  tenantId: number,
  subjectIds: readonly number[],
  today: string,
): Promise<Array<{ subjectId: number; lastDay: string }>> {
  const ended: Array<{ subjectId: number; lastDay: string }> = [];
  for (let start = 0; start < subjectIds.length; start += ENDED_RELATIONS_BATCH) {
    const batch = subjectIds.slice(start, start + ENDED_RELATIONS_BATCH);
    ended.push(
      ...(await kernel.transact(tenantId, (atx) => selectEndedRelationsAmong(atx.tx, batch, today))),
    );
  }
  return ended;
}
