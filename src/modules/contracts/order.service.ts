import { oneLineText } from '../../platform/one-line.js';
import { z } from 'zod';
import type { AuditedTx } from '../../kernel/audit/index.js';
import type { Grant } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { touchSubjects } from '../../kernel/subjects/index.js';
import type { UseCaseContext } from '../parties/index.js';
import {
  assertBillableHolder,
  authorizeRows,
  authorizeSubject,
  conflict,
  coveredBy,
  invalid,
  notFound,
  orderCategoryOf,
  assertWorkPurpose,
} from './access.js';
import type { OrderStatus } from './contracts.tables.js';
import { CONTRACT_CATEGORIES, contractsDataMap } from './datamap.js';
import { assertFreeTextAllowed, tableMap } from '../../kernel/datamap/free-text.js';
import { insertLines, linesInputSchema, priceLines, selectLines, totalOf, type Line } from './lines.js';
import {
  insertOrder,
  selectDeliveryAddresses,
  selectOrderIdOfQuote,
  selectOrderRef,
  selectOrderRefPage,
  updateOrderStatus,
  type Address,
  type OrderRef,
} from './order.repository.js';
import type { Page, PageOptions } from './product.service.js';
import { selectQuote } from './quote.repository.js';
import { parseInput, staffIdOf } from './quote.service.js';

export type { Address };

export interface Order {
  orderId: number;
  subjectId: number | null;
  organisationId: number | null;
  quoteId: number | null;
  status: OrderStatus;
  /** Left out (undefined) when the purpose does not cover user.contact.address. */
  deliveryAddress?: Address | null;
  deliveredAt: Date | null;
  createdAt: Date;
  lines: Line[];
  totalCents: number;
}

export const addressSchema = z.object({
  street: oneLineText(200),
  postalCode: oneLineText(16),
  city: oneLineText(100),
  country: z
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z]{2}$/, 'ISO 3166 country code')
    .default('BE'),
});

export const createOrderInputSchema = z
  .object({
    quoteId: z.number().int().positive().optional(),
    subjectId: z.number().int().positive().optional(),
    organisationId: z.number().int().positive().nullish(),
    lines: linesInputSchema.optional(),
    deliveryAddress: addressSchema.nullish(),
  })
  .refine((input) => input.quoteId !== undefined || input.subjectId !== undefined, {
    message: 'give a quoteId, or a subjectId and lines',
    path: ['quoteId'],
  })
  .refine((input) => input.quoteId === undefined || input.lines === undefined, {
    message: 'an order from a quote takes the quote’s lines',
    path: ['lines'],
  })
  .refine((input) => input.quoteId !== undefined || input.lines !== undefined, {
    message: 'a direct order needs lines',
    path: ['lines'],
  });

export type CreateOrderInput = z.input<typeof createOrderInputSchema>;

async function categoriesFor(
  kernel: Kernel,
  context: UseCaseContext,
): Promise<{ order: string; read: string[] }> {
  const { policy } = await kernel.policies.current(context.tenantId);
  const order = orderCategoryOf(policy);
  return { order, read: [order, ...coveredBy(policy, context.purpose, [CONTRACT_CATEGORIES.address])] };
}

function toOrder(row: OrderRef, lines: Line[], address: Address | null | undefined): Order {
  return {
    orderId: row.orderId,
    subjectId: row.subjectId,
    organisationId: row.organisationId,
    quoteId: row.quoteId,
    status: row.status,
    ...(address !== undefined ? { deliveryAddress: address } : {}),
    deliveredAt: row.deliveredAt,
    createdAt: row.createdAt,
    lines,
    totalCents: totalOf(lines),
  };
}

/**
 * Places an order, from an accepted quote (its subject and lines) or direct. Writes the order
 * category and, when given, the delivery address (user.contact.address) of the subject under the
 * context's purpose (Voxtra: orders_deliveries; VoiceKing: order_processing).
 */
