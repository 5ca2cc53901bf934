import type { ColumnType } from 'kysely';

/** What a session may do, as stored. */
export type StoredSessionStage = 'full' | 'mfa_pending' | 'mfa_enrolment';
/** As seen by routes: a full session still holding a one-time password may only change it. */
export type SessionStage = StoredSessionStage | 'password_change';

export interface StaffSessionsTable {
  tenant_id: number;
  session_hash: Buffer;
  staff_id: number;
  csrf_hash: Buffer;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  stage: StoredSessionStage;
  second_factor_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface StaffSessionTables {
  staff_sessions: StaffSessionsTable;
}
