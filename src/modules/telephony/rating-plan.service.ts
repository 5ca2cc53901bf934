/**
 * Rating plans (issue 13, VX-5): their definitions, who has which plan from when, and re-rating
 * a billing month under them (what the invoice run does before billing, and what an operator
 * runs after changing a plan). docs/decisions/0242-rating-plans.md.
 */
import { sql } from 'kysely';
import { authorize, authorizeBatch } from '../../kernel/gate/access.js';
import type { Actor } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { belgianDay, isIsoDay } from '../../platform/calendar.js';
import { AppError } from '../../platform/errors.js';
import { selectBilledSubjectsOfMonth } from '../billing/index.js';
import { selectContractProductDays, selectProduct } from '../contracts/index.js';
import type { UseCaseContext } from '../parties/index.js';
import { selectCallerSubjectIds, updateCosts } from './call-record.repository.js';
import { CALL_BILLING_PURPOSE } from './cdr-import.service.js';
import { TELEPHONY_CATEGORIES } from './datamap.js';
import { resolveWallClock } from './local-time.js';
import { isPgError } from './number.service.js';
import {
  planDefinitionSchema,
  rateWithPlan,
  selectPlanId,
  type BundleState,
  type PlanAssignment,
  type RatingPlan,
} from './rating-plans.js';
import {
  insertCustomerPlan,
  selectCustomerPlans,
  selectMonthCalls,
  selectOnNetNumbers,
} from './rating-plan.repository.js';
import { assertMayManageTariff, loadRatingTable } from './tariff.service.js';

const PRODUCT = 'kluis.contract.product';
const ZONE = 'Europe/Brussels';
const CODE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;
const NAME = /^[^\x00-\x1f<>]{1,80}$/;

function invalid(message: string, field?: string): AppError {
  return new AppError('validation_failed', message, {
    publicMessage: message,
    ...(field ? { details: { issues: [{ path: field, message }] } } : {}),
  });
}

export interface RatingPlanView {
  planId: number;
  code: string;
  name: string;
  definition: unknown;
}

