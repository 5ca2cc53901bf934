import type { Grant } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';
import { CONTRACT_CATEGORIES } from './datamap.js';
import type { OrderStatus } from './contracts.tables.js';

export interface Address {
  street: string;
  postalCode: string;
  city: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
}

/** An order without its delivery address: read before the gate decides; the address is not. */
export interface OrderRef {
  orderId: number;
  subjectId: number | null;
  organisationId: number | null;
  quoteId: number | null;
  status: OrderStatus;
  deliveredAt: Date | null;
  createdByStaffId: number | null;
  createdAt: Date;
}

const refColumns = [
  'order_id',
  'subject_id',
  'organisation_id',
  'quote_id',
  'status',
  'delivered_at',
  'created_by_staff_id',
  'created_at',
] as const;

type SelectedOrder = {
  order_id: number;
  subject_id: number | null;
  organisation_id: number | null;
  quote_id: number | null;
  status: OrderStatus;
  delivered_at: Date | null;
  created_by_staff_id: number | null;
  created_at: Date;
};

function toRef(row: SelectedOrder): OrderRef {
  return {
    orderId: row.order_id,
    subjectId: row.subject_id,
    organisationId: row.organisation_id,
    quoteId: row.quote_id,
    status: row.status,
    deliveredAt: row.delivered_at,
    createdByStaffId: row.created_by_staff_id,
    createdAt: row.created_at,
  };
}

export interface NewOrderRow {
  subjectId: number;
  organisationId: number | null;
  quoteId: number | null;
  address: Address | null;
  createdByStaffId: number | null;
  at: Date;
}

export async function insertOrder(tx: Tx, grant: Grant, category: string, row: NewOrderRow): Promise<number> {
  grant.assertWritable();
  grant.assertCovers(category, row.subjectId);
  if (row.address) grant.assertCovers(CONTRACT_CATEGORIES.address, row.subjectId);
  const inserted = await tx
    .insertInto('orders')
    .values({
      tenant_id: grant.tenantId,
      subject_id: row.subjectId,
      organisation_id: row.organisationId,
      quote_id: row.quoteId,
      status: 'placed',
      delivery_street: row.address?.street ?? null,
      delivery_postal_code: row.address?.postalCode ?? null,
      delivery_city: row.address?.city ?? null,
      delivery_country: row.address?.country ?? null,
      created_by_staff_id: row.createdByStaffId,
      created_at: row.at,
    })
    .returning('order_id')
    .executeTakeFirstOrThrow();
  return inserted.order_id;
}

export async function selectOrderRef(
  tx: Tx,
  orderId: number,
  forUpdate = false,
): Promise<OrderRef | undefined> {
  let query = tx.selectFrom('orders').select(refColumns).where('order_id', '=', orderId);
  if (forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row && toRef(row);
}

/**
 * Delivery addresses (user.contact.address) of orders, through a grant that covers that category
 * for each order's subject; orders whose link to a person was erased have none left.
 */
export async function selectDeliveryAddresses(
  tx: Tx,
  grant: Grant,
  orderIds: readonly number[],
): Promise<Map<number, Address | null>> {
  if (orderIds.length === 0) return new Map();
  const rows = await tx
    .selectFrom('orders')
    .select([
      'order_id',
      'subject_id',
      'delivery_street',
      'delivery_postal_code',
      'delivery_city',
      'delivery_country',
    ])
    .where('order_id', '=', (eb) => eb.fn.any(eb.val([...orderIds])))
    .execute();
  const addresses = new Map<number, Address | null>();
  for (const row of rows) {
    if (row.subject_id === null) {
      addresses.set(row.order_id, null);
      continue;
    }
    grant.assertCovers(CONTRACT_CATEGORIES.address, row.subject_id);
    addresses.set(
      row.order_id,
      row.delivery_street !== null &&
        row.delivery_postal_code !== null &&
        row.delivery_city !== null &&
        row.delivery_country !== null
        ? {
            street: row.delivery_street,
            postalCode: row.delivery_postal_code,
            city: row.delivery_city,
            country: row.delivery_country,
          }
        : null,
    );
  }
  return addresses;
}

export async function selectOrderIdOfQuote(tx: Tx, quoteId: number): Promise<number | undefined> {
  const row = await tx
    .selectFrom('orders')
    .select('order_id')
    .where('quote_id', '=', quoteId)
    .executeTakeFirst();
  return row?.order_id;
}

export async function selectOrderRefPage(
  tx: Tx,
  options: { afterId: number; limit: number; subjectId?: number },
): Promise<OrderRef[]> {
  let query = tx
    .selectFrom('orders')
    .select(refColumns)
    .where('order_id', '>', options.afterId)
    .orderBy('order_id')
    .limit(options.limit);
  if (options.subjectId !== undefined) query = query.where('subject_id', '=', options.subjectId);
  return (await query.execute()).map(toRef);
}

export async function updateOrderStatus(
  tx: Tx,
  grant: Grant,
  orderId: number,
  change: { status: OrderStatus; deliveredAt?: Date },
): Promise<void> {
  grant.assertWritable();
  await tx
    .updateTable('orders')
    .set({ status: change.status, delivered_at: change.deliveredAt ?? null })
    .where('order_id', '=', orderId)
    .execute();
}
