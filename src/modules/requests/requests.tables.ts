import type { ColumnType, Generated } from 'kysely';

export type RequestKind =
  | 'access'
  | 'portability'
  | 'rectification'
  | 'erasure'
  | 'restriction'
  | 'objection'
  | 'withdraw_consent'
  | 'object_direct_marketing';
export type RequestChannel = 'portal' | 'account' | 'letter' | 'email' | 'phone' | 'in_person';
export type RequestState = 'awaiting_verification' | 'verified' | 'fulfilled' | 'rejected';

export interface RightsRequestsTable {
  tenant_id: number;
  request_id: string;
  status_token_hash: Buffer;
  kind: RequestKind;
  channel: RequestChannel;
  subject_id: number | null;
  state: RequestState;
  language: 'nl' | 'fr' | 'en';
  received_at: Date;
  due_on: ColumnType<string, string, string>;
  extended_due_on: ColumnType<string | null, string | null | undefined, string | null>;
  extension_reason: string | null;
  verified_at: Date | null;
  verification_method: string | null;
  scan_reference: string | null;
  purposes: ColumnType<string[], string[] | undefined, string[]>;
  corrections_enc: Buffer | null;
  fulfilled_at: Date | null;
  rejected_reason: string | null;
  outcome: ColumnType<unknown, string | null | undefined, string | null>;
  last_reminder_on: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface VerificationCodesTable {
  tenant_id: number;
  request_id: string;
  code_hash: Buffer;
  expires_at: Date;
  attempts: ColumnType<number, number | undefined, number>;
  used_at: Date | null;
}

export interface ExportDownloadsTable {
  tenant_id: number;
  token_hash: Buffer;
  request_id: string;
  expires_at: Date;
  used_at: Date | null;
  attempts: Generated<number>;
  /** When a download was first written to its end; the link works for an hour more (decision 0873). */
  completed_at: Date | null;
}

/** An erasure asked for while a contract runs, waiting for the relation's end (decision 1210). */
export interface DeferredErasuresTable {
  tenant_id: number;
  request_id: string;
  subject_id: number;
  /** The relation's last day the person was last told; null: a contract without an end date. */
  last_day: ColumnType<string | null, string | null, string | null>;
  recorded_at: Date;
}

export interface RequestsTables extends SubjectAccountTables {
  rights_requests: RightsRequestsTable;
  deferred_erasures: DeferredErasuresTable;
  verification_codes: VerificationCodesTable;
  export_downloads: ExportDownloadsTable;
}

export interface SubjectAccountsTable {
  tenant_id: number;
  subject_id: number;
  password_hash: string | null;
  created_at: Date;
}

export interface SubjectLoginLinksTable {
  tenant_id: number;
  token_hash: Buffer;
  subject_id: number;
  expires_at: Date;
  used_at: Date | null;
}

export interface SubjectSessionsTable {
  tenant_id: number;
  session_hash: Buffer;
  subject_id: number;
  csrf_hash: Buffer;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  /** How the session was opened (decision 1061). */
  opened_by: 'link' | 'password';
}

export interface SubjectAccountTables {
  subject_accounts: SubjectAccountsTable;
  subject_login_links: SubjectLoginLinksTable;
  subject_sessions: SubjectSessionsTable;
}
