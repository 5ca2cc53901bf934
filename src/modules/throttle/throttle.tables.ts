export interface ThrottleCountersTable {
  tenant_id: number;
  bucket: string;
  /** HMAC of the counted value (client address, typed e-mail) under a tenant secret. */
  key_hash: Buffer;
  window_started_at: Date;
  last_hit_at: Date;
  hits: number;
}

export interface ThrottleTables {
  throttle_counters: ThrottleCountersTable;
}
