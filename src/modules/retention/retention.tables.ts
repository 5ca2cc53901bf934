import type { ColumnType, Generated } from 'kysely';

/** A legal hold a privacy officer places on a person (migrations/0095). */
export interface LegalHoldsTable {
  tenant_id: ColumnType<number, number, never>;
  hold_id: Generated<number>;
  subject_id: ColumnType<number, number, never>;
  reason: ColumnType<string, string, never>;
  ends_on: ColumnType<string, string, never>;
  placed_at: ColumnType<Date, Date, never>;
  placed_by_staff_id: ColumnType<number | null, number | null, never>;
  released_at: Date | null;
  released_by_staff_id: number | null;
  /** The case this hold is part of (migrations/0111), or none. */
  case_id: ColumnType<number | null, number | null | undefined, never>;
}

/** A case a privacy officer holds, covering several persons (migrations/0111). */
export interface LegalHoldCasesTable {
  tenant_id: ColumnType<number, number, never>;
  case_id: Generated<number>;
  name: ColumnType<string, string, never>;
  ends_on: ColumnType<string, string, never>;
  placed_at: ColumnType<Date, Date, never>;
  placed_by_staff_id: ColumnType<number | null, number | null, never>;
  released_at: Date | null;
  released_by_staff_id: number | null;
}

export interface RetentionTables {
  legal_holds: LegalHoldsTable;
  legal_hold_cases: LegalHoldCasesTable;
}
