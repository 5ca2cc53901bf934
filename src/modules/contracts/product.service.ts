import { z } from 'zod';
import type { Actor } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { AppError } from '../../platform/errors.js';
import { assertFreeTextAllowed, tableMap } from '../../kernel/datamap/free-text.js';
import { contractsDataMap } from './datamap.js';
import { conflict, invalid, notFound } from './access.js';
import {
  categoryOfRate,
  resolveVatTreatment,
  VAT_CATEGORIES,
  vatExemptionCodeSchema,
  type VatTreatment,
} from './vat.js';
import {
  insertProduct,
  selectProduct,
  selectProductPage,
  updateProduct as updateProductRow,
  type Product,
} from './product.repository.js';

export type { Product };

/**
 * The catalogue holds no personal data, so the gate is not involved; only these roles of the
 * tenant's policy may change it (both seed policies have them).
 */
export const CATALOGUE_ROLES: ReadonlySet<string> = new Set(['admin', 'sales']);

export interface CatalogueContext {
  tenantId: number;
  actor: Actor;
}

/** VAT as a percentage with at most two decimals (21, 6, 5.5 …), stored in basis points. */
const vatRatePercent = z
  .number()
  .min(0)
  .max(100)
  .refine((value) => Math.abs(value * 100 - Math.round(value * 100)) < 1e-6, 'at most two decimals');

/** The VAT category (default S, or Z at 0 %) and the exemption reason E, AE, K and G need. */
const vatFields = {
  vatCategory: z.enum(VAT_CATEGORIES).optional(),
  vatExemptionCode: vatExemptionCodeSchema.nullish(),
  vatExemptionReason: z.string().trim().min(1).max(200).nullish(),
};

export const createProductInputSchema = z.object({
  code: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/, '1-40 letters, digits and ._-'),
  name: z.string().trim().min(1).max(200),
  kind: z.enum(['subscription', 'one_off', 'service']),
  priceCents: z.number().int().min(0).max(1_000_000_000),
  vatRatePercent,
  ...vatFields,
  isActive: z.boolean().default(true),
});

export const updateProductInputSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    priceCents: z.number().int().min(0).max(1_000_000_000).optional(),
    vatRatePercent: vatRatePercent.optional(),
    ...vatFields,
    isActive: z.boolean().optional(),
  })
  .refine((patch) => Object.values(patch).some((value) => value !== undefined), 'nothing to change');

export type CreateProductInput = z.input<typeof createProductInputSchema>;
export type UpdateProductInput = z.input<typeof updateProductInputSchema>;

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw invalid(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  }
  return parsed.data;
}

function assertCatalogueRole(actor: Actor): void {
  if (actor.kind === 'staff' && !CATALOGUE_ROLES.has(actor.role)) {
    throw new AppError('role_not_allowed', `role ${actor.role} may not change the catalogue`, {
      publicMessage: `role ${actor.role} may not change the catalogue`,
    });
  }
}

/** A product name and exemption reason are typed by staff: scanned like notes (VK-16), by the data map. */
function assertProductText(name: string | undefined, exemptionReason?: string | null): void {
  assertFreeTextAllowed(tableMap(contractsDataMap, 'contract_products'), [
    { column: 'name', field: 'name', value: name },
    { column: 'vat_exemption_reason', field: 'vatExemptionReason', value: exemptionReason },
  ]);
}

function vatTreatment(input: Parameters<typeof resolveVatTreatment>[0]): VatTreatment {
  const treatment = resolveVatTreatment(input);
  if (typeof treatment === 'string') throw invalid(treatment);
  return treatment;
}

