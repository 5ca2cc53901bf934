import { AccessDenied, type Actor } from '../../kernel/gate/gate.js';
import type { AuditedTx } from '../../kernel/audit/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import { WRITTEN_CHANNELS, type DomainEvent, type DomainEventSubscribers } from '../contracts/index.js';
import { DOSSIER_CATEGORIES as C } from './datamap.js';
import { deleteDossier } from './dossier.repository.js';
import { dossierPurposes } from './dossier.service.js';

const ERASURE_ACTOR: Actor = { kind: 'system', job: 'dossier-erasure' };
const AUDIT_ACTOR = { kind: 'system', id: 'dossier-erasure' } as const;

export interface DossierErasure {
  subjectId: number;
  /** False when the subject was already erased as a whole (nothing left to do). */
  erased: boolean;
  keyDestroyed: boolean;
  removed: { assets: number; credentials: number; facts: number; attachments: number };
}

/**
 * Erases a customer's technical dossier at once (VX-7): the dossier key is destroyed first
 * (crypto-shredding: every copy of the rows, backups included, becomes unreadable), then the rows
 * are deleted, and a certificate is written to the audit log in the same transaction.
 * Idempotent: run again it finds no key and no rows and certifies that.
 */
export async function eraseDossier(
  kernel: Kernel,
  options: { tenantId: number; subjectId: number; purpose: string; trigger: string },
): Promise<DossierErasure> {
  const { tenantId, subjectId } = options;
  try {
    return await kernel.transact(tenantId, (atx) => eraseDossierWithin(kernel, atx, options));
  } catch (error) {
    // Erased as a whole before: the full erasure removed the dossier and destroyed its key.
    if (error instanceof AccessDenied && (error.code === 'subject_erased' || error.code === 'not_found'))
      return {
        subjectId,
        erased: false,
        keyDestroyed: false,
        removed: { assets: 0, credentials: 0, facts: 0, attachments: 0 },
      };
    throw error;
  }
}

/**
 * `eraseDossier` inside the caller's transaction: the key destroyed, the rows deleted and the
 * certificate written commit with the caller's change, or not at all. A fulfilled objection to
 * the dossier's purpose uses it (decision 0915). Throws AccessDenied for an erased subject.
 */
export async function eraseDossierWithin(
  kernel: Kernel,
  atx: AuditedTx,
  options: { subjectId: number; purpose: string; trigger: string },
): Promise<DossierErasure> {
  const { subjectId, purpose } = options;
  const grant = await kernel.gate.authorize(atx, ERASURE_ACTOR, {
    purpose,
    action: 'erase',
    categories: [C.asset, C.credential],
    subjectIds: [subjectId],
  });
  const keyDestroyed = await grant.destroyKey(subjectId, 'dossier');
  const removed = await deleteDossier(atx.tx, grant, subjectId);
  const common = {
    actor: AUDIT_ACTOR,
    role: null,
    purpose,
    subjectIds: [subjectId],
    categories: [C.asset, C.credential],
    decision: 'allowed' as const,
  };
  atx.audit.record({
    ...common,
    action: 'key.destroy',
    reason: keyDestroyed ? 'crypto_shredded' : 'no_key',
  });
  atx.audit.record({
    ...common,
    action: 'dossier.erase',
    records: removed.assets + removed.credentials + removed.facts + removed.attachments,
    reason:
      `certificate: technical dossier erased on ${options.trigger}; removed ${removed.assets} assets, ` +
      `${removed.credentials} credentials, ${removed.facts} network facts and licences, ` +
      `${removed.attachments} attachments; ` +
      (keyDestroyed ? 'dossier key destroyed' : 'no dossier key existed'),
  });
  return { subjectId, erased: true, keyDestroyed, removed };
}

/**
 * VX-7's trigger: a `contract.terminated` event. The dossier goes when the policy's retention rule
 * of the dossier purpose says "on termination" (in writing, if it says so) and the termination
 * ends the customer relation; while other contracts run, the dossier stays and the deferral is
 * audited (docs/decisions/0092).
 */
export async function handleContractTerminated(
  kernel: Kernel,
  event: DomainEvent<'contract.terminated'>,
): Promise<DossierErasure | undefined> {
  const { payload, tenantId } = event;
  if (payload.subjectId === null) return undefined;
  const { policy } = await kernel.policies.current(tenantId);
  const purpose = dossierPurposes(policy).find((key) => {
    const rule = policy.retentionRules[policy.purposes[key]?.retention ?? ''];
    return rule?.kind === 'on_termination';
  });
  if (!purpose) return undefined;
  const rule = policy.retentionRules[policy.purposes[purpose]?.retention ?? ''];
  // A letter, an e-mail or a portal message is notice in writing; a phone call is not (decision 0874).
  const writtenNow = (WRITTEN_CHANNELS as readonly string[]).includes(payload.channel);
  const written = payload.writtenNoticeOnRecord ?? writtenNow;
  if (rule?.kind === 'on_termination' && rule.writtenNotice && !written) return undefined;
  if ((payload.otherOpenContracts ?? 0) > 0) {
    await kernel.transact(tenantId, (atx) => {
      atx.audit.record({
        actor: AUDIT_ACTOR,
        role: null,
        purpose,
        action: 'dossier.erase.deferred',
        subjectIds: [payload.subjectId ?? 0],
        categories: [C.asset, C.credential],
        decision: 'allowed',
        reason: 'other contracts of the customer still run; the dossier goes when the relation ends',
      });
      return Promise.resolve();
    });
    return undefined;
  }
  return eraseDossier(kernel, {
    tenantId,
    subjectId: payload.subjectId,
    purpose,
    trigger: writtenNow ? 'written termination' : 'termination after a written notice',
  });
}

/** Subscribes the dossier erasure to contract terminations. */
export function subscribeDossierErasure(subscribers: DomainEventSubscribers, kernel: Kernel): void {
  subscribers.on('contract.terminated', async (event) => {
    await handleContractTerminated(kernel, event);
  });
}
