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

export interface CookiesTables {
  cookie_policy_versions: CookiePolicyVersionsTable;
  cookie_receipts: CookieReceiptsTable;
  website_visits: WebsiteVisitsTable;
}