export async function createProduct(
  kernel: Kernel,
  context: CatalogueContext,
  input: CreateProductInput,
): Promise<Product> {
  const data = parse(createProductInputSchema, input);
  assertProductText(data.name, data.vatExemptionReason);
  assertCatalogueRole(context.actor);
  const vatRateBp = Math.round(data.vatRatePercent * 100);
  const vat = vatTreatment({
    rateBp: vatRateBp,
    category: data.vatCategory,
    exemptionCode: data.vatExemptionCode,
    exemptionReason: data.vatExemptionReason,
  });
  return kernel.transact(context.tenantId, async (atx) => {
    const product = await insertProduct(atx.tx, context.tenantId, {
      code: data.code,
      name: data.name,
      kind: data.kind,
      priceCents: data.priceCents,
      vatRateBp,
      vatCategory: vat.category,
      vatExemptionCode: vat.exemptionCode,
      vatExemptionReason: vat.exemptionReason,
      isActive: data.isActive,
      at: kernel.clock.now(),
    });
    if (!product) throw conflict(`a product with code ${data.code} exists`);
    return product;
  });
}

export async function changeProduct(
  kernel: Kernel,
  context: CatalogueContext,
  productId: number,
  input: UpdateProductInput,
): Promise<Product> {
  const data = parse(updateProductInputSchema, input);
  assertProductText(data.name, data.vatExemptionReason);
  assertCatalogueRole(context.actor);
  const vatChanged =
    data.vatRatePercent !== undefined ||
    data.vatCategory !== undefined ||
    data.vatExemptionCode !== undefined ||
    data.vatExemptionReason !== undefined;
  return kernel.transact(context.tenantId, async (atx) => {
    let vat: VatTreatment | undefined;
    if (vatChanged) {
      const current = await selectProduct(atx.tx, productId);
      if (!current) throw notFound('product');
      const rateBp =
        data.vatRatePercent === undefined ? current.vatRateBp : Math.round(data.vatRatePercent * 100);
      // A new rate without a category takes the category that rate implies; a new category starts
      // from its own default reason; the same category keeps the reason it had.
      const category =
        data.vatCategory ?? (rateBp === current.vatRateBp ? current.vatCategory : categoryOfRate(rateBp));
      const sameCategory = category === current.vatCategory;
      vat = vatTreatment({
        rateBp,
        category,
        exemptionCode:
          data.vatExemptionCode !== undefined
            ? data.vatExemptionCode
            : sameCategory
              ? current.vatExemptionCode
              : undefined,
        exemptionReason:
          data.vatExemptionReason !== undefined
            ? data.vatExemptionReason
            : sameCategory && data.vatExemptionCode === undefined
              ? current.vatExemptionReason
              : undefined,
      });
    }
    const product = await updateProductRow(
      atx.tx,
      productId,
      {
        ...(data.name === undefined ? {} : { name: data.name }),
        ...(data.priceCents === undefined ? {} : { priceCents: data.priceCents }),
        ...(data.vatRatePercent === undefined ? {} : { vatRateBp: Math.round(data.vatRatePercent * 100) }),
        ...(vat === undefined ? {} : { vat }),
        ...(data.isActive === undefined ? {} : { isActive: data.isActive }),
      },
      kernel.clock.now(),
    );
    if (!product) throw notFound('product');
    return product;
  });
}

export async function getProduct(kernel: Kernel, tenantId: number, productId: number): Promise<Product> {
  return kernel.transact(tenantId, async (atx) => {
    const product = await selectProduct(atx.tx, productId);
    if (!product) throw notFound('product');
    return product;
  });
}

export interface PageOptions {
  limit: number;
  /** The last id of the previous page. */
  after?: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export async function listProducts(
  kernel: Kernel,
  tenantId: number,
  /** `active`: only active (true) or only withdrawn (false) products; both when left out. */
  options: PageOptions & { active?: boolean },
): Promise<Page<Product>> {
  return kernel.transact(tenantId, async (atx) => {
    const rows = await selectProductPage(atx.tx, {
      afterId: options.after ?? 0,
      limit: options.limit + 1,
      ...(options.active === undefined ? {} : { active: options.active }),
    });
    const items = rows.slice(0, options.limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > options.limit && last ? String(last.productId) : null };
  });
}
