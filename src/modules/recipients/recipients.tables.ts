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

/** The incident register (migrations/0152). */
export interface IncidentsTable {
  tenant_id: Fixed<number>;
  incident_id: Generated<number>;
  kind: Fixed<'misuse' | 'insecurity' | 'breach' | 'other'>;
  source: Fixed<'public_form' | 'staff'>;
  description: Fixed<string>;
  noticed_at: Fixed<Date>;
  reported_at: Fixed<Date>;
  reported_by_staff_id: Fixed<number | null>;
  is_breach: Generated<boolean>;
  aware_at: Date | null;
  affected_categories: Generated<string[]>;
  affected_tables: Generated<string[]>;
  affected_count: Generated<number>;
  risk: 'none' | 'low' | 'high' | null;
  risk_assessment: string | null;
  measures: string | null;
  /** The latest assessment's text of what happened (migrations/0895). */
  what_happened: string | null;
  assessed_at: Date | null;
  assessed_by_staff_id: number | null;
  authority_decision: Generated<'pending' | 'notified' | 'not_notified'>;
  authority_reason: string | null;
  authority_decided_at: Date | null;
  persons_decision: Generated<'pending' | 'inform' | 'not_inform'>;
  persons_reason: string | null;
  persons_decided_at: Date | null;
  last_reminder_hour: number | null;
}

export interface IncidentSubjectsTable {
  tenant_id: Fixed<number>;
  incident_id: Fixed<number>;
  subject_id: Fixed<number>;
  letter_sent_at: Date | null;
}

/** Every assessment of an incident as it was made; append-only (migrations/0840). */
export interface IncidentAssessmentsTable {
  tenant_id: Fixed<number>;
  incident_id: Fixed<number>;
  assessment_no: Fixed<number>;
  is_breach: Fixed<boolean>;
  risk: Fixed<'none' | 'low' | 'high'>;
  risk_assessment: Fixed<string>;
  measures: Fixed<string>;
  affected_categories: Fixed<string[]>;
  affected_tables: Fixed<string[]>;
  affected_count: Fixed<number>;
  change_reason: Fixed<string | null>;
  /** The officer's text of what happened; null before migrations/0895. */
  what_happened: Fixed<string | null>;
  assessed_at: Fixed<Date>;
  assessed_by_staff_id: Fixed<number | null>;
}

/** Every decision on a breach as it was taken; append-only (migrations/1070). */
export interface IncidentDecisionsTable {
  tenant_id: Fixed<number>;
  incident_id: Fixed<number>;
  decision_no: Fixed<number>;
  addressee: Fixed<'authority' | 'persons'>;
  decision: Fixed<'notified' | 'not_notified' | 'supplemented' | 'inform' | 'not_inform'>;
  reason: Fixed<string | null>;
  assessment_no: Fixed<number | null>;
  letters_queued: Fixed<number>;
  decided_at: Fixed<Date>;
  decided_by_staff_id: Fixed<number | null>;
}

export interface RecipientsTables {
  incidents: IncidentsTable;
  incident_decisions: IncidentDecisionsTable;
  incident_assessments: IncidentAssessmentsTable;
  incident_subjects: IncidentSubjectsTable;
  authority_requests: AuthorityRequestsTable;
  authority_request_subjects: AuthorityRequestSubjectsTable;
}
