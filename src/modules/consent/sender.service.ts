import { createHash, randomBytes } from 'node:crypto';
import { coveredBy } from '../../kernel/gate/access.js';
import { AccessDenied, type Actor } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { describeUnexpected } from '../../platform/errors.js';
import { reachTestHook } from '../../platform/test-hooks.js';
import { readPeopleUnderGrant } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';
import type { MailLanguage } from './consent.tables.js';
import type { ConsentDeps } from './deps.js';
import { trackingPurposeOf } from './ledger.service.js';
import { buildMailingMessage, SIGNED_HEADERS } from './message.js';
import {
  dkimKeyProblem,
  openMailSettings,
  readMailSettings,
  unsignedMailingProblem,
  type MailSettings,
} from './settings.service.js';
import { controllerName } from './signup.service.js';
import { selectSignupAddresses } from './signup.repository.js';

const SENDER: Actor = { kind: 'system', job: 'mailing-sender' };
const EMAIL = 'user.contact.email';
const ENGAGEMENT = 'kluis.marketing.email_engagement';
const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();

export interface SendResult {
  sent: number;
  skipped: number;
  bounced: number;
  /** Rows a crash left between "handed to SMTP" and "marked sent": never sent again. */
  uncertain: number;
}

export interface SendOptions {
  /** One tenant per call: the job runs each tenant on its own (decision 0640). */
  tenantId: number;
  mailingId?: number;
  /** Called after each recipient (the CLI's progress). */
  onProgress?: (done: number) => void;
  /** Waits between mails (tests pass a no-op clock); default real time. */
  sleep?: (ms: number) => Promise<void>;
  /** A stop: no further mail is claimed; the rows left stay pending for the next run (0836). */
  stopping?: AbortSignal;
}

/**
 * Sends what one tenant's outbox holds (the job queue runs this per tenant; `kluis mailings send`
 * too). Per recipient: the row is claimed (`sending`, committed), the address is read through the gate
 * under the mailing's purpose (a withdrawal or objection since queueing skips the person), the
 * mail is handed to SMTP, and the row is marked `sent`. A row found `sending` at the start of a
 * run was interrupted after the claim: it becomes `uncertain` and is not sent again, so no one
 * gets a mail twice (decision 0131). A 5xx answer of the SMTP server is a hard bounce: the row is
 * `bounced` and the address suppressed for every mailing. Rate-limited per tenant.
 */
export async function sendQueuedMailings(deps: ConsentDeps, options: SendOptions): Promise<SendResult> {
  const result: SendResult = { sent: 0, skipped: 0, bounced: 0, uncertain: 0 };
  const tenant = await deps.kernel.tenants.byId(options.tenantId);
  const mailings = await deps.kernel.plain(tenant.tenantId, (tx) => {
    let query = tx.selectFrom('mailings').select(['mailing_id', 'purpose']).where('state', '=', 'sending');
    if (options.mailingId !== undefined) query = query.where('mailing_id', '=', options.mailingId);
    return query.orderBy('mailing_id').execute();
  });
  for (const mailing of mailings) {
    if (options.stopping?.aborted) break;
    await sendMailing(deps, tenant, mailing.mailing_id, mailing.purpose, result, options);
  }
  return result;
}

interface Claimed {
  subjectId: number;
  source: 'person' | 'signup';
  language: MailLanguage;
  tracked: boolean;
  addressBidx: Buffer;
  token: string;
}

