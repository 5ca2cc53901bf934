import { z } from 'zod';
import type { Contract, CustomerStatus } from './contract.service.js';
import type { Line } from './lines.js';
import type { Order } from './order.service.js';
import type { Product } from './product.service.js';
import type { Quote } from './quote.service.js';

/** The fields that may leave, listed one by one (the serializer drops anything else). */

export const productSchema = z.object({
  productId: z.number().int(),
  code: z.string(),
  name: z.string(),
  kind: z.enum(['subscription', 'one_off', 'service']),
  priceCents: z.number().int(),
  vatRatePercent: z.number(),
  vatCategory: z.enum(['S', 'Z', 'E', 'AE', 'K', 'G']),
  vatExemptionCode: z.string().nullable(),
  vatExemptionReason: z.string().nullable(),
  isActive: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export function presentProduct(product: Product): z.infer<typeof productSchema> {
  return {
    productId: product.productId,
    code: product.code,
    name: product.name,
    kind: product.kind,
    priceCents: product.priceCents,
    vatRatePercent: product.vatRateBp / 100,
    vatCategory: product.vatCategory,
    vatExemptionCode: product.vatExemptionCode,
    vatExemptionReason: product.vatExemptionReason,
    isActive: product.isActive,
    createdAt: product.createdAt.toISOString(),
    updatedAt: product.updatedAt.toISOString(),
  };
}

const lineSchema = z.object({
  lineNo: z.number().int(),
  productId: z.number().int(),
  productCode: z.string(),
  productKind: z.enum(['subscription', 'one_off', 'service']),
  quantity: z.number().int(),
  unitPriceCents: z.number().int(),
  vatRatePercent: z.number(),
});

function presentLine(line: Line): z.infer<typeof lineSchema> {
  return {
    lineNo: line.lineNo,
    productId: line.productId,
    productCode: line.productCode,
    productKind: line.productKind,
    quantity: line.quantity,
    unitPriceCents: line.unitPriceCents,
    vatRatePercent: line.vatRateBp / 100,
  };
}

export const quoteSchema = z.object({
  quoteId: z.number().int(),
  subjectId: z.number().int().nullable(),
  organisationId: z.number().int().nullable(),
  status: z.enum(['draft', 'sent', 'accepted', 'rejected', 'expired']),
  validUntil: z.string(),
  createdAt: z.string(),
  sentAt: z.string().nullable(),
  decidedAt: z.string().nullable(),
  lines: z.array(lineSchema),
  totalCents: z.number().int(),
});

export function presentQuote(quote: Quote): z.infer<typeof quoteSchema> {
  return {
    quoteId: quote.quoteId,
    subjectId: quote.subjectId,
    organisationId: quote.organisationId,
    status: quote.status,
    validUntil: quote.validUntil,
    createdAt: quote.createdAt.toISOString(),
    sentAt: quote.sentAt?.toISOString() ?? null,
    decidedAt: quote.decidedAt?.toISOString() ?? null,
    lines: quote.lines.map(presentLine),
    totalCents: quote.totalCents,
  };
}

const addressSchema = z.object({
  street: z.string(),
  postalCode: z.string(),
  city: z.string(),
  country: z.string(),
});

export const orderSchema = z.object({
  orderId: z.number().int(),
  subjectId: z.number().int().nullable(),
  organisationId: z.number().int().nullable(),
  quoteId: z.number().int().nullable(),
  status: z.enum(['placed', 'delivered', 'cancelled']),
  /** Absent when the staff member's purpose does not cover the address. */
  deliveryAddress: addressSchema.nullable().optional(),
  deliveredAt: z.string().nullable(),
  createdAt: z.string(),
  lines: z.array(lineSchema),
  totalCents: z.number().int(),
});

export function presentOrder(order: Order): z.infer<typeof orderSchema> {
  return {
    orderId: order.orderId,
    subjectId: order.subjectId,
    organisationId: order.organisationId,
    quoteId: order.quoteId,
    status: order.status,
    ...(order.deliveryAddress === undefined
      ? {}
      : {
          deliveryAddress: order.deliveryAddress && {
            street: order.deliveryAddress.street,
            postalCode: order.deliveryAddress.postalCode,
            city: order.deliveryAddress.city,
            country: order.deliveryAddress.country,
          },
        }),
    deliveredAt: order.deliveredAt?.toISOString() ?? null,
    createdAt: order.createdAt.toISOString(),
    lines: order.lines.map(presentLine),
    totalCents: order.totalCents,
  };
}

export const contractSchema = z.object({
  contractId: z.number().int(),
  subjectId: z.number().int().nullable(),
  organisationId: z.number().int().nullable(),
  orderId: z.number().int().nullable(),
  startDate: z.string(),
  endDate: z.string().nullable(),
  status: z.enum(['upcoming', 'active', 'ended']),
  termination: z
    .object({
      terminatedOn: z.string(),
      channel: z.enum(['written', 'email', 'phone', 'portal']),
      reasonCode: z.string(),
      recordedAt: z.string(),
      recordedByStaffId: z.number().int().nullable(),
    })
    .nullable(),
  createdAt: z.string(),
  lines: z.array(lineSchema),
  monthlyTotalCents: z.number().int(),
});

export function presentContract(contract: Contract): z.infer<typeof contractSchema> {
  return {
    contractId: contract.contractId,
    subjectId: contract.subjectId,
    organisationId: contract.organisationId,
    orderId: contract.orderId,
    startDate: contract.startDate,
    endDate: contract.endDate,
    status: contract.status,
    termination: contract.termination && {
      terminatedOn: contract.termination.terminatedOn,
      channel: contract.termination.channel,
      reasonCode: contract.termination.reasonCode,
      recordedAt: contract.termination.recordedAt.toISOString(),
      recordedByStaffId: contract.termination.recordedByStaffId,
    },
    createdAt: contract.createdAt.toISOString(),
    lines: contract.lines.map(presentLine),
    // What the contract costs per month: its subscription lines.
    monthlyTotalCents: contract.lines
      .filter((line) => line.productKind === 'subscription')
      .reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0),
  };
}

export const customerStatusSchema = z.object({
  subjectId: z.number().int(),
  status: z.enum(['prospect', 'customer', 'former_customer']),
  activeContracts: z.number().int(),
  upcomingContracts: z.number().int(),
  endedContracts: z.number().int(),
  lastContractEndedOn: z.string().nullable(),
});

export function presentCustomerStatus(status: CustomerStatus): z.infer<typeof customerStatusSchema> {
  return {
    subjectId: status.subjectId,
    status: status.status,
    activeContracts: status.activeContracts,
    upcomingContracts: status.upcomingContracts,
    endedContracts: status.endedContracts,
    lastContractEndedOn: status.lastContractEndedOn,
  };
}

/** A page: the items, the cursor for the next one, and how many subjects' rows the gate withheld. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable(), withheld: z.number().int() });
}
