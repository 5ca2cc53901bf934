import type { Kernel } from '../../kernel/kernel.js';
import { authorize, conflict, notFound, type BillingContext } from './access.js';
import { BILLING_CATEGORIES as C } from './datamap.js';

export interface ContractBillingOptions {
  contractId: number;
  itemisedCalls: boolean;
}

/**
 * Whether a contract's invoices list its calls one by one (an itemised bill) instead of only the
 * summary per destination class. Writes kluis.contract.product of the contract's customer.
 */
export async function setContractBillingOptions(
  kernel: Kernel,
  context: BillingContext,
  contractId: number,
  options: { itemisedCalls: boolean },
): Promise<ContractBillingOptions> {
  const at = kernel.clock.now();
  return kernel.transact(context.tenantId, async (atx) => {
    const contract = await atx.tx
      .selectFrom('contracts')
      .select(['contract_id', 'subject_id'])
      .where('contract_id', '=', contractId)
      .executeTakeFirst();
    if (!contract) throw notFound('contract');
    if (contract.subject_id === null) throw conflict('the contract no longer belongs to anyone');
    await authorize(kernel, atx, context, 'write', [C.product], [contract.subject_id]);
    await atx.tx
      .insertInto('contract_billing_options')
      .values({
        tenant_id: context.tenantId,
        contract_id: contractId,
        itemised_calls: options.itemisedCalls,
        updated_at: at,
      })
      .onConflict((oc) =>
        oc
          .columns(['tenant_id', 'contract_id'])
          .doUpdateSet({ itemised_calls: options.itemisedCalls, updated_at: at }),
      )
      .execute();
    return { contractId, itemisedCalls: options.itemisedCalls };
  });
}