async function sendMailing(
  deps: ConsentDeps,
  tenant: Tenant,
  mailingId: number,
  purpose: string,
  result: SendResult,
  options: SendOptions,
): Promise<void> {
  const { kernel } = deps;
  const tenantId = tenant.tenantId;
  const { policy } = await kernel.policies.current(tenantId);
  const prepared = await kernel.plain(tenantId, async (tx) => {
    const interrupted = await tx
      .updateTable('mailing_recipients')
      .set({ state: 'uncertain' })
      .where('mailing_id', '=', mailingId)
      .where('state', '=', 'sending')
      .executeTakeFirst();
    const texts = await tx
      .selectFrom('mailing_texts')
      .selectAll()
      .where('mailing_id', '=', mailingId)
      .execute();
    const links = await tx
      .selectFrom('mailing_links')
      .select(['link_no', 'url'])
      .where('mailing_id', '=', mailingId)
      .execute();
    return {
      interrupted: Number(interrupted.numUpdatedRows),
      texts: new Map(texts.map((text) => [text.language, text])),
      links: links.map((link) => ({ no: link.link_no, url: link.url })),
      settings: await readMailSettings(tx),
    };
  });
  result.uncertain += prepared.interrupted;
  // The DKIM key is opened once per run, from its seal in the key store (decision 0461).
  const settings = await openMailSettings(kernel, tenantId, prepared.settings);
  // A key the sender cannot sign with (an Ed25519 key alone, stored before decision 0523) would
  // send the mailing unsigned without a word: it waits, pending, until the key is replaced (0582).
  // Queued before the relay was configured, or before the settings were emptied: it waits (0837).
  const unsigned = deps.mailer.delivers ? unsignedMailingProblem(settings) : undefined;
  if (unsigned) {
    deps.logger.warn(
      { tenantId, mailingId, missing: unsigned.missing },
      'mailing waits: no sender address or DKIM key of the tenant for the SMTP relay',
    );
    return;
  }
  const problem = dkimKeyProblem(settings);
  if (problem) {
    // The problem names the kind of key, never the key (attack S9-5: a garbage key is no Ed25519 one).
    deps.logger.warn({ tenantId, mailingId, problem }, 'mailing waits: the DKIM key cannot sign');
    return;
  }
  const sleep = options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const interval = 1000 / (settings?.ratePerSecond ?? 10);
  const tracking = trackingPurposeOf(policy);
  const controller = controllerName(policy);
  let count = 0;
  for (;;) {
    if (options.stopping?.aborted) return;
    const claimed = await claimNext(kernel, tenantId, mailingId);
    if (!claimed) break;
    const started = Date.now();
    const address = await readAddress(kernel, tenantId, purpose, claimed);
    if (address === undefined) {
      await markRow(kernel, tenantId, mailingId, claimed.subjectId, 'skipped');
      result.skipped += 1;
      continue;
    }
    const tracked =
      claimed.tracked &&
      tracking !== undefined &&
      (await mayTrack(kernel, tenantId, tracking, claimed.subjectId));
    const text = prepared.texts.get(claimed.language) ?? [...prepared.texts.values()][0];
    if (!text) break;
    const message = buildMailingMessage({
      publicUrl: deps.publicUrl,
      tenantSlug: tenant.slug,
      token: claimed.token,
      language: claimed.language,
      controller,
      subject: text.subject,
      body: text.body,
      links: prepared.links,
      tracked,
    });
    try {
      await deps.mailer.send({
        to: address,
        subject: message.subject,
        text: message.text,
        html: message.html,
        headers: message.headers,
        fromName: controller,
        ...dkimOf(settings),
      });
    } catch (error) {
      if (isHardBounce(error)) {
        await bounce(kernel, tenantId, mailingId, claimed);
        result.bounced += 1;
        continue;
      }
      // Not delivered and not refused for good: back in the queue for the next run.
      await markRow(kernel, tenantId, mailingId, claimed.subjectId, 'pending', ['sending']);
      deps.logger.warn(
        { err: describeUnexpected(error), tenantId, mailingId },
        'mailing paused: SMTP failed',
      );
      throw error;
    }
    count += 1;
    await reachTestHook(`mailing.after-send-${count}`);
    await markRow(kernel, tenantId, mailingId, claimed.subjectId, 'sent', ['sending', 'uncertain']);
    result.sent += 1;
    options.onProgress?.(count);
    const wait = interval - (Date.now() - started);
    if (wait > 0) await sleep(wait);
  }
  await kernel.plain(tenantId, async (tx) => {
    const open = await tx
      .selectFrom('mailing_recipients')
      .select('subject_id')
      .where('mailing_id', '=', mailingId)
      .where('state', 'in', ['pending', 'sending'])
      .executeTakeFirst();
    if (!open)
      await tx
        .updateTable('mailings')
        .set({ state: 'sent', finished_at: kernel.clock.now() })
        .where('mailing_id', '=', mailingId)
        .where('state', '=', 'sending')
        .execute();
  });
}

function dkimOf(settings: MailSettings | undefined): Partial<Parameters<ConsentDeps['mailer']['send']>[0]> {
  if (!settings) return {};
  return {
    fromAddress: settings.fromAddress,
    ...(settings.dkim
      ? {
          dkim: {
            domainName: settings.dkim.domain,
            keySelector: settings.dkim.selector,
            privateKey: settings.dkim.privateKey,
            headerFieldNames: SIGNED_HEADERS,
          },
        }
      : {}),
  };
}

