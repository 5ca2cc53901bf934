import type { ColumnType } from 'kysely';

export interface IdempotencyKeysTable {
  tenant_id: number;
  idempotency_key: string;
  fingerprint: Buffer;
  state: 'pending' | 'committed' | 'done';
  response_status: number | null;
  response_body: ColumnType<unknown, string | null | undefined, string | null>;
  created_at: Date;
}

export interface IdempotencyTables {
  idempotency_keys: IdempotencyKeysTable;
}
