import { createPrivateKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tx } from '../../platform/db.js';
import { AppError } from '../../platform/errors.js';
import { isUnreachableDomain } from '../../platform/reserved-domains.js';

export const mailSettingsInputSchema = z
  .object({
    fromAddress: z
      .string()
      .trim()
      .toLowerCase()
      .email()
      .max(320)
      .describe(
        'the sender of mailings: the provider’s own address (a .localhost or .invalid one is refused)',
      ),
    dkim: z
      .object({
        domain: z
          .string()
          .trim()
          .toLowerCase()
          .regex(/^[a-z0-9.-]+$/)
          .max(253)
          .describe(
            'the signing domain (d=): the sender’s domain or a parent of it, so that it aligns for DMARC',
          ),
        selector: z
          .string()
          .trim()
          .regex(/^[A-Za-z0-9._-]+$/)
          .max(63),
        privateKey: z
          .string()
          .trim()
          .max(10_000)
          .describe(
            'an RSA private key of 2048 bits or more, in PEM (Ed25519 alone is refused); never shown back',
          ),
      })
      .nullable()
      .describe('the tenant’s DKIM key: mailings are signed over their List-Unsubscribe headers too'),
    ratePerSecond: z.number().int().min(1).max(1000).default(10),
  })
  .meta({
    example: {
      fromAddress: 'nieuws@example.be',
      dkim: {
        domain: 'example.be',
        selector: 'kluis2026',
        privateKey: '-----BEGIN PRIVATE KEY-----\n(your PEM key)\n-----END PRIVATE KEY-----',
      },
      ratePerSecond: 10,
    },
  });
export type MailSettingsInput = z.input<typeof mailSettingsInputSchema>;

export interface MailSettings {
  fromAddress: string;
  dkim: { domain: string; selector: string; privateKey: string } | null;
  ratePerSecond: number;
}

/** The settings as stored: the DKIM key sealed (or, stored before migration 0461, still in clear). */
export interface StoredMailSettings {
  fromAddress: string;
  dkim: { domain: string; selector: string; key: { sealed: Buffer } | { clear: string } } | null;
  ratePerSecond: number;
}

/** The settings as shown: never the key itself. */
export interface MailSettingsView {
  fromAddress: string | null;
  /** `problem`: why the stored key cannot sign (an Ed25519 key alone from before decision 0523). */
  dkim: { domain: string; selector: string; problem: string | null } | null;
  ratePerSecond: number;
}

/** RSA DKIM keys shorter than this are refused (RFC 8301: verifiers may reject keys under 1024, signers use 2048). */
export const MIN_RSA_DKIM_BITS = 2048;

/** Where a tenant's sealed DKIM key lives; bound into the seal so it cannot be moved to another tenant. */
const dkimRef = (tenantId: number) => ({
  table: 'mail_settings',
  column: 'dkim_key_sealed',
  rowId: String(tenantId),
});

export async function readMailSettings(tx: Tx): Promise<StoredMailSettings | undefined> {
  const row = await tx.selectFrom('mail_settings').selectAll().executeTakeFirst();
  if (!row) return undefined;
  const key = row.dkim_key_sealed
    ? { sealed: row.dkim_key_sealed }
    : row.dkim_private_key
      ? { clear: row.dkim_private_key }
      : undefined;
  return {
    fromAddress: row.from_address,
    dkim:
      row.dkim_domain && row.dkim_selector && key
        ? { domain: row.dkim_domain, selector: row.dkim_selector, key }
        : null,
    ratePerSecond: row.rate_per_second,
  };
}

/** The settings with the DKIM key opened, for signing (the key stays in memory only). */
export async function openMailSettings(
  kernel: Kernel,
  tenantId: number,
  stored: StoredMailSettings | undefined,
): Promise<MailSettings | undefined> {
  if (!stored) return undefined;
  const { dkim } = stored;
  if (!dkim) return { ...stored, dkim: null };
  const privateKey =
    'sealed' in dkim.key
      ? await kernel.keys.openSecret(tenantId, dkimRef(tenantId), dkim.key.sealed)
      : dkim.key.clear;
  return { ...stored, dkim: { domain: dkim.domain, selector: dkim.selector, privateKey } };
}

