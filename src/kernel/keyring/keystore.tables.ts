import type { ColumnType, Kysely } from 'kysely';

export interface TenantKeksTable {
  tenant_id: number;
  current_version: ColumnType<number, number | undefined, number>;
  rotating_to: number | null;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface DataKeysTable {
  tenant_id: number;
  owner_kind: 'subject' | 'secret';
  owner_ref: string;
  kek_version: number;
  wrapped: Buffer | null;
  created_at: ColumnType<Date, Date | undefined, never>;
  destroyed_at: Date | null;
}

/** The key store is a separate database (migrations-keystore/), never joined with the data. */
export interface KeystoreDatabase {
  tenant_keks: TenantKeksTable;
  data_keys: DataKeysTable;
}

export type KeystoreDb = Kysely<KeystoreDatabase>;
