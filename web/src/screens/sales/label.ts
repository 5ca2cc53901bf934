import type { CapabilityKey } from '../../api/auth.js';

/**
 * The sales screen's name says what the role finds there: Voxtra's admin has contracts and the
 * catalogue, not quotes or orders (decision 0845), so its navigation does not promise them.
 */
export function salesLabel(can: (capability: CapabilityKey) => boolean): string {
  if (can('quotes')) return 'nav.sales';
  return can('orders') ? 'nav.salesOrders' : 'nav.salesContracts';
}
