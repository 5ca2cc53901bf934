import type { ColumnType, Generated } from 'kysely';

export interface PhoneNumbersTable {
  tenant_id: number;
  e164: string;
  ported_in_at: Date | null;
  ported_out_at: Date | null;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export interface NumberAssignmentsTable {
  tenant_id: number;
  assignment_id: Generated<number>;
  e164: string;
  subject_id: number;
  contract_ref: string | null;
  valid_from: Date;
  valid_to: Date | null;
}

export interface TariffRatesTable {
  tenant_id: number;
  prefix: string;
  valid_from: Date;
  valid_to: Date | null;
  price_per_minute_micros: number;
  minimum_seconds: number;
  increment_seconds: number;
  connection_fee_micros: number;
  scope: ColumnType<'e164' | 'dialled', 'e164' | 'dialled' | undefined, never>;
  destination_group: string | null;
  group_label: string | null;
  imported_at: Date;
}

export type CallDispositionColumn = 'answered' | 'no_answer' | 'busy' | 'failed' | 'congestion' | 'unknown';

/** Written by COPY (cdr-import.service.ts); Kysely reads and re-rates. */
export interface CallRecordsTable {
  tenant_id: number;
  started_at: Date;
  dedup_key: string;
  subject_id: number;
  caller_e164: string;
  destination: string;
  answered_at: Date | null;
  ended_at: Date;
  duration_seconds: number;
  billable_seconds: number;
  disposition: CallDispositionColumn;
  is_billable_leg: boolean;
  linked_id: string | null;
  cost_micros: number | null;
  direction: ColumnType<CallDirectionColumn, CallDirectionColumn | undefined, CallDirectionColumn>;
  b_leg: ColumnType<string | null, string | null | undefined, string | null>;
}

export type CallDirectionColumn = 'outbound' | 'inbound' | 'internal' | 'forwarded';

export type LineIdentifierKind = 'account_code' | 'channel' | 'extension' | 'sip_user';

/** A customer's line identifiers besides numbers, with their validity (decision 0230). */
export interface LineIdentifiersTable {
  tenant_id: number;
  identifier_id: Generated<number>;
  subject_id: number;
  kind: LineIdentifierKind;
  value: string;
  context: ColumnType<string, string | undefined, string>;
  valid_from: Date;
  valid_to: Date | null;
}

export interface CallRecordPartitionsTable {
  tenant_id: number;
  /** First day of the UTC month, as 'YYYY-MM-DD' (pg returns date as Date; we select it as text). */
  month: ColumnType<Date, never, never>;
  partition_name: ColumnType<string, never, never>;
  created_at: ColumnType<Date, never, never>;
}

/**
 * Per customer, Belgian month and destination head: the month's call totals, written only by the
 * triggers on call_records (migration 0500, decision 0500); the app role reads and deletes.
 */
export interface CallRecordMonthTotalsTable {
  tenant_id: number;
  subject_id: number;
  month: ColumnType<string, never, never>;
  head: ColumnType<string, never, never>;
  calls: ColumnType<number, never, never>;
  chargeable_calls: ColumnType<number, never, never>;
  chargeable_seconds: ColumnType<number, never, never>;
  chargeable_cost_micros: ColumnType<number, never, never>;
  chargeable_unrated: ColumnType<number, never, never>;
  charged_calls: ColumnType<number, never, never>;
  charged_seconds: ColumnType<number, never, never>;
  charged_cost_micros: ColumnType<number, never, never>;
  unrated: ColumnType<number, never, never>;
}

export interface RatingPlansTable {
  tenant_id: number;
  plan_id: Generated<number>;
  code: string;
  name: string;
  definition: ColumnType<unknown, string, string>;
  created_at: Date;
}

export interface RatingPlanAssignmentsTable {
  tenant_id: number;
  assignment_id: Generated<number>;
  plan_id: number;
  product_id: number | null;
  valid_from: ColumnType<string, string, string>;
  created_at: Date;
}

export interface CustomerRatingPlansTable {
  tenant_id: number;
  subject_id: number;
  valid_from: ColumnType<string, string, string>;
  plan_id: number;
  created_at: Date;
}

/** One call-record import and its counts (migrations/0330); nothing personal. */
export interface CallRecordImportsTable {
  tenant_id: number;
  import_id: Generated<number>;
  file_name: string;
  format: string;
  status: 'queued' | 'running' | 'finished' | 'failed';
  started_at: Date;
  updated_at: Date;
  finished_at: Date | null;
  lines_read: ColumnType<number, number | undefined, number>;
  imported: ColumnType<number, number | undefined, number>;
  rejected: ColumnType<number, number | undefined, number>;
  duplicates: ColumnType<number, number | undefined, number>;
  unrated: ColumnType<number, number | undefined, number>;
  rejects_by_reason: ColumnType<Record<string, number>, string | undefined, string>;
  error_code: string | null;
  source: ColumnType<'file' | 'upload', 'file' | 'upload' | undefined, 'file' | 'upload'>;
  size_bytes: number | null;
  rejects_kept_until: Date | null;
  /** Rows inserted by the committed batches of this import, over all its runs (decision 0510). */
  committed_rows: ColumnType<number, number | undefined, number>;
}

/** The rejected lines of an uploaded import, kept for a while (decision 0360). */
export interface CallRecordImportRejectsTable {
  tenant_id: number;
  import_id: number;
  line_number: number;
  reason: string;
  subject_id: number | null;
  line: string;
}

export interface TelephonyTables {
  call_record_imports: CallRecordImportsTable;
  call_record_import_rejects: CallRecordImportRejectsTable;
  rating_plans: RatingPlansTable;
  rating_plan_assignments: RatingPlanAssignmentsTable;
  customer_rating_plans: CustomerRatingPlansTable;
  phone_numbers: PhoneNumbersTable;
  number_assignments: NumberAssignmentsTable;
  tariff_rates: TariffRatesTable;
  call_records: CallRecordsTable;
  call_record_partitions: CallRecordPartitionsTable;
  call_record_month_totals: CallRecordMonthTotalsTable;
  line_identifiers: LineIdentifiersTable;
}
