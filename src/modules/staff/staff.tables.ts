import type { ColumnType, Generated } from 'kysely';

export interface StaffUsersTable {
  tenant_id: number;
  staff_id: Generated<number>;
  subject_id: number | null;
  email: string;
  display_name: string;
  role: string;
  password_hash: string;
  must_change_password: Generated<boolean>;
  status: Generated<'active' | 'disabled'>;
  created_at: ColumnType<Date, never, never>;
  /** AES-256-GCM ciphertext under the staff subject's data key (decision 0020). */
  totp_secret: Buffer | null;
  totp_enabled_at: Date | null;
  /** The last TOTP time step accepted: a code of that step or earlier is a replay. */
  totp_last_step: number | null;
  recovery_code_hashes: Generated<Buffer[]>;
  failed_logins: Generated<number>;
  failed_window_started_at: Date | null;
  locked_until: Date | null;
  /** When a one-time password was last issued by a reset (decision 1130). */
  password_reset_at: Date | null;
}

export interface StaffApiTokensTable {
  tenant_id: number;
  token_id: Generated<number>;
  token_hash: Buffer;
  label: string;
  role: string;
  created_by: number;
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date;
  revoked_at: Date | null;
}

export interface StaffTables {
  staff_users: StaffUsersTable;
  staff_api_tokens: StaffApiTokensTable;
}
