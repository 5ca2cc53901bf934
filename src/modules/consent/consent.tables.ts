import type { ColumnType, Generated } from 'kysely';

export type ConsentEvent = 'signed_up' | 'given' | 'withdrawn' | 'objected' | 'objected_marketing';
export type ConsentChannel =
  | 'web_form'
  | 'privacy_portal'
  | 'staff_phone'
  | 'import'
  | 'double_opt_in'
  | 'unsubscribe_link'
  | 'rights_request';
export type MailLanguage = 'nl' | 'fr' | 'en';
export type RecipientState = 'pending' | 'sending' | 'sent' | 'skipped' | 'uncertain' | 'bounced';

export interface ConsentTextsTable {
  tenant_id: number;
  text_hash: Buffer;
  language: 'nl' | 'fr' | 'en' | 'de';
  body: string;
  created_at: Date;
}

export interface ConsentRecordsTable {
  tenant_id: number;
  record_id: Generated<number>;
  subject_id: number;
  purpose: string | null;
  event: ConsentEvent;
  text_hash: Buffer | null;
  policy_version: string;
  channel: ConsentChannel;
  recorded_at: Date;
  staff_id: number | null;
  statement: string | null;
  proof_reference: string | null;
}

export interface NewsletterSignupsTable {
  tenant_id: number;
  signup_id: Generated<number>;
  subject_id: number;
  purpose: string;
  email_enc: Buffer;
  email_bidx: Buffer;
  language: MailLanguage;
  token_hash: Buffer;
  created_at: Date;
  expires_at: Date;
  confirmed_at: Date | null;
  /** Asked of a person already on record: an expired one drops the row, never the person (0910). */
  for_existing_subject: ColumnType<boolean, boolean | undefined, boolean>;
}

export interface MailSettingsTable {
  tenant_id: number;
  from_address: string;
  dkim_domain: string | null;
  dkim_selector: string | null;
  /** Only keys stored before migration 0461; sealed into `dkim_key_sealed` at the next start. */
  dkim_private_key: string | null;
  /** The DKIM key sealed under a key-store key (decision 0461). */
  dkim_key_sealed: Buffer | null;
  rate_per_second: ColumnType<number, number | undefined, number>;
  updated_at: Date;
}

export interface MailingsTable {
  tenant_id: number;
  mailing_id: Generated<number>;
  purpose: string;
  state: 'draft' | 'sending' | 'sent';
  created_by_staff_id: number | null;
  created_at: Date;
  queued_at: Date | null;
  finished_at: Date | null;
}

export interface MailingTextsTable {
  tenant_id: number;
  mailing_id: number;
  language: MailLanguage;
  subject: string;
  body: string;
}

export interface MailingLinksTable {
  tenant_id: number;
  mailing_id: number;
  link_no: number;
  url: string;
}

export interface MailingRecipientsTable {
  tenant_id: number;
  mailing_id: number;
  subject_id: number;
  address_bidx: Buffer;
  address_source: 'person' | 'signup';
  language: MailLanguage;
  token_hash: Buffer;
  tracked: boolean;
  state: RecipientState;
  sent_at: Date | null;
}

export interface MailSuppressionsTable {
  tenant_id: number;
  suppression_id: Generated<number>;
  subject_id: number;
  address_bidx: Buffer;
  purpose: string | null;
  reason: 'unsubscribed' | 'hard_bounce';
  created_at: Date;
}

export interface TrackingEventsTable {
  tenant_id: number;
  event_id: Generated<number>;
  subject_id: number;
  mailing_id: number;
  kind: 'open' | 'click';
  link_no: number | null;
  at: Date;
}

export interface InterestProfilesTable {
  tenant_id: number;
  subject_id: number;
  topic: string;
  clicks: number;
  updated_at: Date;
}

export interface ConsentTables {
  consent_texts: ConsentTextsTable;
  consent_records: ConsentRecordsTable;
  newsletter_signups: NewsletterSignupsTable;
  mail_settings: MailSettingsTable;
  mailings: MailingsTable;
  mailing_texts: MailingTextsTable;
  mailing_links: MailingLinksTable;
  mailing_recipients: MailingRecipientsTable;
  mail_suppressions: MailSuppressionsTable;
  tracking_events: TrackingEventsTable;
  interest_profiles: InterestProfilesTable;
}
