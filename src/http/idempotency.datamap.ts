import type { TableDataMap } from '../kernel/datamap/datamap.js';

/** Idempotency keys hold no personal data: what a replay needs is counts, numbers and ids. */
export const idempotencyDataMap: TableDataMap[] = [
  {
    table: 'idempotency_keys',
    module: 'http',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      idempotency_key: 'a value the client chose per operation (e.g. a UUID)',
      fingerprint: 'SHA-256 of caller id, route, parameters and body: tells a retry from another request',
      state: 'pending while the first call runs, committed once it has made something, then done',
      response_status: 'HTTP status of the first answer',
      response_body:
        'what a replay needs: counts, document numbers and ids (documents are re-read through the gate), deleted after 24 hours',
      created_at: 'row bookkeeping (24-hour expiry)',
    },
  },
];
