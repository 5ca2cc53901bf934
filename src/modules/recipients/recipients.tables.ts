import type { ColumnType, Generated } from 'kysely';

type Fixed<T> = ColumnType<T, T, never>;

/** A request of a judicial authority or the police (migrations/0151). */
export interface AuthorityRequestsTable {
  tenant_id: Fixed<number>;
  authority_request_id: Generated<number>;
  recipient: Fixed<string>;
  purpose: Fixed<string>;
  authority: Fixed<string>;
  authority_country: Fixed<string>;
  legal_basis_cited: Fixed<string>;
  order_reference: Fixed<string>;
  categories: Fixed<string[]>;
  period_from: Fixed<string | null>;
  period_to: Fixed<string | null>;
  decision: Fixed<'disclose' | 'refuse'>;
  decision_note: Fixed<string | null>;
  confidential_until: Fixed<string | null>;
  state: 'awaiting_approval' | 'approved' | 'refused' | 'disclosed';
  registered_by_staff_id: Fixed<number>;
  registered_at: Fixed<Date>;
  approved_by_staff_id: number | null;
  approved_at: Date | null;
  disclosed_by_staff_id: number | null;
  disclosed_at: Date | null;
  disclosure_id: number | null;
}

export interface AuthorityRequestSubjectsTable {
  tenant_id: Fixed<number>;
  authority_request_id: Fixed<number>;
  subject_id: Fixed<number>;
}

export interface RecipientsTables {
  authority_requests: AuthorityRequestsTable;
  authority_request_subjects: AuthorityRequestSubjectsTable;
}