export function presentMailSettings(
  settings: StoredMailSettings | undefined,
  problem: string | null = null,
): MailSettingsView {
  return {
    fromAddress: settings?.fromAddress ?? null,
    dkim: settings?.dkim ? { domain: settings.dkim.domain, selector: settings.dkim.selector, problem } : null,
    ratePerSecond: settings?.ratePerSecond ?? 10,
  };
}

/** The settings as shown, with what is wrong with the stored key (opened to look, never shown). */
export async function describeMailSettings(
  kernel: Kernel,
  tenantId: number,
  stored: StoredMailSettings | undefined,
): Promise<MailSettingsView> {
  const opened = await openMailSettings(kernel, tenantId, stored);
  return presentMailSettings(stored, dkimKeyProblem(opened) ?? null);
}

/**
 * Why the settings' DKIM key cannot sign mailings, or undefined when it can (or there is none).
 * An Ed25519 key alone stored before decision 0523 is the case this is for: nodemailer signs
 * rsa-sha256 only and would send the mail unsigned without a word (decision 0582).
 */
export function dkimKeyProblem(settings: MailSettings | undefined): string | undefined {
  if (!settings?.dkim) return undefined;
  const flaw = inspectDkimKey(settings.dkim.privateKey);
  if (!flaw) return undefined;
  return flaw.message === 'Ed25519 key alone'
    ? `the DKIM key is an Ed25519 key alone, which the sender cannot sign with (rsa-sha256 only): mailings wait until it is replaced with an RSA key of at least ${MIN_RSA_DKIM_BITS} bits (PUT /api/v1/mail-settings)`
    : `the DKIM key cannot sign (${flaw.message}): mailings wait until it is replaced with an RSA key of at least ${MIN_RSA_DKIM_BITS} bits (PUT /api/v1/mail-settings)`;
}

/** A host name: labels of 1–63 letters, digits and inner hyphens, two or more of them. */
const HOST_NAME = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

/**
 * A public suffix of two labels (`co.uk`, `com.au`): a country's second level that registrars sell
 * under, so nobody's to sign for. Not the whole public-suffix list: the second levels in common use.
 */
const PUBLIC_SECOND_LEVEL = /^(?:co|com|net|org|gov|edu|ac|or|ne|go|gv|ltd|plc)\.[a-z]{2}$/;

/**
 * Why a sender and its DKIM domain cannot stand for the tenant's mail (decision 0861), or
 * undefined: a sender under a reserved top-level domain reaches no one, and a signing domain that is
 * not a host name, is a top-level or public second-level domain, or is neither the sender's domain
 * nor a parent or child of it does not verify or does not align for DMARC: receivers drop the mail.
 */
export function senderFlaw(
  fromAddress: string,
  dkimDomain: string | undefined,
): { field: 'fromAddress' | 'dkim/domain'; message: string } | undefined {
  const senderDomain = fromAddress.slice(fromAddress.lastIndexOf('@') + 1).toLowerCase();
  if (isUnreachableDomain(senderDomain))
    return {
      field: 'fromAddress',
      message: `fromAddress: ${senderDomain} reaches no one; give the provider's own address`,
    };
  if (dkimDomain === undefined) return undefined;
  if (!HOST_NAME.test(dkimDomain) || dkimDomain.length > 253 || PUBLIC_SECOND_LEVEL.test(dkimDomain))
    return {
      field: 'dkim/domain',
      message: `dkim.domain: ${dkimDomain} is not a domain of the provider's own (a host name under a registered domain)`,
    };
  const aligned =
    dkimDomain === senderDomain ||
    senderDomain.endsWith(`.${dkimDomain}`) ||
    dkimDomain.endsWith(`.${senderDomain}`);
  if (!aligned)
    return {
      field: 'dkim/domain',
      message: `dkim.domain: ${dkimDomain} does not align with the sender's domain ${senderDomain} (DMARC); sign with the sender's domain or a parent of it`,
    };
  return undefined;
}

