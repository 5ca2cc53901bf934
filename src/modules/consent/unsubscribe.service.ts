import type { Actor } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { findPurpose } from '../../kernel/policy/policy.query.js';
import type { Tenant } from '../tenants/index.js';
import type { Policy } from '../../kernel/policy/policy.schema.js';
import {
  appendConsentWithin,
  interestPurposeOf,
  optOutEventFor,
  trackingPurposeOf,
} from './ledger.service.js';
import { findRecipient } from './tracking.service.js';

const UNSUBSCRIBE: Actor = { kind: 'system', job: 'unsubscribe-link' };

/**
 * VK-18: the unsubscribe link's POST (the page's button, or a mail client's RFC 8058 one-click):
 * at once, the ledger records the withdrawal (consent) or objection (legitimate interest) of the
 * mailing's purpose, and the address is suppressed for that purpose. It also withdraws the
 * consents that live off the mails (decision 0911): measuring opens and clicks (VK-19) and the
 * interest profile built from the clicks (VK-6), whose recorded events and profile go with it.
 * Doing it twice records it once.
 */
export async function unsubscribe(
  kernel: Kernel,
  tenant: Tenant,
  token: string,
): Promise<'done' | 'unknown'> {
  const recipient = await findRecipient(kernel, tenant, token);
  if (!recipient) return 'unknown';
  const { policy } = await kernel.policies.current(tenant.tenantId);
  const purpose = findPurpose(policy, recipient.purpose);
  if (!purpose) return 'unknown';
  await kernel.transact(tenant.tenantId, async (atx) => {
    const subject = await atx.tx
      .selectFrom('data_subjects')
      .select(['erased_at', 'subject_type'])
      .where('subject_id', '=', recipient.subjectId)
      .executeTakeFirst();
    // An erased person gets nothing any more, and no trace of their address is kept.
    if (!subject || subject.erased_at !== null) return;
    const state = await atx.tx
      .selectFrom('subject_purpose_states')
      .select('state')
      .where('subject_id', '=', recipient.subjectId)
      .where('purpose', '=', recipient.purpose)
      .executeTakeFirst();
    const event = optOutEventFor(purpose);
    if (state?.state !== event)
      await appendConsentWithin(
        kernel,
        atx,
        { tenantId: tenant.tenantId, actor: UNSUBSCRIBE },
        {
          subjectId: recipient.subjectId,
          purpose: recipient.purpose,
          event,
          channel: 'unsubscribe_link',
          proofReference: `mailing:${recipient.mailingId}`,
        },
      );
    for (const key of mailDerivedPurposes(policy)) {
      const derived = findPurpose(policy, key);
      if (!derived?.subjectTypes.includes(subject.subject_type)) continue;
      const derivedState = await atx.tx
        .selectFrom('subject_purpose_states')
        .select('state')
        .where('subject_id', '=', recipient.subjectId)
        .where('purpose', '=', key)
        .executeTakeFirst();
      // Only a consent in force (or waiting) is withdrawn; none recorded is nothing to withdraw.
      if (derivedState?.state !== 'consented' && derivedState?.state !== 'pending') continue;
      await appendConsentWithin(
        kernel,
        atx,
        { tenantId: tenant.tenantId, actor: UNSUBSCRIBE },
        {
          subjectId: recipient.subjectId,
          purpose: key,
          event: optOutEventFor(derived),
          channel: 'unsubscribe_link',
          proofReference: `mailing:${recipient.mailingId}`,
        },
      );
    }
    // One row per person, address and purpose: a one-click POST racing the person's own click adds
    // it once (decision 0951).
    await atx.tx
      .insertInto('mail_suppressions')
      .values({
        tenant_id: tenant.tenantId,
        subject_id: recipient.subjectId,
        address_bidx: recipient.addressBidx,
        purpose: recipient.purpose,
        reason: 'unsubscribed',
        created_at: kernel.clock.now(),
      })
      .onConflict((conflict) => conflict.constraint('mail_suppressions_once').doNothing())
      .execute();
  });
  return 'done';
}

/** The purposes that live off the mails: tracking opens and clicks, and the profile built from the clicks. */
function mailDerivedPurposes(policy: Policy): string[] {
  return [trackingPurposeOf(policy), interestPurposeOf(policy)].filter(
    (key): key is string => key !== undefined,
  );
}