/** Creates a plan (admin, billing). The definition is validated whole; a bad one changes nothing. */
export async function createRatingPlan(
  kernel: Kernel,
  tenantId: number,
  actor: Actor,
  input: { code: string; name: string; definition: unknown },
): Promise<RatingPlanView> {
  assertMayManageTariff(actor);
  if (!CODE.test(input.code)) throw invalid('code: 1-40 letters, digits and ._-', 'code');
  if (!NAME.test(input.name)) throw invalid('name: one line of at most 80 characters without < or >', 'name');
  const parsed = planDefinitionSchema.safeParse(input.definition);
  if (!parsed.success) {
    const message = parsed.error.issues
      .map((issue) => `definition.${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw invalid(message, 'definition');
  }
  const taken = (): AppError =>
    new AppError('conflict', 'plan code taken', { publicMessage: `a plan ${input.code} exists` });
  try {
    return await kernel.plain(tenantId, async (tx) => {
      // Codes are unique regardless of case (ATT-1 and att-1 are one plan): the unique index on
      // (tenant_id, lower(code)) holds it (migration 0382); a concurrent creation that passes this
      // look-up meets the index, and its 23505 is the same 409.
      const existing = await tx
        .selectFrom('rating_plans')
        .select('plan_id')
        .where(sql<string>`lower(code)`, '=', input.code.toLowerCase())
        .executeTakeFirst();
      if (existing) throw taken();
      const row = await tx
        .insertInto('rating_plans')
        .values({
          tenant_id: tenantId,
          code: input.code,
          name: input.name,
          definition: JSON.stringify(parsed.data),
          created_at: kernel.clock.now(),
        })
        .returning(['plan_id'])
        .executeTakeFirstOrThrow();
      return { planId: Number(row.plan_id), code: input.code, name: input.name, definition: parsed.data };
    });
  } catch (error) {
    if (isPgError(error, '23505')) throw taken();
    throw error;
  }
}

export async function listRatingPlans(
  kernel: Kernel,
  tenantId: number,
  actor: Actor,
): Promise<RatingPlanView[]> {
  assertMayManageTariff(actor);
  const rows = await kernel.plain(tenantId, (tx) =>
    tx.selectFrom('rating_plans').select(['plan_id', 'code', 'name', 'definition']).orderBy('code').execute(),
  );
  return rows.map((row) => ({
    planId: Number(row.plan_id),
    code: row.code,
    name: row.name,
    definition: row.definition,
  }));
}

/** One page of plans in code order (the back office's list; issue 20). `afterCode`: the last of the previous page. */
export async function listRatingPlansPage(
  kernel: Kernel,
  tenantId: number,
  actor: Actor,
  page: { limit: number; afterCode?: string },
): Promise<{ items: RatingPlanView[]; nextCode: string | null }> {
  assertMayManageTariff(actor);
  const rows = await kernel.plain(tenantId, (tx) => {
    let query = tx.selectFrom('rating_plans').select(['plan_id', 'code', 'name', 'definition']);
    if (page.afterCode !== undefined) query = query.where('code', '>', page.afterCode);
    return query
      .orderBy('code')
      .limit(page.limit + 1)
      .execute();
  });
  const shown = rows.slice(0, page.limit);
  return {
    items: shown.map((row) => ({
      planId: Number(row.plan_id),
      code: row.code,
      name: row.name,
      definition: row.definition,
    })),
    nextCode: rows.length > page.limit ? (shown.at(-1)?.code ?? null) : null,
  };
}

export interface RatingPlanDetail extends RatingPlanView {
  createdAt: Date;
  /** From which day the plan is the tenant's default (productId null) or a product's. */
  assignments: Array<{ productId: number | null; validFrom: string }>;
}

/** One plan and where it applies (tenant default, products); a customer's own plan is not shown here. */
export async function getRatingPlan(
  kernel: Kernel,
  tenantId: number,
  actor: Actor,
  planId: number,
): Promise<RatingPlanDetail> {
  assertMayManageTariff(actor);
  return kernel.plain(tenantId, async (tx) => {
    const plan = await tx
      .selectFrom('rating_plans')
      .select(['plan_id', 'code', 'name', 'definition', 'created_at'])
      .where('plan_id', '=', planId)
      .executeTakeFirst();
    if (!plan) throw new AppError('not_found', 'no such plan', { publicMessage: 'no such rating plan' });
    const assignments = await tx
      .selectFrom('rating_plan_assignments')
      .select(['product_id', 'valid_from'])
      .where('plan_id', '=', planId)
      .orderBy('valid_from')
      .orderBy('product_id')
      .execute();
    return {
      planId: Number(plan.plan_id),
      code: plan.code,
      name: plan.name,
      definition: plan.definition,
      createdAt: plan.created_at,
      assignments: assignments.map((row) => ({
        productId: row.product_id === null ? null : Number(row.product_id),
        validFrom: row.valid_from,
      })),
    };
  });
}

export type PlanTarget =
  { kind: 'tenant' } | { kind: 'product'; productId: number } | { kind: 'customer'; subjectId: number };

/**
 * Gives a plan to the tenant (its default), a product or a customer from a day on (Brussels).
 * A customer's plan is what they subscribed to (kluis.contract.product, written under the
 * context's purpose through the gate); the tenant's and a product's concern nobody.
 */
export async function assignRatingPlan(
  kernel: Kernel,
  context: UseCaseContext,
  input: { planCode: string; target: PlanTarget; validFrom: string },
): Promise<{ planId: number; validFrom: string }> {
  assertMayManageTariff(context.actor);
  if (!isIsoDay(input.validFrom)) throw invalid('validFrom: a day as YYYY-MM-DD', 'validFrom');
  const now = kernel.clock.now();
  try {
    return await assignInTransaction(kernel, context, input, now);
  } catch (error) {
    if (isPgError(error, '23505'))
      throw new AppError('conflict', 'concurrent plan assignment', {
        publicMessage: 'the plan assignment changed meanwhile; try again',
      });
    throw error;
  }
}

function assignInTransaction(
  kernel: Kernel,
  context: UseCaseContext,
  input: { planCode: string; target: PlanTarget; validFrom: string },
  now: Date,
): Promise<{ planId: number; validFrom: string }> {
  return kernel.transact(context.tenantId, async (atx) => {
    const plan = await atx.tx
      .selectFrom('rating_plans')
      .select('plan_id')
      .where('code', '=', input.planCode)
      .executeTakeFirst();
    if (!plan)
      throw new AppError('not_found', 'no such plan', { publicMessage: `no plan ${input.planCode}` });
    const planId = Number(plan.plan_id);
    const target = input.target;
    if (target.kind === 'customer') {
      const grant = await authorize(kernel, atx, context, 'write', [PRODUCT], [target.subjectId]);
      await insertCustomerPlan(atx.tx, grant, {
        subjectId: target.subjectId,
        planId,
        validFrom: input.validFrom,
        createdAt: now,
      });
    } else {
      const productId = target.kind === 'product' ? target.productId : null;
      if (productId !== null) {
        const product = await selectProduct(atx.tx, productId);
        if (!product)
          throw new AppError('not_found', 'no such product', { publicMessage: `no product ${productId}` });
      }
      // One assignment per product (or tenant default) and day: concurrent replacements of the same
      // one queue here instead of both inserting after each other's delete (a unique violation).
      await sql`select pg_advisory_xact_lock(hashtextextended(${`kluis.rating_plan_assignment.${context.tenantId}.${productId ?? 0}.${input.validFrom}`}, 0))`.execute(
        atx.tx,
      );
      await atx.tx
        .deleteFrom('rating_plan_assignments')
        .where(sql<boolean>`coalesce(product_id, 0) = ${productId ?? 0}`)
        .where('valid_from', '=', input.validFrom)
        .execute();
      await atx.tx
        .insertInto('rating_plan_assignments')
        .values({
          tenant_id: context.tenantId,
          plan_id: planId,
          product_id: productId,
          valid_from: input.validFrom,
          created_at: now,
        })
        .execute();
    }
    return { planId, validFrom: input.validFrom };
  });
}

export interface RerateMonthOptions {
  /** The billing month, YYYY-MM. */
  month: string;
  /** Compute and report, change nothing. */
  dryRun?: boolean;
  /** The purpose the call records are written under (default call_billing). */
  callsPurpose?: string;
  /** Customers per transaction (default 500). */
  batchSize?: number;
}

export interface RerateCustomerChange {
  subjectId: number;
  changedCalls: number;
  beforeMicros: number;
  afterMicros: number;
}

export interface RerateMonthReport {
  month: string;
  dryRun: boolean;
  customers: number;
  calls: number;
  changedCalls: number;
  unrated: number;
  beforeMicros: number;
  afterMicros: number;
  /** Customers already invoiced for the month: their calls are not re-rated (their invoice stands). */
  skippedInvoiced: number[];
  /** Customers the gate refused (restricted, objected …): audited, not re-rated. */
  refused: number[];
  /** Per customer whose calls changed. */
  changes: RerateCustomerChange[];
}

function monthWindow(month: string): { from: Date; to: Date; next: string } {
  const match = /^(\d{4})-(\d{2})$/.exec(month);
  const year = Number(match?.[1]);
  const number = Number(match?.[2]);
  if (!match || number < 1 || number > 12) throw invalid('month: expected YYYY-MM', 'month');
  const start = (y: number, m: number): Date => {
    const [first] = resolveWallClock({ year: y, month: m, day: 1, hour: 0, minute: 0, second: 0 }, ZONE);
    return new Date(first ?? Number.NaN);
  };
  const nextYear = number === 12 ? year + 1 : year;
  const nextMonth = number === 12 ? 1 : number + 1;
  return {
    from: start(year, number),
    to: start(nextYear, nextMonth),
    next: `${nextYear}-${String(nextMonth).padStart(2, '0')}`,
  };
}

/** Whether the tenant has any rating plan in use: without one, import-time rating is final. */
export async function hasRatingPlans(kernel: Kernel, tenantId: number): Promise<boolean> {
  const row = await kernel.plain(tenantId, (tx) =>
    sql<{ used: boolean }>`select exists (select 1 from rating_plan_assignments)
                               or exists (select 1 from customer_rating_plans) as used`.execute(tx),
  );
  return row.rows[0]?.used === true;
}

/**
 * Rates a billing month again under the plans in force (and the tariff now stored), customer by
 * customer in call order, so included minutes are consumed by the earliest calls. Customers
 * already invoiced for the month are left alone and listed. Reports what changed per customer.
 * Reads kluis.contract.product (contracts and plans) under the context's purpose and writes
 * kluis.telephony.call_record (the cost) under call_billing; one gate decision each per batch.
 */
export async function rerateMonth(
  kernel: Kernel,
  context: UseCaseContext,
  options: RerateMonthOptions,
): Promise<RerateMonthReport> {
  const window = monthWindow(options.month);
  const dryRun = options.dryRun === true;
  const callsContext: UseCaseContext = { ...context, purpose: options.callsPurpose ?? CALL_BILLING_PURPOSE };
  const batchSize = options.batchSize ?? 500;
  const setup = await kernel.plain(context.tenantId, async (tx) => ({
    table: await loadRatingTable(tx),
    plans: (await tx.selectFrom('rating_plans').select(['plan_id', 'code', 'definition']).execute()).map(
      (row): RatingPlan => ({
        planId: Number(row.plan_id),
        code: row.code,
        definition: planDefinitionSchema.parse(row.definition),
      }),
    ),
    assignments: (
      await tx.selectFrom('rating_plan_assignments').select(['plan_id', 'product_id', 'valid_from']).execute()
    ).map((row): PlanAssignment => ({
      planId: Number(row.plan_id),
      target: row.product_id === null ? 'tenant' : 'product',
      productId: row.product_id === null ? null : Number(row.product_id),
      subjectId: null,
      validFrom: row.valid_from,
    })),
    onNet: await selectOnNetNumbers(tx),
    subjects: await selectCallerSubjectIds(tx, window),
    invoiced: await selectBilledSubjectsOfMonth(tx, `${options.month}-01`),
  }));
  const plans = new Map(setup.plans.map((plan) => [plan.planId, plan]));
  const report: RerateMonthReport = {
    month: options.month,
    dryRun,
    customers: 0,
    calls: 0,
    changedCalls: 0,
    unrated: 0,
    beforeMicros: 0,
    afterMicros: 0,
    skippedInvoiced: setup.subjects.filter((id) => setup.invoiced.has(id)).sort((a, b) => a - b),
    refused: [],
    changes: [],
  };
  const subjects = setup.subjects.filter((id) => !setup.invoiced.has(id)).sort((a, b) => a - b);
  for (let start = 0; start < subjects.length; start += batchSize) {
    const batch = subjects.slice(start, start + batchSize);
    await kernel.transact(context.tenantId, async (atx) => {
      const calls = await authorizeBatch(
        kernel,
        atx,
        callsContext,
        'write',
        [TELEPHONY_CATEGORIES.callRecord],
        batch,
      );
      const contracts = await authorizeBatch(kernel, atx, context, 'read', [PRODUCT], batch);
      const refused = new Set([...calls.refused, ...contracts.refused]);
      report.refused.push(...refused);
      const allowed = batch.filter((id) => !refused.has(id));
      if (allowed.length === 0) return;
      const products = await selectContractProductDays(atx.tx, contracts.grant, allowed);
      const customerPlans = await selectCustomerPlans(atx.tx, contracts.grant, allowed);
      const rows = await selectMonthCalls(atx.tx, calls.grant, window, allowed);
      const changes: Array<{ startedAt: Date; dedupKey: string; costMicros: number | null }> = [];
      const customers: Array<{ subjectId: number; bundles: BundleState; change: RerateCustomerChange }> = [];
      let current: { subjectId: number; bundles: BundleState; change: RerateCustomerChange } | undefined;
      for (const row of rows) {
        if (current?.subjectId !== row.subjectId) {
          current = {
            subjectId: row.subjectId,
            bundles: new Map(),
            change: { subjectId: row.subjectId, changedCalls: 0, beforeMicros: 0, afterMicros: 0 },
          };
          customers.push(current);
          report.customers += 1;
        }
        const assignments = [
          ...setup.assignments,
          ...(customerPlans.get(row.subjectId) ?? []).map((plan): PlanAssignment => ({
            planId: plan.planId,
            target: 'customer',
            productId: null,
            subjectId: row.subjectId,
            validFrom: plan.validFrom,
          })),
        ];
        const planId = selectPlanId(
          assignments,
          row.subjectId,
          products.get(row.subjectId) ?? [],
          belgianDay(row.startedAt),
        );
        const chargeable = row.disposition === 'answered' && row.isBillableLeg && row.billableSeconds > 0;
        let cost: number | null = 0;
        if (chargeable) {
          const rated = rateWithPlan(
            setup.table,
            planId === null ? null : (plans.get(planId) ?? null),
            {
              destination: row.destination,
              answeredAt: row.answeredAt ?? row.startedAt,
              billableSeconds: row.billableSeconds,
              isOnNet: isOnNet(setup.onNet, row.destination, row.startedAt),
            },
            current.bundles,
            ZONE,
          );
          cost = rated.kind === 'no_rate' ? null : rated.costMicros;
        }
        report.calls += 1;
        if (cost === null) report.unrated += 1;
        report.beforeMicros += row.costMicros ?? 0;
        report.afterMicros += cost ?? 0;
        current.change.beforeMicros += row.costMicros ?? 0;
        current.change.afterMicros += cost ?? 0;
        if (cost !== row.costMicros) {
          current.change.changedCalls += 1;
          report.changedCalls += 1;
          changes.push({ startedAt: row.startedAt, dedupKey: row.dedupKey, costMicros: cost });
        }
      }
      for (const customer of customers) {
        if (customer.change.changedCalls > 0) report.changes.push(customer.change);
      }
      if (!dryRun && changes.length > 0) await updateCosts(atx.tx, calls.grant, changes);
    });
  }
  report.refused.sort((a, b) => a - b);
  return report;
}

function isOnNet(
  numbers: ReadonlyMap<string, { from: number; to: number }>,
  destination: string,
  at: Date,
): boolean {
  const held = numbers.get(destination);
  const time = at.getTime();
  return held !== undefined && held.from <= time && time < held.to;
}
