import { createPrivateKey } from 'node:crypto';
import { z } from 'zod';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tx } from '../../platform/db.js';
import { AppError } from '../../platform/errors.js';

export const mailSettingsInputSchema = z
  .object({
    fromAddress: z.string().trim().toLowerCase().email().max(320).describe('the sender of mailings'),
    dkim: z
      .object({
        domain: z
          .string()
          .trim()
          .toLowerCase()
          .regex(/^[a-z0-9.-]+$/)
          .max(253),
        selector: z
          .string()
          .trim()
          .regex(/^[A-Za-z0-9._-]+$/)
          .max(63),
        privateKey: z.string().trim().max(10_000).describe('PEM; never shown back'),
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

/** The settings as shown: never the key itself. */
export interface MailSettingsView {
  fromAddress: string | null;
  dkim: { domain: string; selector: string } | null;
  ratePerSecond: number;
}

export async function readMailSettings(tx: Tx): Promise<MailSettings | undefined> {
  const row = await tx.selectFrom('mail_settings').selectAll().executeTakeFirst();
  if (!row) return undefined;
  return {
    fromAddress: row.from_address,
    dkim:
      row.dkim_domain && row.dkim_selector && row.dkim_private_key
        ? { domain: row.dkim_domain, selector: row.dkim_selector, privateKey: row.dkim_private_key }
        : null,
    ratePerSecond: row.rate_per_second,
  };
}

export function presentMailSettings(settings: MailSettings | undefined): MailSettingsView {
  return {
    fromAddress: settings?.fromAddress ?? null,
    dkim: settings?.dkim ? { domain: settings.dkim.domain, selector: settings.dkim.selector } : null,
    ratePerSecond: settings?.ratePerSecond ?? 10,
  };
}

/** Sets a tenant's sender and DKIM key (the key is checked to be a private key, never echoed). */
export async function writeMailSettings(
  kernel: Kernel,
  tenantId: number,
  input: MailSettingsInput,
): Promise<MailSettingsView> {
  const data = mailSettingsInputSchema.parse(input);
  if (data.dkim) {
    try {
      const key = createPrivateKey(data.dkim.privateKey);
      if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'ed25519') throw new Error('key type');
    } catch {
      throw new AppError('validation_failed', 'bad DKIM key', {
        publicMessage: 'dkim.privateKey: expected an RSA or Ed25519 private key in PEM',
        details: { issues: [{ path: 'body/dkim/privateKey', message: 'not a usable private key' }] },
      });
    }
  }
  const now = kernel.clock.now();
  const values = {
    from_address: data.fromAddress,
    dkim_domain: data.dkim?.domain ?? null,
    dkim_selector: data.dkim?.selector ?? null,
    dkim_private_key: data.dkim?.privateKey ?? null,
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
