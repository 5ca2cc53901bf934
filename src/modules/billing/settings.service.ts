import { z } from 'zod';
import type { Actor } from '../../kernel/gate/gate.js';
import { validateIban } from '../../kernel/identifiers/iban.js';
import { validateCreditorId } from '../../kernel/identifiers/sepa-creditor.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Policy } from '../../kernel/policy/policy.schema.js';
import { parseEnterpriseNumber } from '../../kernel/identifiers/enterprise-number.js';
import { AppError } from '../../platform/errors.js';
import { conflict, invalid } from './access.js';
import type { SellerSnapshot } from './billing.tables.js';

/** The provider's billing settings are business data; only these roles may change them. */
export const SETTINGS_ROLES: ReadonlySet<string> = new Set(['admin', 'billing']);

export const billingSettingsInputSchema = z.object({
  payeeIban: z.string().trim().min(1).max(60),
  payeeBic: z
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$/, 'a BIC of 8 or 11 characters')
    .nullish(),
  paymentTermDays: z.number().int().min(0).max(120).default(30),
  /** The SEPA creditor identifier direct debits are collected under (BT-90). */
  sepaCreditorId: z.string().trim().min(1).max(40).nullish(),
  /** Dunning (decision 0300); left out, the stored schedule stays (new settings: on, 14/28/42). */
  reminders: z
    .strictObject({
      enabled: z.boolean(),
      firstReminderDays: z.number().int().min(1).max(365),
      secondReminderDays: z.number().int().min(2).max(729),
      formalNoticeDays: z.number().int().min(3).max(730),
    })
    .refine((r) => r.firstReminderDays < r.secondReminderDays && r.secondReminderDays < r.formalNoticeDays, {
      message: 'the days of the first reminder, the second and the formal notice must increase',
    })
    .optional(),
});

export type BillingSettingsInput = z.input<typeof billingSettingsInputSchema>;

/** When overdue invoices are reminded: days after the due date per level (decision 0300). */
export interface ReminderSchedule {
  enabled: boolean;
  firstReminderDays: number;
  secondReminderDays: number;
  formalNoticeDays: number;
}

export interface BillingSettings {
  payeeIban: string;
  payeeBic: string | null;
  paymentTermDays: number;
  sepaCreditorId: string | null;
  reminders: ReminderSchedule;
}

export async function setBillingSettings(
  kernel: Kernel,
  tenantId: number,
  actor: Actor,
  input: BillingSettingsInput,
): Promise<BillingSettings> {
  if (actor.kind === 'staff' && !SETTINGS_ROLES.has(actor.role)) {
    throw new AppError('role_not_allowed', `role ${actor.role} may not change billing settings`, {
      publicMessage: `role ${actor.role} may not change billing settings`,
    });
  }
  const parsed = billingSettingsInputSchema.safeParse(input);
  if (!parsed.success) {
    throw invalid(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  }
  const iban = validateIban(parsed.data.payeeIban);
  if (!iban.ok) throw invalid(`payeeIban: not a valid IBAN (${iban.reason.replaceAll('_', ' ')})`);
  const creditor = parsed.data.sepaCreditorId ? validateCreditorId(parsed.data.sepaCreditorId) : undefined;
  if (creditor && !creditor.ok) {
    throw invalid(
      `sepaCreditorId: not a valid SEPA creditor identifier (${creditor.reason.replaceAll('_', ' ')})`,
    );
  }
  const row = {
    tenant_id: tenantId,
    payee_iban: iban.iban,
    payee_bic: parsed.data.payeeBic ?? null,
    payment_term_days: parsed.data.paymentTermDays,
    sepa_creditor_id: creditor?.ok ? creditor.creditorId : null,
    updated_at: kernel.clock.now(),
  };
  const reminders = parsed.data.reminders;
  const schedule = reminders
    ? {
        reminders_enabled: reminders.enabled,
        first_reminder_days: reminders.firstReminderDays,
        second_reminder_days: reminders.secondReminderDays,
        formal_notice_days: reminders.formalNoticeDays,
      }
    : {};
  const stored = await kernel.plain(tenantId, (tx) =>
    tx
      .insertInto('billing_settings')
      .values({ ...row, ...schedule })
      .onConflict((oc) =>
        oc.column('tenant_id').doUpdateSet({
          payee_iban: row.payee_iban,
          payee_bic: row.payee_bic,
          payment_term_days: row.payment_term_days,
          sepa_creditor_id: row.sepa_creditor_id,
          updated_at: row.updated_at,
          ...schedule,
        }),
      )
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
  return presentSettings(stored);
}

function presentSettings(row: {
  payee_iban: string;
  payee_bic: string | null;
  payment_term_days: number;
  sepa_creditor_id: string | null;
  reminders_enabled: boolean;
  first_reminder_days: number;
  second_reminder_days: number;
  formal_notice_days: number;
}): BillingSettings {
  return {
    payeeIban: row.payee_iban,
    payeeBic: row.payee_bic,
    paymentTermDays: row.payment_term_days,
    sepaCreditorId: row.sepa_creditor_id,
    reminders: {
      enabled: row.reminders_enabled,
      firstReminderDays: row.first_reminder_days,
      secondReminderDays: row.second_reminder_days,
      formalNoticeDays: row.formal_notice_days,
    },
  };
}

export async function getBillingSettings(
  kernel: Kernel,
  tenantId: number,
): Promise<BillingSettings | undefined> {
  const row = await kernel.plain(tenantId, (tx) =>
    tx.selectFrom('billing_settings').selectAll().executeTakeFirst(),
  );
  return row && presentSettings(row);
}

/** The seller as printed: the policy's controller and the payee account of the settings. */
export async function loadSeller(
  kernel: Kernel,
  tenantId: number,
  policy: Policy,
): Promise<{ snapshot: SellerSnapshot; paymentTermDays: number }> {
  const settings = await getBillingSettings(kernel, tenantId);
  if (!settings) {
    throw conflict(
      "set the provider's payee account first (PUT /api/v1/billing/settings or kluis billing settings)",
    );
  }
  const controller = policy.controller;
  const enterprise = parseEnterpriseNumber(controller.enterpriseNumber ?? '');
  if (!enterprise.ok) throw conflict("the policy's controller has no valid enterprise number");
  return {
    snapshot: {
      legalName: controller.legalName,
      ...(controller.legalForm ? { legalForm: controller.legalForm } : {}),
      enterpriseNumber: enterprise.value,
      street: controller.address.street,
      postalCode: controller.address.postalCode,
      city: controller.address.city,
      country: controller.address.country,
      ...(controller.email ? { email: controller.email } : {}),
      payeeIban: settings.payeeIban,
      ...(settings.payeeBic ? { payeeBic: settings.payeeBic } : {}),
      ...(settings.sepaCreditorId ? { sepaCreditorId: settings.sepaCreditorId } : {}),
    },
    paymentTermDays: settings.paymentTermDays,
  };
}
