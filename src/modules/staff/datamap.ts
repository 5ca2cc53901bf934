import type { TableDataMap } from '../../kernel/datamap/datamap.js';

// Staff are people too. Their accounts are declared here and in both policies (subject type
// `staff`, purpose `staff_accounts`); they are erased when a disabled account is removed at the
// end of the employment (`removeStaff`, decision 0919), not through the customers' rights requests. Sessions and API tokens go with the account (foreign keys
// ON DELETE CASCADE); they hold hashes of random values, never a secret a person chose.
export const staffDataMap: TableDataMap[] = [
  {
    table: 'staff_api_tokens',
    module: 'staff',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      token_id: 'internal token id',
      token_hash: 'SHA-256 of a random token (not derived from a person)',
      label: 'name of the integration, chosen by an admin (letters, digits, spaces)',
      role: 'policy role key',
      created_by: 'internal staff id of the accountable admin',
      created_at: 'row bookkeeping',
      last_used_at: 'integration bookkeeping',
      revoked_at: 'token state',
      expires_at: 'token state: the end of its validity, chosen at creation',
    },
    freeText: { label: 'identifiers' },
  },
  {
    table: 'staff_sessions',
    module: 'staff',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      session_hash: 'SHA-256 of a random session token',
      staff_id: 'internal staff id',
      csrf_hash: 'SHA-256 of a random CSRF token',
      created_at: 'session bookkeeping, deleted at expiry or logout',
      last_seen_at: 'session bookkeeping (idle expiry), deleted at expiry or logout',
      expires_at: 'session bookkeeping',
      stage: 'session state',
      second_factor_at: 'session bookkeeping: when the session last proved a second factor',
    },
  },
  {
    table: 'staff_users',
    module: 'staff',
    subjectColumn: 'subject_id',
    rowIdColumn: 'staff_id',
    erasure: { kind: 'delete_rows' },
    personal: {
      email: { category: 'user.contact.email' },
      display_name: { category: 'user.name' },
      password_hash: { category: 'user.authorization.credentials', securitySecret: true },
      totp_secret: { category: 'user.authorization.credentials', encrypted: true, securitySecret: true },
      recovery_code_hashes: { category: 'user.authorization.credentials', securitySecret: true },
    },
    notPersonal: {
      tenant_id: 'tenant key',
      staff_id: 'internal staff id',
      subject_id: 'internal subject id',
      role: 'policy role key',
      must_change_password: 'account state',
      status: 'account state',
      created_at: 'row bookkeeping',
      totp_enabled_at: 'account state (second factor set up)',
      totp_last_step: 'replay guard: last accepted TOTP time step',
      failed_logins: 'lockout counter',
      failed_window_started_at: 'lockout counter window',
      locked_until: 'lockout state',
      password_reset_at: 'account state (when a one-time password was last issued)',
    },
    freeText: { display_name: 'identifiers' },
  },
];
