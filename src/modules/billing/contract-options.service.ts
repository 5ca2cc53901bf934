import { z } from 'zod';
import { refuseSensitiveText } from '../../kernel/datamap/free-text.js';
import type { Kernel } from '../../kernel/kernel.js';
import { selectContractHolder } from '../contracts/index.js';
import { authorize, conflict, invalid, notFound, type BillingContext } from './access.js';
import { BILLING_CATEGORIES as C } from './datamap.js';

export interface ContractBillingOptions {
  contractId: number;
  itemisedCalls: boolean;
  /** The buyer's purchase-order number: the invoice's OrderReference (BT-13). */
  purchaseOrderNumber: string | null;
  /** The buyer's own reference for this contract (BT-10), over the organisation's. */
  buyerReference: string | null;
}

const referenceCode = (max: number) =>
  z
    .string()
    .trim()
    .regex(
      new RegExp(`^[A-Za-z0-9][A-Za-z0-9 ./_:#-]{0,${max - 1}}$`),
      `letters, digits, space and . / _ : # -, at most ${max} characters`,
    );

export const contractBillingOptionsSchema = z
  .object({
    itemisedCalls: z.boolean().optional(),
    purchaseOrderNumber: referenceCode(50).nullable().optional(),
    buyerReference: referenceCode(100).nullable().optional(),
  })
  .strict()
  .refine((value) => Object.keys(value).length > 0, 'give at least one option');

export type ContractBillingOptionsInput = z.input<typeof contractBillingOptionsSchema>;

/**
 * A contract's billing options: whether its invoices list its calls one by one (an itemised bill)
 * instead of only the summary per destination class, and the buyer's purchase-order number and
 * reference its invoices carry (decision 0260). Options left out keep their value; `null` clears
 * a reference. Writes kluis.contract.product of the contract's customer.
 */
export async function setContractBillingOptions(
  kernel: Kernel,
  context: BillingContext,
  contractId: number,
  input: ContractBillingOptionsInput,
): Promise<ContractBillingOptions> {
  const parsed = contractBillingOptionsSchema.safeParse(input);
  if (!parsed.success) {
    throw invalid(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  }
  const options = parsed.data;
  // Codes, but typed by people: an IBAN or national number in one is refused (VK-16).
  if (options.purchaseOrderNumber)
    refuseSensitiveText(options.purchaseOrderNumber, 'purchaseOrderNumber', 'identifiers');
  if (options.buyerReference) refuseSensitiveText(options.buyerReference, 'buyerReference', 'identifiers');
  const at = kernel.clock.now();
  return kernel.transact(context.tenantId, async (atx) => {
    const contract = await selectContractHolder(atx.tx, contractId);
    if (!contract) throw notFound('contract');
    if (contract.subjectId === null) throw conflict('the contract no longer belongs to anyone');
    await authorize(kernel, atx, context, 'write', [C.product], [contract.subjectId]);
    const changes = {
      ...(options.itemisedCalls === undefined ? {} : { itemised_calls: options.itemisedCalls }),
      ...(options.purchaseOrderNumber === undefined
        ? {}
        : { purchase_order_number: options.purchaseOrderNumber }),
      ...(options.buyerReference === undefined ? {} : { buyer_reference: options.buyerReference }),
    };
    const row = await atx.tx
      .insertInto('contract_billing_options')
      .values({ tenant_id: context.tenantId, contract_id: contractId, ...changes, updated_at: at })
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'contract_id']).doUpdateSet({ ...changes, updated_at: at }),
      )
      .returning(['itemised_calls', 'purchase_order_number', 'buyer_reference'])
      .executeTakeFirstOrThrow();
    return {
      contractId,
      itemisedCalls: row.itemised_calls,
      purchaseOrderNumber: row.purchase_order_number,
      buyerReference: row.buyer_reference,
    };
  });
}
