import type { ColumnType, Generated } from 'kysely';

export interface DataSubjectsTable {
  tenant_id: number;
  subject_id: Generated<number>;
  subject_type: string;
  restricted_at: Date | null;
  /** Art. 18(3): the day an announced lifting of the restriction takes effect (decision 1200). */
  restriction_lift_on: ColumnType<string | null, string | null | undefined, string | null>;
  marketing_objected_at: Date | null;
  erased_at: Date | null;
  minor_until: ColumnType<string | null, string | null | undefined, string | null>;
  parental_consent_at: Date | null;
  last_activity_at: ColumnType<Date, Date | undefined, Date>;
  /** The collection clock (decision 0916): not moved by a portal login or a rights request. */
  last_received_at: ColumnType<Date, Date | undefined, Date>;
  created_at: ColumnType<Date, Date | undefined, never>;
}

/** 'pending': a newsletter sign-up waiting for its double opt-in confirmation (decision 0130). */
export type PurposeState = 'consented' | 'withdrawn' | 'objected' | 'pending';

export interface SubjectPurposeStatesTable {
  tenant_id: number;
  subject_id: number;
  purpose: string;
  state: PurposeState;
  policy_version: string;
  channel: string;
  changed_at: Date;
}

export interface SubjectTables {
  data_subjects: DataSubjectsTable;
  subject_purpose_states: SubjectPurposeStatesTable;
}
