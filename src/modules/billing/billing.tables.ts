import type { ColumnType, Generated } from 'kysely';
import type { VatCategory } from '../contracts/index.js';

/** A `date` column, always selected as `::text` (YYYY-MM-DD) so no time zone touches it. */
type DateColumn = ColumnType<string, string, string>;

export type InvoiceKind = 'invoice' | 'credit_note';
/** The languages a document for people is written in (decision 0310). */
export type DocumentLanguage = 'nl' | 'fr' | 'en';
export type InvoiceSeries = 'F' | 'C';
export type InvoiceLineKind = 'subscription' | 'calls' | 'correction';
export type DestinationClass = 'be_fixed' | 'be_mobile' | 'international' | 'special';

export interface BillingSettingsTable {
  tenant_id: number;
  payee_iban: string;
  payee_bic: string | null;
  payment_term_days: number;
  sepa_creditor_id: string | null;
  /** Dunning (migrations/0300): on, and the days after the due date of each level. */
  reminders_enabled: ColumnType<boolean, boolean | undefined, boolean>;
  first_reminder_days: ColumnType<number, number | undefined, number>;
  second_reminder_days: ColumnType<number, number | undefined, number>;
  formal_notice_days: ColumnType<number, number | undefined, number>;
  updated_at: Date;
}

export interface BankAccountsTable {
  tenant_id: number;
  bank_account_id: Generated<number>;
  subject_id: number;
  iban_enc: Buffer;
  iban_bidx: Buffer;
  direct_debit_mandate: string | null;
  mandate_signed_on: DateColumn | null;
  created_at: Date;
}

export interface CreditScoresTable {
  tenant_id: number;
  credit_score_id: Generated<number>;
  subject_id: number;
  score_enc: Buffer;
  source: string;
  observed_on: DateColumn;
  recorded_by_staff_id: number | null;
  created_at: Date;
}

export interface ContractBillingOptionsTable {
  tenant_id: number;
  contract_id: number;
  itemised_calls: ColumnType<boolean, boolean | undefined, boolean>;
  purchase_order_number: string | null;
  buyer_reference: string | null;
  updated_at: Date;
}

export interface InvoiceCountersTable {
  tenant_id: number;
  series: InvoiceSeries;
  year: number;
  last_number: number;
}

/** A data restore's hold on a tenant's numbering (decision 1320): while it exists, no number is taken. */
export interface InvoiceNumberingHoldsTable {
  tenant_id: number;
  held_at: Date;
  backup_created_at: Date;
  reason: 'data_restored';
}

/** The seller as printed on the document (the provider: business data, from its policy). */
export interface SellerSnapshot {
  legalName: string;
  legalForm?: string;
  enterpriseNumber: string;
  street: string;
  postalCode: string;
  city: string;
  country: string;
  email?: string;
  payeeIban: string;
  payeeBic?: string;
  /** BT-90, on direct-debit invoices. */
  sepaCreditorId?: string;
}

export interface InvoicesTable {
  tenant_id: number;
  invoice_id: Generated<number>;
  kind: InvoiceKind;
  series: InvoiceSeries;
  year: number;
  number: number;
  invoice_number: string;
  subject_id: number | null;
  organisation_id: number | null;
  credited_invoice_id: number | null;
  period_start: DateColumn | null;
  period_end: DateColumn | null;
  issue_date: DateColumn;
  due_date: DateColumn;
  hold_until: DateColumn;
  currency: string;
  total_excl_vat_cents: number;
  vat_cents: number;
  total_incl_vat_cents: number;
  paid_cents: ColumnType<number, number | undefined, number>;
  credited_cents: ColumnType<number, number | undefined, number>;
  structured_communication: string;
  itemised_calls: boolean;
  credit_reason: string | null;
  buyer_name: string | null;
  buyer_street: string | null;
  buyer_postal_code: string | null;
  buyer_city: string | null;
  buyer_country: string | null;
  buyer_enterprise_number: string | null;
  buyer_iban: string | null;
  buyer_mandate: string | null;
  buyer_vat_registered: boolean | null;
  buyer_reference: string | null;
  buyer_order_reference: string | null;
  buyer_vat_number: string | null;
  buyer_peppol_scheme: string | null;
  buyer_peppol_id: string | null;
  buyer_language: DocumentLanguage | null;
  seller: ColumnType<SellerSnapshot, string, string>;
  created_by_staff_id: number | null;
  created_at: Date;
  /** What the invoice bills of its own period's calls (G-1, migrations/0695); null: no record. */
  period_calls: ColumnType<number | null, number | null | undefined, never>;
  period_call_seconds: ColumnType<number | null, number | null | undefined, never>;
  period_call_cost_micros: ColumnType<number | null, number | null | undefined, never>;
}

