import type { ColumnType } from 'kysely';

/** A subject's data key that must be destroyed in the key store (migrations/0070). */
export interface SubjectKeyDestructionsTable {
  tenant_id: ColumnType<number, number, never>;
  subject_id: ColumnType<number, number, never>;
  /** Which of the subject's keys (migrations/0120): their own, or their technical dossier's. */
  key_scope: ColumnType<'subject' | 'dossier', 'subject' | 'dossier' | undefined, never>;
  requested_at: ColumnType<Date, Date, never>;
  destroyed_at: Date | null;
}

/** The last erasure of a category of a subject by itself (migrations/0110). */
export interface SubjectCategoryErasuresTable {
  tenant_id: ColumnType<number, number, never>;
  subject_id: ColumnType<number, number, never>;
  category: ColumnType<string, string, never>;
  erased_at: Date;
}

export interface ErasureTables {
  subject_key_destructions: SubjectKeyDestructionsTable;
  subject_category_erasures: SubjectCategoryErasuresTable;
}