/**
 * What a tenant's mail settings lack for a mailing to leave through a real relay (decisions 0837,
 * 0861): its own sender address and a DKIM key of that address's domain; undefined when both hold.
 */
export function unsignedMailingProblem(
  settings: MailSettings | undefined,
): { missing: string[]; message: string } | undefined {
  const missing = [...(settings?.fromAddress ? [] : ['fromAddress']), ...(settings?.dkim ? [] : ['dkim'])];
  if (missing.length === 0 && settings) {
    // Settings stored before decision 0861 were not checked for this.
    const flaw = senderFlaw(settings.fromAddress, settings.dkim?.domain);
    if (!flaw) return undefined;
    return {
      missing: [flaw.field === 'fromAddress' ? 'fromAddress' : 'dkim'],
      message: `${flaw.message} (PUT /api/v1/mail-settings)`,
    };
  }
  return {
    missing,
    message: `mail leaves through the SMTP relay (KLUIS_SMTP_URL) only from the tenant's own address, DKIM-signed: set ${missing.join(' and ')} in the mail settings first (PUT /api/v1/mail-settings)`,
  };
}

/**
 * Refuses to queue a mailing while the stored DKIM key cannot sign (409 conflict naming the
 * fix): it would otherwise go out unsigned (decision 0582).
 */
export async function assertMailingsCanBeSigned(
  kernel: Kernel,
  tenantId: number,
  /** Mail leaves the machine (Mailer.delivers): the tenant's own sender and key are required (0837). */
  delivers = false,
): Promise<void> {
  const settings = await openMailSettings(kernel, tenantId, await kernel.plain(tenantId, readMailSettings));
  const unsigned = delivers ? unsignedMailingProblem(settings) : undefined;
  if (unsigned)
    throw new AppError('mail_not_signed', 'no sender address or DKIM key for mailings', {
      publicMessage: unsigned.message,
      details: { setting: 'mail-settings', missing: unsigned.missing },
    });
  const problem = dkimKeyProblem(settings);
  if (problem)
    throw new AppError('conflict', 'the stored DKIM key cannot sign', {
      publicMessage: problem,
      details: { setting: 'dkim', minimumRsaBits: MIN_RSA_DKIM_BITS },
    });
}

const badKey = (message: string, publicMessage: string, extra: Record<string, unknown> = {}): AppError =>
  new AppError('validation_failed', message, {
    publicMessage,
    details: { issues: [{ path: 'body/dkim/privateKey', message }], ...extra },
  });

/**
 * Checks that a DKIM key is an RSA key of at least 2048 bits; never echoes it. An Ed25519 key is
 * refused: the sender signs rsa-sha256 only (nodemailer; it sends the mail unsigned with any other
 * key), and many receivers verify only RSA signatures (RFC 8463 pairs Ed25519 with an RSA
 * signature, never alone). Decision 0523.
 */
function checkDkimKey(pem: string): void {
  const flaw = inspectDkimKey(pem);
  if (flaw) throw badKey(flaw.message, flaw.publicMessage, flaw.extra);
}

interface KeyFlaw {
  message: string;
  publicMessage: string;
  extra?: Record<string, unknown>;
}