export async function createOrder(
  kernel: Kernel,
  context: UseCaseContext,
  input: CreateOrderInput,
): Promise<Order> {
  await assertWorkPurpose(kernel, context, 'order');
  const data = parseInput(createOrderInputSchema, input);
  assertFreeTextAllowed(tableMap(contractsDataMap, 'orders'), [
    { column: 'delivery_street', field: 'deliveryAddress.street', value: data.deliveryAddress?.street },
    {
      column: 'delivery_postal_code',
      field: 'deliveryAddress.postalCode',
      value: data.deliveryAddress?.postalCode,
    },
    { column: 'delivery_city', field: 'deliveryAddress.city', value: data.deliveryAddress?.city },
  ]);
  const categories = await categoriesFor(kernel, context);
  const at = kernel.clock.now();
  return kernel.transact(context.tenantId, async (atx) => {
    let subjectId = data.subjectId;
    let organisationId = data.organisationId ?? null;
    let lines: Line[];
    if (data.quoteId !== undefined) {
      const quote = await selectQuote(atx.tx, data.quoteId, true);
      if (!quote) throw invalid('quoteId: no such quote', { field: 'quoteId' });
      if (quote.subjectId === null) throw conflict('the quote no longer belongs to anyone');
      if (subjectId !== undefined && subjectId !== quote.subjectId) {
        throw invalid('subjectId: differs from the quote’s', { field: 'subjectId' });
      }
      if (quote.storedStatus !== 'accepted') throw conflict('only an accepted quote becomes an order');
      if ((await selectOrderIdOfQuote(atx.tx, data.quoteId)) !== undefined) {
        throw conflict('the quote already has an order');
      }
      subjectId = quote.subjectId;
      organisationId = organisationId ?? quote.organisationId;
      lines = (await selectLines(atx.tx, 'quote_lines', [data.quoteId])).get(data.quoteId) ?? [];
    } else {
      lines = await priceLines(atx.tx, data.lines ?? []);
    }
    if (subjectId === undefined) throw invalid('subjectId: required');
    await assertBillableHolder(kernel, atx, context, subjectId, 'order');
    const address = data.deliveryAddress ?? null;
    const grant = await authorizeSubject(
      kernel,
      atx,
      context,
      'write',
      address ? [categories.order, CONTRACT_CATEGORIES.address] : [categories.order],
      subjectId,
    );
    const orderId = await insertOrder(atx.tx, grant, categories.order, {
      subjectId,
      organisationId,
      quoteId: data.quoteId ?? null,
      address,
      createdByStaffId: staffIdOf(context),
      at,
    });
    await insertLines(atx.tx, context.tenantId, 'order_lines', orderId, lines);
    await touchSubjects(atx, [subjectId], at);
    return loadOrder(atx, orderId, showsAddress(categories.read) ? (address ? grant : null) : undefined);
  });
}

/**
 * The order as written. Its address is read through `addressGrant` when the purpose covers it;
 * `null` shows it as absent without reading (none was given), `undefined` leaves it out.
 */
async function loadOrder(
  atx: AuditedTx,
  orderId: number,
  addressGrant: Grant | null | undefined,
): Promise<Order> {
  const row = await selectOrderRef(atx.tx, orderId);
  if (!row) throw notFound('order');
  const lines = await selectLines(atx.tx, 'order_lines', [orderId]);
  const address = addressGrant
    ? ((await selectDeliveryAddresses(atx.tx, addressGrant, [orderId])).get(orderId) ?? null)
    : addressGrant;
  return toOrder(row, lines.get(orderId) ?? [], address);
}

const showsAddress = (read: readonly string[]): boolean => read.includes(CONTRACT_CATEGORIES.address);