export interface InvoiceLinesTable {
  tenant_id: number;
  invoice_id: number;
  line_no: number;
  kind: InvoiceLineKind;
  description: string;
  product_id: number | null;
  contract_id: number | null;
  destination_class: DestinationClass | null;
  destination_group: ColumnType<string | null, string | null | undefined, string | null>;
  calls_month: ColumnType<string | null, string | null | undefined, string | null>;
  call_count: number | null;
  call_seconds: number | null;
  quantity: number;
  unit_price_cents: number;
  amount_cents: number;
  vat_rate_bp: number;
  /** NULL on lines written before categories existed: S above 0 %, Z at 0 %. */
  vat_category: VatCategory | null;
  vat_exemption_code: string | null;
  vat_exemption_reason: string | null;
}

export interface PaymentsTable {
  tenant_id: number;
  payment_id: Generated<number>;
  bank_reference: string;
  value_date: DateColumn;
  amount_cents: number;
  structured_communication: string | null;
  invoice_id: number | null;
  subject_id: number | null;
  imported_at: Date;
}

/** A dispute on an invoice (migrations/0111): while open, retention keeps what the bill needs. */
export interface InvoiceDisputesTable {
  tenant_id: ColumnType<number, number, never>;
  dispute_id: Generated<number>;
  invoice_id: ColumnType<number, number, never>;
  subject_id: number | null;
  reason: string | null;
  opened_at: ColumnType<Date, Date, never>;
  opened_by_staff_id: ColumnType<number | null, number | null, never>;
  closed_at: Date | null;
  closed_by_staff_id: number | null;
}

/**
 * What an invoice billed of one month's calls other than its own period's (late calls, billed by
 * difference, G-1); its own period's record is on the invoice row (migrations/0695).
 */
export interface InvoiceCallMonthsTable {
  tenant_id: number;
  invoice_id: number;
  calls_month: ColumnType<string, string, never>;
  calls: number;
  seconds: number;
  cost_micros: number;
}

/** A dunning level reached by an invoice (migrations/0300): 1, 2 reminders, 3 the formal notice. */
export interface InvoiceRemindersTable {
  tenant_id: ColumnType<number, number, never>;
  invoice_id: ColumnType<number, number, never>;
  level: ColumnType<number, number, never>;
  sent_on: ColumnType<string, string, never>;
  pay_by: ColumnType<string, string, never>;
  balance_cents: ColumnType<number, number, never>;
  mailed: ColumnType<boolean, boolean, never>;
  letter_id: ColumnType<string, string, never>;
  created_at: ColumnType<Date, Date, never>;
}

/** How a hand-over for collection closed (decision 0465). */
export type CollectionClosedBecause = 'paid' | 'credited' | 'staff';

/**
 * An invoice handed over for collection after its formal notice (migrations/0300); while open
 * (`closed_at` null) it holds its customer from erasure (migrations/0465, decision 0465).
 */
export interface InvoiceCollectionsTable {
  tenant_id: ColumnType<number, number, never>;
  invoice_id: ColumnType<number, number, never>;
  handed_over_at: ColumnType<Date, Date, never>;
  handed_over_by_staff_id: ColumnType<number | null, number | null, never>;
  subject_id: number | null;
  closed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  closed_by_staff_id: ColumnType<number | null, number | null | undefined, number | null>;
  closed_because: ColumnType<
    CollectionClosedBecause | null,
    CollectionClosedBecause | null | undefined,
    CollectionClosedBecause | null
  >;
}

export interface BillingTables {
  invoice_reminders: InvoiceRemindersTable;
  invoice_collections: InvoiceCollectionsTable;
  invoice_call_months: InvoiceCallMonthsTable;
  invoice_disputes: InvoiceDisputesTable;
  billing_settings: BillingSettingsTable;
  bank_accounts: BankAccountsTable;
  credit_scores: CreditScoresTable;
  contract_billing_options: ContractBillingOptionsTable;
  invoice_counters: InvoiceCountersTable;
  invoice_numbering_holds: InvoiceNumberingHoldsTable;
  invoices: InvoicesTable;
  invoice_lines: InvoiceLinesTable;
  payments: PaymentsTable;
}

/** An invoice's status: derived from its amounts and today, never stored (invoice.service statusOf). */
export const INVOICE_STATUSES = [
  'open',
  'overdue',
  'partially_paid',
  'paid',
  'overpaid',
  'credited',
  'credit_note',
] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];