/** What is wrong with a DKIM key for the sender (RSA of at least 2048 bits), or undefined. */
function inspectDkimKey(pem: string): KeyFlaw | undefined {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    return {
      message: 'not a usable private key',
      publicMessage: 'dkim.privateKey: expected an RSA private key in PEM',
    };
  }
  if (key.asymmetricKeyType === 'ed25519')
    return {
      message: 'Ed25519 key alone',
      publicMessage: `dkim.privateKey: an Ed25519 key alone is not accepted; mailings are signed with RSA (rsa-sha256), which every receiver verifies: give an RSA key of at least ${MIN_RSA_DKIM_BITS} bits`,
      extra: { minimumRsaBits: MIN_RSA_DKIM_BITS },
    };
  if (key.asymmetricKeyType !== 'rsa')
    return {
      message: 'not a usable private key',
      publicMessage: 'dkim.privateKey: expected an RSA private key in PEM',
    };
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_DKIM_BITS)
    return {
      message: 'RSA key shorter than 2048 bits',
      publicMessage: `dkim.privateKey: an RSA key of at least ${MIN_RSA_DKIM_BITS} bits is needed (this one has ${bits})`,
      extra: { minimumRsaBits: MIN_RSA_DKIM_BITS },
    };
  return undefined;
}

/**
 * Sets a tenant's sender and DKIM key. The key is checked (RSA of at least 2048 bits),
 * sealed under a key-store key before it is stored (decision 0461), and never echoed.
 */
export async function writeMailSettings(
  kernel: Kernel,
  tenantId: number,
  input: MailSettingsInput,
): Promise<MailSettingsView> {
  const data = mailSettingsInputSchema.parse(input);
  const flaw = senderFlaw(data.fromAddress, data.dkim?.domain);
  if (flaw)
    throw new AppError('validation_failed', flaw.message, {
      publicMessage: flaw.message,
      details: { issues: [{ path: `body/${flaw.field}`, message: flaw.message }] },
    });
  if (data.dkim) checkDkimKey(data.dkim.privateKey);
  const sealed = data.dkim
    ? await kernel.keys.sealSecret(tenantId, dkimRef(tenantId), data.dkim.privateKey)
    : null;
  const now = kernel.clock.now();
  const values = {
    from_address: data.fromAddress,
    dkim_domain: data.dkim?.domain ?? null,
    dkim_selector: data.dkim?.selector ?? null,
    dkim_private_key: null,
    dkim_key_sealed: sealed,
    rate_per_second: data.ratePerSecond,
    updated_at: now,
  };
  return kernel.plain(tenantId, async (tx) => {
    await tx
      .insertInto('mail_settings')
      .values({ tenant_id: tenantId, ...values })
      .onConflict((conflict) => conflict.column('tenant_id').doUpdateSet(values))
      .execute();
    return presentMailSettings(await readMailSettings(tx));
  });
}

/**
 * Seals the DKIM keys still stored in clear (written before migration 0461, or brought back by
 * restoring an older data backup) and empties the clear column: run at every start, before the
 * server serves (decision 0461). Returns how many keys it sealed.
 */
export async function sealClearDkimKeys(kernel: Kernel): Promise<number> {
  let sealedCount = 0;
  for (const tenant of await kernel.tenants.list()) {
    const clear = await kernel.plain(
      tenant.tenantId,
      async (tx) =>
        (
          await tx
            .selectFrom('mail_settings')
            .select('dkim_private_key')
            .where('dkim_private_key', 'is not', null)
            .executeTakeFirst()
        )?.dkim_private_key ?? undefined,
    );
    if (clear === undefined || clear === null) continue;
    const sealed = await kernel.keys.sealSecret(tenant.tenantId, dkimRef(tenant.tenantId), clear);
    const result = await kernel.plain(tenant.tenantId, (tx) =>
      tx
        .updateTable('mail_settings')
        .set({ dkim_private_key: null, dkim_key_sealed: sealed })
        // Only the key that was sealed: one changed meanwhile (a PUT) is sealed already.
        .where('dkim_private_key', '=', clear)
        .executeTakeFirst(),
    );
    sealedCount += Number(result.numUpdatedRows);
  }
  return sealedCount;
}