/** Reads one order; the delivery address only when the purpose covers user.contact.address. */
export async function getOrder(kernel: Kernel, context: UseCaseContext, orderId: number): Promise<Order> {
  const categories = await categoriesFor(kernel, context);
  return kernel.transact(context.tenantId, async (atx) => {
    // Authorise before reading: only the order's keys until the gate has decided.
    const row = await selectOrderRef(atx.tx, orderId);
    if (!row) throw notFound('order');
    const grant =
      row.subjectId !== null
        ? await authorizeSubject(kernel, atx, context, 'read', categories.read, row.subjectId)
        : (await authorizeRows(kernel, atx, context, categories.read, [])).grant;
    return loadOrder(atx, orderId, showsAddress(categories.read) ? grant : undefined);
  });
}

export async function listOrders(
  kernel: Kernel,
  context: UseCaseContext,
  options: PageOptions & { subjectId?: number },
): Promise<Page<Order> & { withheld: number }> {
  const categories = await categoriesFor(kernel, context);
  return kernel.transact(context.tenantId, async (atx) => {
    const rows = await selectOrderRefPage(atx.tx, {
      afterId: options.after ?? 0,
      limit: options.limit + 1,
      ...(options.subjectId === undefined ? {} : { subjectId: options.subjectId }),
    });
    const page = rows.slice(0, options.limit);
    const subjects = page.flatMap((row) => (row.subjectId === null ? [] : [row.subjectId]));
    const access = await authorizeRows(kernel, atx, context, categories.read, subjects);
    const visible = page.filter((row) => row.subjectId === null || access.allowed.has(row.subjectId));
    const lines = await selectLines(
      atx.tx,
      'order_lines',
      visible.map((row) => row.orderId),
    );
    const addresses = showsAddress(categories.read)
      ? await selectDeliveryAddresses(
          atx.tx,
          access.grant,
          visible.map((row) => row.orderId),
        )
      : undefined;
    const last = page.at(-1);
    return {
      items: visible.map((row) =>
        toOrder(
          row,
          lines.get(row.orderId) ?? [],
          addresses ? (addresses.get(row.orderId) ?? null) : undefined,
        ),
      ),
      nextCursor: rows.length > options.limit && last ? String(last.orderId) : null,
      withheld: access.withheld,
    };
  });
}

/** placed → delivered (at `deliveredAt`, default now, never in the future) or placed → cancelled. */
export async function changeOrderStatus(
  kernel: Kernel,
  context: UseCaseContext,
  orderId: number,
  change: { to: 'delivered'; deliveredAt?: Date } | { to: 'cancelled' },
): Promise<Order> {
  await assertWorkPurpose(kernel, context, 'order');
  const categories = await categoriesFor(kernel, context);
  const at = kernel.clock.now();
  const deliveredAt = change.to === 'delivered' ? (change.deliveredAt ?? at) : undefined;
  if (deliveredAt && deliveredAt.getTime() > at.getTime())
    throw invalid('deliveredAt: must not be in the future');
  return kernel.transact(context.tenantId, async (atx) => {
    const row = await selectOrderRef(atx.tx, orderId, true);
    if (!row) throw notFound('order');
    if (row.subjectId === null) throw conflict('the order no longer belongs to anyone');
    const grant = await authorizeSubject(kernel, atx, context, 'write', [categories.order], row.subjectId);
    if (row.status !== 'placed') throw conflict(`a ${row.status} order cannot be ${change.to}`);
    if (deliveredAt && deliveredAt.getTime() < row.createdAt.getTime()) {
      throw invalid('deliveredAt: before the order was placed');
    }
    await updateOrderStatus(atx.tx, grant, orderId, {
      status: change.to,
      ...(deliveredAt ? { deliveredAt } : {}),
    });
    await touchSubjects(atx, [row.subjectId], at);
    const reader = showsAddress(categories.read)
      ? await authorizeSubject(kernel, atx, context, 'read', categories.read, row.subjectId)
      : undefined;
    return loadOrder(atx, orderId, reader);
  });
}
