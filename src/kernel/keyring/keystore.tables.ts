import type { ColumnType, Kysely } from 'kysely';

export interface TenantKeksTable {
  tenant_id: number;
  current_version: ColumnType<number, number | undefined, number>;
  rotating_to: number | null;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface DataKeysTable {
  tenant_id: number;
  owner_kind: 'subject' | 'secret' | 'dossier' | 'letter';
  owner_ref: string;
  kek_version: number;
  wrapped: Buffer | null;
  created_at: ColumnType<Date, Date | undefined, never>;
  destroyed_at: Date | null;
}

/** A signed audit checkpoint kept outside the data database (migrations-keystore/0070). */
export interface AuditAnchorsTable {
  tenant_id: ColumnType<number, number, never>;
  seq: ColumnType<number, number, never>;
  head_hash: ColumnType<Buffer, Buffer, never>;
  signed_at: ColumnType<Date, Date, never>;
  mac: ColumnType<Buffer, Buffer, never>;
  written_no: ColumnType<number, never, never>;
}

/** A restore that set a tenant's audit chain back, signed (migrations-keystore/1270, decision 1270). */
export interface AuditSetbacksTable {
  tenant_id: ColumnType<number, number, never>;
  setback_no: ColumnType<number, never, never>;
  head_seq: ColumnType<number, number, never>;
  head_hash: ColumnType<Buffer, Buffer, never>;
  set_at: ColumnType<Date, Date, never>;
  earlier_seq: ColumnType<number, number, never>;
  mac: ColumnType<Buffer, Buffer, never>;
}

export interface ErasureJournalTable {
  tenant_id: number;
  subject_id: number;
  subject_created_at: Date;
  erased_at: Date;
  journaled_at: ColumnType<Date, Date | undefined, never>;
}

/** One erasure of one category of a subject (migrations-keystore/0110), append-only. */
export interface CategoryErasureJournalTable {
  tenant_id: number;
  subject_id: number;
  subject_created_at: Date;
  category: string;
  erased_at: Date;
  journaled_at: ColumnType<Date, Date | undefined, never>;
}

/** The key store is a separate database (migrations-keystore/), never joined with the data. */
export interface KeystoreDatabase {
  tenant_keks: TenantKeksTable;
  data_keys: DataKeysTable;
  audit_anchors: AuditAnchorsTable;
  audit_setbacks: AuditSetbacksTable;
  erasure_journal: ErasureJournalTable;
  category_erasure_journal: CategoryErasureJournalTable;
}

export type KeystoreDb = Kysely<KeystoreDatabase>;
