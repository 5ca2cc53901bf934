import type { ColumnType, Generated } from 'kysely';

/** One disclosure of personal data to a recipient of the policy (migrations/0150). Append-only. */
export interface DisclosuresTable {
  tenant_id: ColumnType<number, number, never>;
  disclosure_id: Generated<number>;
  at: ColumnType<Date, Date, never>;
  recipient: ColumnType<string, string, never>;
  recipient_kind: ColumnType<string, string, never>;
  destination_country: ColumnType<string, string, never>;
  purpose: ColumnType<string, string, never>;
  legal_basis: ColumnType<string, string, never>;
  categories: ColumnType<string[], string[], never>;
  subject_count: ColumnType<number, number, never>;
  actor_kind: ColumnType<string, string, never>;
  actor_id: ColumnType<string, string, never>;
  role: ColumnType<string | null, string | null, never>;
  reference: ColumnType<string, string, never>;
  authority_request_id: ColumnType<number | null, number | null, never>;
  confidential_until: ColumnType<string | null, string | null, never>;
  request_id: ColumnType<string | null, string | null, never>;
}

/** The persons a disclosure concerned, by keyed pseudonym. */
export interface DisclosureSubjectsTable {
  tenant_id: ColumnType<number, number, never>;
  disclosure_id: ColumnType<number, number, never>;
  pseudonym: ColumnType<string, string, never>;
}

export interface DisclosureTables {
  disclosures: DisclosuresTable;
  disclosure_subjects: DisclosureSubjectsTable;
}
