export type SessionStage = 'full' | 'mfa_pending' | 'mfa_enrolment';

export interface StaffSessionsTable {
  tenant_id: number;
  session_hash: Buffer;
  staff_id: number;
  csrf_hash: Buffer;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  stage: SessionStage;
}

export interface StaffSessionTables {
  staff_sessions: StaffSessionsTable;
}
