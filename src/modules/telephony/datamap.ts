import type { TableDataMap } from '../../kernel/datamap/datamap.js';

/** Policy category keys of the telephony data (VX-5). */
export const TELEPHONY_CATEGORIES = {
  number: 'kluis.telephony.number',
  callRecord: 'kluis.telephony.call_record',
} as const;

const CALL_RECORD = { category: TELEPHONY_CATEGORIES.callRecord };

/** Children before parents: call records and assignments reference data_subjects. */
export const telephonyDataMap: TableDataMap[] = [
  {
    // Rejected lines of uploaded imports, kept 30 days for the download (decision 0360). A line the
    // import attributed before refusing it names its customer; the others name nobody it could find.
    table: 'call_record_import_rejects',
    module: 'telephony',
    subjectColumn: 'subject_id',
    erasure: { kind: 'delete_rows' },
    personal: {
      line: CALL_RECORD,
    },
    notPersonal: {
      tenant_id: 'tenant key',
      import_id: 'which import',
      line_number: 'position in the uploaded file',
      reason: 'fixed reject reason code',
      subject_id: 'internal subject id (the subject column)',
    },
  },
  {
    table: 'customer_rating_plans',
    module: 'telephony',
    subjectColumn: 'subject_id',
    // What the customer subscribed to, like a contract line: gone with the person.
    erasure: { kind: 'delete_rows' },
    personal: {
      plan_id: { category: 'kluis.contract.product' },
      valid_from: { category: 'kluis.contract.product' },
    },
    notPersonal: {
      tenant_id: 'tenant key',
      subject_id: 'internal subject id (the subject column)',
      created_at: 'row bookkeeping',
    },
  },
  {
    table: 'call_records',
    module: 'telephony',
    subjectColumn: 'subject_id',
    // A year of calls is the largest table of a portability ZIP: CSV only, as call records are
    // exchanged between providers (decision 0825); the access report gives them as JSON.
    portableAs: 'csv',
    // Retention drops whole months (G-1); a person's erasure deletes their rows in every month.
    erasure: { kind: 'delete_rows' },
    personal: {
      started_at: CALL_RECORD,
      dedup_key: CALL_RECORD,
      caller_e164: CALL_RECORD,
      destination: CALL_RECORD,
      answered_at: CALL_RECORD,
      ended_at: CALL_RECORD,
      duration_seconds: CALL_RECORD,
      billable_seconds: CALL_RECORD,
      disposition: CALL_RECORD,
      is_billable_leg: CALL_RECORD,
      linked_id: CALL_RECORD,
      cost_micros: CALL_RECORD,
      direction: CALL_RECORD,
      b_leg: CALL_RECORD,
    },
    notPersonal: {
      tenant_id: 'tenant key',
      subject_id: 'internal subject id (the subject column), meaningless without the rest of the row',
    },
  },
  {
    // Per-customer monthly call totals, kept with the calls by triggers (decision 0500): derived
    // billing data about the customer, read by the invoice run under call_billing like the calls.
    // Erased with the person (the triggers also lower them as the calls go); a month dropped by
    // retention takes its totals with it.
    table: 'call_record_month_totals',
    module: 'telephony',
    subjectColumn: 'subject_id',
    erasure: { kind: 'delete_rows' },
    personal: {
      month: CALL_RECORD,
      head: CALL_RECORD,
      calls: CALL_RECORD,
      chargeable_calls: CALL_RECORD,
      chargeable_seconds: CALL_RECORD,
      chargeable_cost_micros: CALL_RECORD,
      chargeable_unrated: CALL_RECORD,
      charged_calls: CALL_RECORD,
      charged_seconds: CALL_RECORD,
      charged_cost_micros: CALL_RECORD,
      unrated: CALL_RECORD,
    },
    notPersonal: {
      tenant_id: 'tenant key',
      subject_id: 'internal subject id (the subject column)',
    },
  },
  {
    table: 'number_assignments',
    module: 'telephony',
    subjectColumn: 'subject_id',
    erasure: { kind: 'delete_rows' },
    personal: {
      e164: { category: TELEPHONY_CATEGORIES.number },
      valid_from: { category: TELEPHONY_CATEGORIES.number },
      valid_to: { category: TELEPHONY_CATEGORIES.number },
    },
    notPersonal: {
      tenant_id: 'tenant key',
      assignment_id: 'row id',
      subject_id: 'internal subject id (the subject column)',
      contract_ref: "reference of the provider's contract, a business key",
    },
  },
  {
    // Account codes, channels, extensions, SIP users: which line is whose, like numbers (decision 0230).
    table: 'line_identifiers',
    module: 'telephony',
    subjectColumn: 'subject_id',
    erasure: { kind: 'delete_rows' },
    // Typed by staff: an account code must not be a national register number (VK-16, attack S18-6).
    freeText: { value: 'identifiers', context: 'identifiers' },
    personal: {
      kind: { category: TELEPHONY_CATEGORIES.number },
      value: { category: TELEPHONY_CATEGORIES.number },
      context: { category: TELEPHONY_CATEGORIES.number },
      valid_from: { category: TELEPHONY_CATEGORIES.number },
      valid_to: { category: TELEPHONY_CATEGORIES.number },
    },
    notPersonal: {
      tenant_id: 'tenant key',
      identifier_id: 'row id',
      subject_id: 'internal subject id (the subject column)',
    },
  },
  {
    table: 'phone_numbers',
    module: 'telephony',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      e164: "the provider's number inventory; who held a number is in number_assignments",
      ported_in_at: 'when the provider got the number',
      ported_out_at: 'when the number left the provider',
      created_at: 'row bookkeeping',
    },
  },
  {
    table: 'tariff_rates',
    module: 'telephony',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      prefix: 'destination prefix of the price list',
      valid_from: 'price list validity',
      valid_to: 'price list validity',
      price_per_minute_micros: 'price list',
      minimum_seconds: 'price list',
      increment_seconds: 'price list',
      connection_fee_micros: 'price list',
      scope: 'price list: E.164 or dialled prefix',
      destination_group: 'price list: destination group key',
      group_label: 'price list: destination group name printed on invoices',
      imported_at: 'row bookkeeping',
    },
  },
  {
    table: 'rating_plan_assignments',
    module: 'telephony',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      assignment_id: 'row id',
      plan_id: 'which plan',
      product_id: 'the catalogue product the plan applies to; none: the tenant default',
      valid_from: 'activation day',
      created_at: 'row bookkeeping',
    },
  },
  {
    table: 'call_record_imports',
    module: 'telephony',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      import_id: 'row id',
      file_name: "the imported file's name, no folder (format CHECK)",
      format: 'switch format key',
      status: 'import state',
      started_at: 'row bookkeeping',
      updated_at: 'row bookkeeping',
      finished_at: 'row bookkeeping',
      lines_read: 'count',
      imported: 'count',
      rejected: 'count',
      duplicates: 'count',
      unrated: 'count',
      rejects_by_reason: 'counts per fixed reject reason code',
      error_code: 'fixed error code',
      source: 'file (CLI) or upload (HTTP)',
      size_bytes: 'size of the uploaded file',
      rejects_kept_until: 'retention date of the kept rejected lines',
      committed_rows: 'count',
    },
  },
  {
    table: 'rating_plans',
    module: 'telephony',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      plan_id: 'row id',
      code: 'plan code of the price list',
      name: 'plan name of the price list',
      definition: 'price list: time bands, prices, bundles (validated JSON, no person)',
      created_at: 'row bookkeeping',
    },
  },
  {
    table: 'call_record_partitions',
    module: 'telephony',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      month: 'which month a partition holds',
      partition_name: 'table name',
      created_at: 'row bookkeeping',
    },
  },
];
