import type { Generated } from 'kysely';

export interface CookiePolicyVersionsTable {
  tenant_id: number;
  version: string;
  /** The policy's cookie section as it was (items, consent at first visit). */
  cookies: unknown;
  first_used_at: Date;
}

export interface CookieReceiptsTable {
  tenant_id: number;
  receipt_id: Generated<string>;
  consent_id: string;
  categories: string[];
  policy_version: string;
  banner_version: string;
  language: string;
  source: 'banner' | 'settings' | 'gpc';
  gpc: boolean;
  given_at: Date;
  expires_at: Date;
}

/** The hash of a consent id's secret: proof of possession for changes (decision 0410). */
export interface CookieConsentKeysTable {
  tenant_id: number;
  consent_id: string;
  key_hash: Buffer;
  created_at: Date;
}

export interface WebsiteVisitsTable {
  tenant_id: number;
  visit_id: Generated<string>;
  visited_at: Date;
  page: string;
  referrer_host: string | null;
  device_type: string;
  os: string;
  browser: string;
  network: string | null;
  country: string | null;
  analytics_consent: boolean;
}

/** A consent id linked to the person who logged in to the privacy portal with it (decision 0290). */
export interface CookieConsentLinksTable {
  tenant_id: number;
  consent_id: string;
  subject_id: number;
  linked_at: Date;
}

/** The view of the linked ids' receipts as rows of the person (read-only; a delete unlinks). */
export interface CookieChoicesOfSubjectsView {
  tenant_id: number;
  subject_id: number;
  receipt_id: string;
  consent_id: string;
  categories: string[];
  policy_version: string;
  language: string;
  source: 'banner' | 'settings' | 'gpc';
  gpc: boolean;
  given_at: Date;
  expires_at: Date;
}

export interface CookiesTables {
  cookie_policy_versions: CookiePolicyVersionsTable;
  cookie_receipts: CookieReceiptsTable;
  cookie_consent_keys: CookieConsentKeysTable;
  website_visits: WebsiteVisitsTable;
  cookie_consent_links: CookieConsentLinksTable;
  cookie_choices_of_subjects: CookieChoicesOfSubjectsView;
}
