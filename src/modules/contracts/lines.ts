import { sql } from 'kysely';
import { z } from 'zod';
import type { Tx } from '../../platform/db.js';
import { invalid } from './access.js';
import type { ProductKind } from './contracts.tables.js';
import { selectProducts } from './product.repository.js';

export const lineInputSchema = z.object({
  productId: z.number().int().positive(),
  quantity: z.number().int().min(1).max(100_000).default(1),
  /** A negotiated price; the catalogue price when left out. */
  unitPriceCents: z.number().int().min(0).max(1_000_000_000).optional(),
});

export const linesInputSchema = z.array(lineInputSchema).min(1).max(200);

export type LineInput = z.output<typeof lineInputSchema>;

export interface Line {
  lineNo: number;
  productId: number;
  productCode: string;
  productKind: ProductKind;
  quantity: number;
  unitPriceCents: number;
  vatRateBp: number;
}

/**
 * Prices the lines from the catalogue. Every product must exist and be active: an unknown or
 * withdrawn product is the caller's mistake (validation_failed, naming the line), not a 404.
 */
export async function priceLines(tx: Tx, inputs: readonly LineInput[]): Promise<Line[]> {
  const products = await selectProducts(
    tx,
    inputs.map((line) => line.productId),
  );
  return inputs.map((input, index) => {
    const product = products.get(input.productId);
    if (!product)
      throw invalid(`lines.${index}.productId: no such product`, { field: `lines.${index}.productId` });
    if (!product.isActive) {
      throw invalid(`lines.${index}.productId: the product is no longer offered`, {
        field: `lines.${index}.productId`,
      });
    }
    return {
      lineNo: index + 1,
      productId: product.productId,
      productCode: product.code,
      productKind: product.kind,
      quantity: input.quantity,
      unitPriceCents: input.unitPriceCents ?? product.priceCents,
      vatRateBp: product.vatRateBp,
    };
  });
}

export type LineTable = 'quote_lines' | 'order_lines' | 'contract_lines';

const PARENT_COLUMN = {
  quote_lines: 'quote_id',
  order_lines: 'order_id',
  contract_lines: 'contract_id',
} as const satisfies Record<LineTable, string>;

export async function insertLines(
  tx: Tx,
  tenantId: number,
  table: LineTable,
  parentId: number,
  lines: readonly Line[],
): Promise<void> {
  if (lines.length === 0) return;
  const rows = lines.map((line) => ({
    tenant_id: tenantId,
    line_no: line.lineNo,
    product_id: line.productId,
    quantity: line.quantity,
    unit_price_cents: line.unitPriceCents,
    vat_rate_bp: line.vatRateBp,
  }));
  switch (table) {
    case 'quote_lines':
      await tx
        .insertInto('quote_lines')
        .values(rows.map((row) => ({ ...row, quote_id: parentId })))
        .execute();
      return;
    case 'order_lines':
      await tx
        .insertInto('order_lines')
        .values(rows.map((row) => ({ ...row, order_id: parentId })))
        .execute();
      return;
    case 'contract_lines':
      await tx
        .insertInto('contract_lines')
        .values(rows.map((row) => ({ ...row, contract_id: parentId })))
        .execute();
      return;
  }
}

/** The lines of many parents at once, by parent id, in line order. */
export async function selectLines(
  tx: Tx,
  table: LineTable,
  parentIds: readonly number[],
): Promise<Map<number, Line[]>> {
  const byParent = new Map<number, Line[]>();
  if (parentIds.length === 0) return byParent;
  const parent = sql.ref(`l.${PARENT_COLUMN[table]}`);
  const { rows } = await sql<{
    parent_id: number;
    line_no: number;
    product_id: number;
    code: string;
    kind: ProductKind;
    quantity: number;
    unit_price_cents: number;
    vat_rate_bp: number;
  }>`select ${parent} as parent_id, l.line_no, l.product_id, p.code, p.kind, l.quantity,
            l.unit_price_cents, l.vat_rate_bp
       from ${sql.table(table)} as l
       join contract_products as p on p.tenant_id = l.tenant_id and p.product_id = l.product_id
      where ${parent} = any(${[...parentIds]}::bigint[])
      order by ${parent}, l.line_no`.execute(tx);
  for (const row of rows) {
    const lines = byParent.get(row.parent_id) ?? [];
    lines.push({
      lineNo: row.line_no,
      productId: row.product_id,
      productCode: row.code,
      productKind: row.kind,
      quantity: row.quantity,
      unitPriceCents: row.unit_price_cents,
      vatRateBp: row.vat_rate_bp,
    });
    byParent.set(row.parent_id, lines);
  }
  return byParent;
}

/** Total of the lines without VAT, in cents. */
export function totalOf(lines: readonly Line[]): number {
  return lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
}
