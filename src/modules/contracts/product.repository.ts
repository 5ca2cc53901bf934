import type { Selectable } from 'kysely';
import type { Tx } from '../../platform/db.js';
import type { ContractProductsTable, ProductKind } from './contracts.tables.js';
import { categoryOfRate, type VatCategory } from './vat.js';

export interface Product {
  productId: number;
  code: string;
  name: string;
  kind: ProductKind;
  priceCents: number;
  vatRateBp: number;
  vatCategory: VatCategory;
  vatExemptionCode: string | null;
  vatExemptionReason: string | null;
  isActive: boolean;
  createdAt: Date;
  updatedAt: Date;
}

function toProduct(row: Selectable<ContractProductsTable>): Product {
  return {
    productId: row.product_id,
    code: row.code,
    name: row.name,
    kind: row.kind,
    priceCents: row.price_cents,
    vatRateBp: row.vat_rate_bp,
    vatCategory: row.vat_category ?? categoryOfRate(row.vat_rate_bp),
    vatExemptionCode: row.vat_exemption_code,
    vatExemptionReason: row.vat_exemption_reason,
    isActive: row.is_active,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface NewProductRow {
  code: string;
  name: string;
  kind: ProductKind;
  priceCents: number;
  vatRateBp: number;
  vatCategory: VatCategory;
  vatExemptionCode: string | null;
  vatExemptionReason: string | null;
  isActive: boolean;
  at: Date;
}

/** `undefined` when the code is taken. */
export async function insertProduct(
  tx: Tx,
  tenantId: number,
  row: NewProductRow,
): Promise<Product | undefined> {
  const inserted = await tx
    .insertInto('contract_products')
    .values({
      tenant_id: tenantId,
      code: row.code,
      name: row.name,
      kind: row.kind,
      price_cents: row.priceCents,
      vat_rate_bp: row.vatRateBp,
      vat_category: row.vatCategory,
      vat_exemption_code: row.vatExemptionCode,
      vat_exemption_reason: row.vatExemptionReason,
      is_active: row.isActive,
      created_at: row.at,
      updated_at: row.at,
    })
    .onConflict((conflict) => conflict.columns(['tenant_id', 'code']).doNothing())
    .returningAll()
    .executeTakeFirst();
  return inserted && toProduct(inserted);
}

export interface ProductPatch {
  name?: string;
  priceCents?: number;
  vatRateBp?: number;
  vat?: { category: VatCategory; exemptionCode: string | null; exemptionReason: string | null };
  isActive?: boolean;
}

export async function updateProduct(
  tx: Tx,
  productId: number,
  patch: ProductPatch,
  at: Date,
): Promise<Product | undefined> {
  const updated = await tx
    .updateTable('contract_products')
    .set({
      ...(patch.name === undefined ? {} : { name: patch.name }),
      ...(patch.priceCents === undefined ? {} : { price_cents: patch.priceCents }),
      ...(patch.vatRateBp === undefined ? {} : { vat_rate_bp: patch.vatRateBp }),
      ...(patch.vat === undefined
        ? {}
        : {
            vat_category: patch.vat.category,
            vat_exemption_code: patch.vat.exemptionCode,
            vat_exemption_reason: patch.vat.exemptionReason,
          }),
      ...(patch.isActive === undefined ? {} : { is_active: patch.isActive }),
      updated_at: at,
    })
    .where('product_id', '=', productId)
    .returningAll()
    .executeTakeFirst();
  return updated && toProduct(updated);
}

export async function selectProduct(tx: Tx, productId: number): Promise<Product | undefined> {
  const row = await tx
    .selectFrom('contract_products')
    .selectAll()
    .where('product_id', '=', productId)
    .executeTakeFirst();
  return row && toProduct(row);
}

export async function selectProducts(tx: Tx, productIds: readonly number[]): Promise<Map<number, Product>> {
  if (productIds.length === 0) return new Map();
  const rows = await tx
    .selectFrom('contract_products')
    .selectAll()
    .where('product_id', '=', (eb) => eb.fn.any(eb.val([...productIds])))
    .execute();
  return new Map(rows.map((row) => [row.product_id, toProduct(row)]));
}

export async function selectProductPage(
  tx: Tx,
  options: { afterId: number; limit: number; active?: boolean },
): Promise<Product[]> {
  let query = tx
    .selectFrom('contract_products')
    .selectAll()
    .where('product_id', '>', options.afterId)
    .orderBy('product_id')
    .limit(options.limit);
  if (options.active !== undefined) query = query.where('is_active', '=', options.active);
  return (await query.execute()).map(toProduct);
}
