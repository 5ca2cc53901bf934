import type { TableDataMap } from '../../kernel/datamap/datamap.js';

export const requestsDataMap: TableDataMap[] = [
  {
    table: 'verification_codes',
    module: 'requests',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      request_id: 'request id',
      code_hash: 'hash of a random one-time code',
      expires_at: 'expiry',
      attempts: 'counter',
      used_at: 'when used',
    },
  },
  {
    table: 'export_downloads',
    module: 'requests',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      token_hash: 'hash of a random download token',
      request_id: 'request id',
      expires_at: 'expiry',
      used_at: 'when used',
    },
  },
  {
    // The request itself is kept (proof that we answered, Art. 5(2)) but holds nothing
    // identifying once the person is erased: corrections and the scan reference are cleared.
    table: 'rights_requests',
    module: 'requests',
    subjectColumn: 'subject_id',
    rowIdColumn: 'request_id',
    erasure: { kind: 'null_personal' },
    personal: {
      corrections_enc: { category: 'kluis.communication.correspondence', encrypted: true },
      scan_reference: { category: 'kluis.communication.correspondence' },
    },
    notPersonal: {
      tenant_id: 'tenant key',
      request_id: 'request id',
      status_token_hash: 'hash of a random status token',
      kind: 'kind of right exercised',
      channel: 'channel key',
      subject_id: 'internal subject id (a tombstone after erasure)',
      state: 'workflow state',
      language: 'language of the answer',
      received_at: 'date of receipt (deadline)',
      due_on: 'deadline',
      extended_due_on: 'deadline',
      extension_reason: 'reason for an extension, written by staff about the workload, not the person',
      verified_at: 'workflow timestamp',
      verification_method: 'method key',
      purposes: 'policy purpose keys',
      fulfilled_at: 'workflow timestamp',
      rejected_reason: 'reason, written by staff',
      outcome: 'what was done, as category and table names and counts',
      last_reminder_on: 'reminder bookkeeping',
    },
  },
];
