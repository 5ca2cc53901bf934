import type { Kernel } from '../kernel/kernel.js';
import type { Policy } from '../kernel/policy/index.js';
import { readConsentPurposeUses } from './consent/index.js';

/** A purpose of the version in force that a new version drops, and what still rests on it. */
export interface DroppedPurposeInUse {
  purpose: string;
  consentRecords: number;
  mailingsInFlight: number;
}

/**
 * The purposes the version in force has and `next` drops that the modules still hold something
 * under (attack S20-6, decision 0982): consent records, whose proof a dropped purpose leaves no
 * staff route to read, and mailings not yet sent, whose sender skips everyone left.
 */
export async function droppedPurposesInUse(
  kernel: Kernel,
  tenantId: number,
  next: Policy,
): Promise<DroppedPurposeInUse[]> {
  const { policy } = await kernel.policies.current(tenantId);
  const dropped = Object.keys(policy.purposes).filter((key) => !Object.hasOwn(next.purposes, key));
  if (dropped.length === 0) return [];
  const uses = await kernel.plain(tenantId, (tx) => readConsentPurposeUses(tx, dropped));
  return [...uses].map(([purpose, use]) => ({ purpose, ...use }));
}
