import type { TableDataMap } from '../../kernel/datamap/datamap.js';

/** Policy category keys of billing data (VX-3, VK-2). Both seed policies declare every one. */
export const BILLING_CATEGORIES = {
  name: 'user.name',
  address: 'user.contact.address',
  bankAccount: 'user.financial.bank_account',
  creditScore: 'kluis.financial.credit_score',
  payment: 'kluis.billing.payment',
  product: 'kluis.contract.product',
  callRecord: 'kluis.telephony.call_record',
} as const;

/**
 * The customer's preferred language: read when a document is issued, where the issuing purpose
 * covers it (VoiceKing's billing does; Voxtra declares no language), to write it in (decision 0310).
 */
export const LANGUAGE_CATEGORY = 'user.demographic.language';

/** The legal hold (policy key) that keeps invoices, their party snapshot and payments. */
export const ACCOUNTING_HOLD = 'accounting';

const C = BILLING_CATEGORIES;
const HELD = { kind: 'held', legalHold: ACCOUNTING_HOLD, then: 'null_personal' } as const;
const UNLINKED =
  'about a person only through subject_id and the buyer snapshot, which the end of the accounting ' +
  'hold nulls: the amounts stay as anonymous bookkeeping figures';

/** Children before parents (erasure walks this order). */
export const billingDataMap: TableDataMap[] = [
  {
    table: 'payments',
    module: 'billing',
    subjectColumn: 'subject_id',
    // An accounting document: kept under the hold, unlinked from the person when it ends.
    erasure: HELD,
    personal: { subject_id: { category: C.payment } },
    notPersonal: {
      tenant_id: 'tenant key',
      payment_id: 'row id',
      bank_reference: "the bank's reference of the transaction (a bank statement line id)",
      value_date: UNLINKED,
      amount_cents: UNLINKED,
      structured_communication: `the invoice's payment reference; ${UNLINKED}`,
      invoice_id: 'the invoice paid',
      imported_at: 'row bookkeeping',
    },
  },
  {
    table: 'invoice_lines',
    module: 'billing',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      invoice_id: 'parent invoice',
      line_no: 'position of the line',
      kind: 'fixed key (subscription, calls, correction)',
      description: 'catalogue product name or destination class label, never a number or a name',
      product_id: 'catalogue product',
      contract_id: "the contract billed; about a person only through the invoice's subject_id",
      destination_class: 'fixed key: calls are summarised per class, never listed on the line',
      destination_group: "the tariff's destination group key of a calls line, never a number",
      calls_month: 'the month a calls line bills when it is not the invoice period (late calls)',
      call_count: `a monthly total; ${UNLINKED}`,
      call_seconds: `a monthly total; ${UNLINKED}`,
      quantity: `a commercial fact; ${UNLINKED}`,
      unit_price_cents: `a commercial fact; ${UNLINKED}`,
      amount_cents: `a commercial fact; ${UNLINKED}`,
      vat_rate_bp: 'tax rate of the line',
      vat_category: 'fixed key: the VAT category (UNCL5305) of the line',
      vat_exemption_code: 'a VATEX code (format CHECK)',
      vat_exemption_reason: 'the legal ground of a VAT exemption, copied from the product (scanned there)',
    },
    freeText: { vat_exemption_reason: 'identifiers' },
  },
  {
    table: 'invoice_call_months',
    module: 'billing',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      invoice_id: 'parent invoice',
      calls_month: "the month of calls billed (not the invoice's own period: that is on the invoice)",
      calls: `a monthly total; ${UNLINKED}`,
      seconds: `a monthly total; ${UNLINKED}`,
      cost_micros: `a monthly total; ${UNLINKED}`,
    },
  },
  {
    table: 'invoice_disputes',
    module: 'billing',
    subjectColumn: 'subject_id',
    // An open dispute holds the invoice, its customer and its calls (decision 0415).
    holdsSubject: { kind: 'dispute', openWhileNull: 'closed_at' },
    // Part of the invoice's file: kept with it under the accounting hold.
    erasure: HELD,
    personal: {
      subject_id: { category: C.payment },
      reason: { category: C.payment },
    },
    freeText: { reason: 'all' },
    notPersonal: {
      tenant_id: 'tenant key',
      dispute_id: 'row id',
      invoice_id: 'the disputed document',
      opened_at: 'when the dispute was recorded',
      opened_by_staff_id: 'staff id',
      closed_at: 'when the dispute was settled',
      closed_by_staff_id: 'staff id',
    },
  },
  {
    table: 'invoice_reminders',
    module: 'billing',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      invoice_id: 'the invoice reminded',
      level: 'fixed key: 1 first reminder, 2 second, 3 formal notice',
      sent_on: `when the level was reached; ${UNLINKED}`,
      pay_by: `the day the letter asked payment by; ${UNLINKED}`,
      balance_cents: `the amount the letter asked; ${UNLINKED}`,
      mailed: 'whether the letter had an address to go to (its content is in the sealed letter outbox)',
      letter_id: 'the sealed letter (kernel outbox, decision 0190)',
      created_at: 'row bookkeeping',
    },
  },
  {
    table: 'invoice_collections',
    module: 'billing',
    subjectColumn: 'subject_id',
    // An open hand-over is a legal claim in progress: it holds its customer (decision 0465).
    holdsSubject: { kind: 'collection', openWhileNull: 'closed_at' },
    // Part of the invoice's file: kept with it under the accounting hold.
    erasure: HELD,
    personal: {
      subject_id: { category: C.payment },
    },
    notPersonal: {
      tenant_id: 'tenant key',
      invoice_id: 'the invoice handed over',
      handed_over_at: `when it was handed over for collection; ${UNLINKED}`,
      handed_over_by_staff_id: 'staff id (staff are their own subjects, docs/decisions/0006)',
      closed_at: 'when the hand-over closed (invoice settled, or closed by staff)',
      closed_by_staff_id: 'staff id (staff are their own subjects, docs/decisions/0006)',
      closed_because: "fixed key: 'paid', 'credited' or 'staff' (CHECK)",
    },
  },
  {
    table: 'invoices',
    module: 'billing',
    subjectColumn: 'subject_id',
    // The party snapshot is in clear on purpose (docs/decisions/0040-billing.md): encrypting it
    // under the subject's key would keep that key alive for ten years and defeat crypto-shredding.
    erasure: HELD,
    personal: {
      subject_id: { category: C.payment },
      buyer_name: { category: C.name },
      buyer_street: { category: C.address },
      buyer_postal_code: { category: C.address },
      buyer_city: { category: C.address },
      buyer_country: { category: C.address },
      // A sole trader's enterprise number identifies the person.
      buyer_enterprise_number: { category: C.payment },
      // Masked (country code and last four characters, a CHECK holds it): the encrypted original
      // in bank_accounts is shredded on erasure and nothing here can restore it (decision 0066).
      buyer_iban: { category: C.bankAccount },
      buyer_mandate: { category: C.payment },
      buyer_vat_registered: { category: C.payment },
      buyer_reference: { category: C.payment },
      buyer_order_reference: { category: C.payment },
      buyer_vat_number: { category: C.payment },
      buyer_peppol_scheme: { category: C.payment },
      buyer_peppol_id: { category: C.payment },
      // The language the document is written in (decision 0310): a fact of the bill, CHECKed.
      buyer_language: { category: C.payment },
    },
    notPersonal: {
      tenant_id: 'tenant key',
      invoice_id: 'row id',
      kind: 'fixed key (invoice, credit_note)',
      series: 'numbering series',
      year: 'numbering year',
      number: 'sequential number',
      invoice_number: 'the document number',
      organisation_id: 'business customer (a company)',
      credited_invoice_id: 'the invoice a credit note corrects',
      period_start: `billing period; ${UNLINKED}`,
      period_end: `billing period; ${UNLINKED}`,
      issue_date: `document date; ${UNLINKED}`,
      due_date: `document date; ${UNLINKED}`,
      hold_until: 'end of the accounting retention (computed from the issue date)',
      currency: 'currency code',
      total_excl_vat_cents: UNLINKED,
      vat_cents: UNLINKED,
      total_incl_vat_cents: UNLINKED,
      paid_cents: UNLINKED,
      credited_cents: UNLINKED,
      structured_communication: `the document's payment reference; ${UNLINKED}`,
      itemised_calls: 'a contract option (fixed flag)',
      credit_reason: 'fixed reason code, never free text',
      seller: "the provider's own identity and payee account (a company)",
      created_by_staff_id: 'staff id (staff are their own subjects, docs/decisions/0006)',
      created_at: 'row bookkeeping',
      period_calls: `the period's calls billed, a monthly total; ${UNLINKED}`,
      period_call_seconds: `the period's calls billed, a monthly total; ${UNLINKED}`,
      period_call_cost_micros: `the period's calls billed, a monthly total; ${UNLINKED}`,
    },
  },
  {
    table: 'invoice_counters',
    module: 'billing',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      series: 'numbering series',
      year: 'numbering year',
      last_number: 'last number issued',
    },
  },
  {
    table: 'invoice_numbering_holds',
    module: 'billing',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      held_at: 'when a data restore held the numbering',
      backup_created_at: 'when the restored data backup was made',
      reason: 'fixed reason code',
    },
  },
  {
    table: 'contract_billing_options',
    module: 'billing',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      contract_id: "the contract; about a person only through the contract's subject_id",
      itemised_calls: 'a contract option (fixed flag)',
      purchase_order_number:
        "the buyer's purchase-order number (a company's document code: format CHECK, scanned for identifiers)",
      buyer_reference:
        "the buyer's own routing reference, e.g. a cost centre (a code: format CHECK, scanned for identifiers)",
      updated_at: 'row bookkeeping',
    },
  },
  {
    table: 'credit_scores',
    module: 'billing',
    subjectColumn: 'subject_id',
    rowIdColumn: 'credit_score_id',
    erasure: { kind: 'delete_rows' },
    personal: {
      score_enc: { category: C.creditScore, encrypted: true },
      source: { category: C.creditScore },
      observed_on: { category: C.creditScore },
    },
    notPersonal: {
      tenant_id: 'tenant key',
      credit_score_id: 'row id',
      subject_id: 'internal subject id (the subject column)',
      recorded_by_staff_id: 'staff id (staff are their own subjects, docs/decisions/0006)',
      created_at: 'row bookkeeping',
    },
  },
  {
    table: 'bank_accounts',
    module: 'billing',
    subjectColumn: 'subject_id',
    rowIdColumn: 'bank_account_id',
    // The account itself goes; an IBAN printed on an invoice stays in that invoice's snapshot.
    erasure: { kind: 'delete_rows' },
    personal: {
      iban_enc: { category: C.bankAccount, encrypted: true },
      iban_bidx: { category: C.bankAccount, blindIndexOf: 'iban_enc' },
      direct_debit_mandate: { category: C.payment },
      mandate_signed_on: { category: C.payment },
    },
    notPersonal: {
      tenant_id: 'tenant key',
      bank_account_id: 'row id',
      subject_id: 'internal subject id (the subject column)',
      created_at: 'row bookkeeping',
    },
  },
  {
    table: 'billing_settings',
    module: 'billing',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      payee_iban: "the provider's own account (a company)",
      payee_bic: "the provider's bank",
      payment_term_days: 'payment terms',
      sepa_creditor_id: "the provider's SEPA creditor identifier (a company)",
      reminders_enabled: 'whether the provider sends payment reminders',
      first_reminder_days: 'dunning schedule (days after the due date)',
      second_reminder_days: 'dunning schedule (days after the due date)',
      formal_notice_days: 'dunning schedule (days after the due date)',
      updated_at: 'row bookkeeping',
    },
  },
];
