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

export interface OrderRow {
  orderId: number;
  subjectId: number | null;
  organisationId: number | null;
  quoteId: number | null;
  status: OrderStatus;
  /** user.contact.address: the service passes it on only when the gate allowed that category. */
  address: Address | null;
  deliveredAt: Date | null;
  createdByStaffId: number | null;
  createdAt: Date;
}

const columns = [
  'order_id',
  'subject_id',
  'organisation_id',
  'quote_id',
  'status',
  'delivery_street',
  'delivery_postal_code',
  'delivery_city',
  'delivery_country',
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
  delivery_street: string | null;
  delivery_postal_code: string | null;
  delivery_city: string | null;
  delivery_country: string | null;
  delivered_at: Date | null;
  created_by_staff_id: number | null;
  created_at: Date;
};

function toRow(row: SelectedOrder): OrderRow {
  const address =
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
      : null;
  return {
    orderId: row.order_id,
    subjectId: row.subject_id,
    organisationId: row.organisation_id,
    quoteId: row.quote_id,
    status: row.status,
    address,
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

export async function selectOrder(tx: Tx, orderId: number, forUpdate = false): Promise<OrderRow | undefined> {
  let query = tx.selectFrom('orders').select(columns).where('order_id', '=', orderId);
  if (forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row && toRow(row);
}

export async function selectOrderIdOfQuote(tx: Tx, quoteId: number): Promise<number | undefined> {
  const row = await tx
    .selectFrom('orders')
    .select('order_id')
    .where('quote_id', '=', quoteId)
    .executeTakeFirst();
  return row?.order_id;
}

export async function selectOrderPage(
  tx: Tx,
  options: { afterId: number; limit: number; subjectId?: number },
): Promise<OrderRow[]> {
  let query = tx
    .selectFrom('orders')
    .select(columns)
    .where('order_id', '>', options.afterId)
    .orderBy('order_id')
    .limit(options.limit);
  if (options.subjectId !== undefined) query = query.where('subject_id', '=', options.subjectId);
  return (await query.execute()).map(toRow);
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
