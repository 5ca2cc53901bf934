import type { ColumnType } from 'kysely';

/** A subject's data key that must be destroyed in the key store (migrations/0070). */
export interface SubjectKeyDestructionsTable {
  tenant_id: ColumnType<number, number, never>;
  subject_id: ColumnType<number, number, never>;
  requested_at: ColumnType<Date, Date, never>;
  destroyed_at: Date | null;
}

export interface ErasureTables {
  subject_key_destructions: SubjectKeyDestructionsTable;
}