/** Claims the next pending row and gives it the token its mail will carry (only the hash is kept). */
async function claimNext(kernel: Kernel, tenantId: number, mailingId: number): Promise<Claimed | undefined> {
  const token = randomBytes(32).toString('base64url');
  return kernel.plain(tenantId, async (tx) => {
    const row = await tx
      .selectFrom('mailing_recipients')
      .select(['subject_id', 'address_source', 'language', 'tracked', 'address_bidx'])
      .where('mailing_id', '=', mailingId)
      .where('state', '=', 'pending')
      .orderBy('subject_id')
      .limit(1)
      .forUpdate()
      .skipLocked()
      .executeTakeFirst();
    if (!row) return undefined;
    await tx
      .updateTable('mailing_recipients')
      .set({ state: 'sending', token_hash: sha256(token) })
      .where('mailing_id', '=', mailingId)
      .where('subject_id', '=', row.subject_id)
      .execute();
    return {
      subjectId: row.subject_id,
      source: row.address_source,
      language: row.language,
      tracked: row.tracked,
      addressBidx: row.address_bidx,
      token,
    };
  });
}

/** The address, read through the gate under the mailing's purpose now; undefined when refused or suppressed. */
async function readAddress(
  kernel: Kernel,
  tenantId: number,
  purpose: string,
  claimed: Claimed,
): Promise<string | undefined> {
  const { policy } = await kernel.policies.current(tenantId);
  try {
    return await kernel.transact(tenantId, async (atx) => {
      const suppressed = await atx.tx
        .selectFrom('mail_suppressions')
        .select('suppression_id')
        .where('address_bidx', '=', claimed.addressBidx)
        .where((eb) => eb.or([eb('purpose', '=', purpose), eb('purpose', 'is', null)]))
        .executeTakeFirst();
      if (suppressed) return undefined;
      const grant = await kernel.gate.authorize(atx, SENDER, {
        purpose,
        action: 'read',
        categories: coveredBy(policy, purpose, [EMAIL]),
        subjectIds: [claimed.subjectId],
      });
      if (claimed.source === 'signup')
        return (await selectSignupAddresses(atx.tx, grant, [claimed.subjectId])).get(claimed.subjectId)
          ?.email;
      const [person] = await readPeopleUnderGrant(atx.tx, grant, [claimed.subjectId]);
      return person?.email ?? undefined;
    });
  } catch (error) {
    if (error instanceof AccessDenied) return undefined;
    throw error;
  }
}

async function mayTrack(
  kernel: Kernel,
  tenantId: number,
  tracking: string,
  subjectId: number,
): Promise<boolean> {
  try {
    await kernel.transact(tenantId, (atx) =>
      kernel.gate.authorize(
        atx,
        { kind: 'system', job: 'mail-tracking' },
        {
          purpose: tracking,
          action: 'write',
          categories: [ENGAGEMENT],
          subjectIds: [subjectId],
        },
      ),
    );
    return true;
  } catch (error) {
    if (error instanceof AccessDenied) return false;
    throw error;
  }
}

async function markRow(
  kernel: Kernel,
  tenantId: number,
  mailingId: number,
  subjectId: number,
  state: 'sent' | 'skipped' | 'pending',
  from: ReadonlyArray<'sending' | 'uncertain'> = ['sending'],
): Promise<void> {
  await kernel.plain(tenantId, (tx) =>
    tx
      .updateTable('mailing_recipients')
      .set({ state, ...(state === 'sent' ? { sent_at: kernel.clock.now() } : {}) })
      .where('mailing_id', '=', mailingId)
      .where('subject_id', '=', subjectId)
      .where('state', 'in', [...from])
      .execute(),
  );
}

function isHardBounce(error: unknown): boolean {
  const code = (error as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

/** A hard bounce: the row is bounced and the address gets no mailing any more. */
async function bounce(kernel: Kernel, tenantId: number, mailingId: number, claimed: Claimed): Promise<void> {
  await kernel.plain(tenantId, async (tx) => {
    await tx
      .updateTable('mailing_recipients')
      .set({ state: 'bounced' })
      .where('mailing_id', '=', mailingId)
      .where('subject_id', '=', claimed.subjectId)
      .execute();
    await tx
      .insertInto('mail_suppressions')
      .values({
        tenant_id: tenantId,
        subject_id: claimed.subjectId,
        address_bidx: claimed.addressBidx,
        purpose: null,
        reason: 'hard_bounce',
        created_at: kernel.clock.now(),
      })
      .onConflict((conflict) => conflict.constraint('mail_suppressions_once').doNothing())
      .execute();
  });
}
