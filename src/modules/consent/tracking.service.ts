import { createHash } from 'node:crypto';
import { AccessDenied, type Actor } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tenant } from '../tenants/index.js';
import type { MailLanguage } from './consent.tables.js';
import { interestPurposeOf, trackingPurposeOf } from './ledger.service.js';
import { addInterest, insertTrackingEvent } from './tracking.repository.js';

const TRACKER: Actor = { kind: 'system', job: 'mail-tracking' };
const PROFILER: Actor = { kind: 'system', job: 'interest-profile' };
const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();

export interface Recipient {
  mailingId: number;
  subjectId: number;
  purpose: string;
  language: MailLanguage;
  tracked: boolean;
  addressBidx: Buffer;
}

/** The recipient a mail's opaque token belongs to (the token names nothing itself). */
export async function findRecipient(
  kernel: Kernel,
  tenant: Tenant,
  token: string,
): Promise<Recipient | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  const row = await kernel.plain(tenant.tenantId, (tx) =>
    tx
      .selectFrom('mailing_recipients as r')
      .innerJoin('mailings as m', (join) =>
        join.onRef('m.tenant_id', '=', 'r.tenant_id').onRef('m.mailing_id', '=', 'r.mailing_id'),
      )
      .select(['r.mailing_id', 'r.subject_id', 'm.purpose', 'r.language', 'r.tracked', 'r.address_bidx'])
      .where('r.token_hash', '=', sha256(token))
      .executeTakeFirst(),
  );
  return row
    ? {
        mailingId: row.mailing_id,
        subjectId: row.subject_id,
        purpose: row.purpose,
        language: row.language,
        tracked: row.tracked,
        addressBidx: row.address_bidx,
      }
    : undefined;
}

/**
 * Records an open or click only for a recipient whose mail was tracked and who still consents
 * now (the gate decides under the tracking purpose, VK-19); anyone else leaves no trace.
 */
async function recordEvent(
  kernel: Kernel,
  tenant: Tenant,
  recipient: Recipient,
  kind: 'open' | 'click',
  linkNo: number | null,
): Promise<boolean> {
  if (!recipient.tracked) return false;
  const { policy } = await kernel.policies.current(tenant.tenantId);
  const tracking = trackingPurposeOf(policy);
  if (!tracking) return false;
  try {
    await kernel.transact(tenant.tenantId, async (atx) => {
      const grant = await kernel.gate.authorize(atx, TRACKER, {
        purpose: tracking,
        action: 'write',
        categories: ['kluis.marketing.email_engagement'],
        subjectIds: [recipient.subjectId],
      });
      await insertTrackingEvent(atx.tx, grant, {
        subjectId: recipient.subjectId,
        mailingId: recipient.mailingId,
        kind,
        linkNo,
        at: kernel.clock.now(),
      });
    });
    return true;
  } catch (error) {
    if (error instanceof AccessDenied) return false;
    throw error;
  }
}

export async function recordOpen(kernel: Kernel, tenant: Tenant, token: string): Promise<void> {
  const recipient = await findRecipient(kernel, tenant, token);
  if (recipient) await recordEvent(kernel, tenant, recipient, 'open', null);
}

/** The topic a link stands for in an interest profile: its host and first path segment. */
export function topicOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    const host = parsed.hostname.toLowerCase().slice(0, 100);
    const segment = (parsed.pathname.split('/')[1] ?? '').toLowerCase().slice(0, 99);
    const topic = segment ? `${host}/${segment}` : host;
    return /^[a-z0-9.-]{1,100}(\/[^/?#]{0,99})?$/.test(topic) ? topic : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The click redirect: only to a link of the recipient's own mailing (no open redirect). A tracked
 * click is recorded, and adds to the interest profile of a person who consented to profiling (VK-6).
 */
export async function followClick(
  kernel: Kernel,
  tenant: Tenant,
  token: string,
  linkNo: number,
): Promise<string | undefined> {
  const recipient = await findRecipient(kernel, tenant, token);
  if (!recipient) return undefined;
  const link = await kernel.plain(tenant.tenantId, (tx) =>
    tx
      .selectFrom('mailing_links')
      .select('url')
      .where('mailing_id', '=', recipient.mailingId)
      .where('link_no', '=', linkNo)
      .executeTakeFirst(),
  );
  if (!link) return undefined;
  if (await recordEvent(kernel, tenant, recipient, 'click', linkNo))
    await profile(kernel, tenant, recipient, link.url);
  return link.url;
}

async function profile(kernel: Kernel, tenant: Tenant, recipient: Recipient, url: string): Promise<void> {
  const { policy } = await kernel.policies.current(tenant.tenantId);
  const interest = interestPurposeOf(policy);
  const topic = topicOf(url);
  if (!interest || !topic) return;
  try {
    await kernel.transact(tenant.tenantId, async (atx) => {
      const grant = await kernel.gate.authorize(atx, PROFILER, {
        purpose: interest,
        action: 'write',
        categories: ['kluis.marketing.interest_profile'],
        subjectIds: [recipient.subjectId],
      });
      await addInterest(atx.tx, grant, recipient.subjectId, topic, kernel.clock.now());
    });
  } catch (error) {
    // No consent to profiling (or an objection): no profile.
    if (!(error instanceof AccessDenied)) throw error;
  }
}
