import type { TableDataMap } from '../../kernel/datamap/datamap.js';

// Counters hold a keyed hash of a client address or of an e-mail address someone typed, for at
// most a day or two after the last hit; they name no data subject and are never read back as values.
export const throttleDataMap: TableDataMap[] = [
  {
    table: 'throttle_counters',
    module: 'throttle',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      bucket: 'name of the limit (e.g. request-form.address)',
      key_hash: 'HMAC of a client address or typed e-mail under a tenant secret; deleted within two days',
      window_started_at: 'counter bookkeeping',
      last_hit_at: 'counter bookkeeping',
      hits: 'counter',
    },
  },
];
