import type { ColumnType } from 'kysely';

/** Written once, never updated: Kysely refuses `.set()` on these columns at compile time. */
type Immutable<T> = ColumnType<T, T, never>;
type ImmutableWithDefault<T> = ColumnType<T, T | undefined, never>;

/** One entry of a tenant's hash chain; rows are only ever inserted (migrations/0004_audit.sql). */
export interface AuditLogTable {
  tenant_id: Immutable<number>;
  seq: Immutable<number>;
  at: Immutable<Date>;
  actor_kind: Immutable<'staff' | 'subject' | 'system'>;
  actor_id: Immutable<string>;
  role: Immutable<string | null>;
  purpose: Immutable<string | null>;
  action: Immutable<string>;
  subject_pseudonyms: ImmutableWithDefault<string[]>;
  categories: ImmutableWithDefault<string[]>;
  records: ImmutableWithDefault<number>;
  decision: Immutable<'allowed' | 'denied'>;
  reason: Immutable<string | null>;
  request_id: Immutable<string | null>;
  prev_hash: Immutable<Buffer>;
  hash: Immutable<Buffer>;
  /** HMAC of (tenant, seq, hash) under the tenant's audit key; an entry without one does not verify (decision 0630). */
  mac: ColumnType<Buffer | null, Buffer | null | undefined, never>;
  /**
   * The nonce of the pending entry it was chained from (decision 0686), unique per tenant, so a
   * copy of that pending entry can never be chained again; null for an entry chained directly,
   * and for entries from before migration 0686.
   */
  nonce: ColumnType<Buffer | null, Buffer | null | undefined, never>;
}

/** The head of a tenant's chain, locked while appending. */
export interface AuditHeadsTable {
  tenant_id: ColumnType<number, number, never>;
  seq: number;
  hash: Buffer;
}

/** A signed (HMAC) statement of a chain head at some seq; append-only like the log. */
export interface AuditCheckpointsTable {
  tenant_id: Immutable<number>;
  seq: Immutable<number>;
  head_hash: Immutable<Buffer>;
  signed_at: Immutable<Date>;
  mac: Immutable<Buffer>;
}

/**
 * An entry written while the head was locked by another transaction, not yet chained
 * (migrations/0340_audit_pending.sql): the chainer moves it into audit_log and deletes it.
 */
export interface AuditPendingTable {
  tenant_id: Immutable<number>;
  pending_id: ColumnType<number, never, never>;
  at: Immutable<Date>;
  actor_kind: Immutable<'staff' | 'subject' | 'system'>;
  actor_id: Immutable<string>;
  role: Immutable<string | null>;
  purpose: Immutable<string | null>;
  action: Immutable<string>;
  subject_pseudonyms: ImmutableWithDefault<string[]>;
  categories: ImmutableWithDefault<string[]>;
  records: ImmutableWithDefault<number>;
  decision: Immutable<'allowed' | 'denied'>;
  reason: Immutable<string | null>;
  request_id: Immutable<string | null>;
  /** HMAC of the content and the nonce under the tenant's audit key (encodePendingMac). */
  mac: Immutable<Buffer>;
  /** 16 random bytes Kluis made for this entry (decision 0686); null only before migration 0686. */
  nonce: ColumnType<Buffer | null, Buffer | null | undefined, never>;
}

export interface AuditTables {
  audit_log: AuditLogTable;
  audit_heads: AuditHeadsTable;
  audit_pending: AuditPendingTable;
  audit_checkpoints: AuditCheckpointsTable;
}
