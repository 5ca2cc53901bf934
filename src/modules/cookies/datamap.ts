import type { TableDataMap } from '../../kernel/datamap/datamap.js';
import { COOKIE_CHOICES_CATEGORY } from '../../kernel/policy/index.js';

const CHOICES = { category: COOKIE_CHOICES_CATEGORY } as const;

// None of these rows names a data subject of Kluis (docs/decisions/0140): a receipt carries a random
// consent id the visitor's browser keeps and nothing else about them; a visit carries no id at all,
// the address cut to its network and the browser reduced to its family. The policy's retention still
// applies to both (retention sweep → purgeWebsiteRecords).
export const cookiesDataMap: TableDataMap[] = [
  // A consent id becomes the person's when they log in to the privacy portal with it (decision
  // 0290). The view shows the linked ids' receipts as the person's rows (access report, export,
  // "my data"); erasing its rows unlinks (an INSTEAD OF DELETE trigger), the receipts stay anonymous.
  {
    table: 'cookie_choices_of_subjects',
    module: 'cookies',
    subjectColumn: 'subject_id',
    erasure: { kind: 'delete_rows' },
    personal: {
      consent_id: CHOICES,
      categories: CHOICES,
      policy_version: CHOICES,
      language: CHOICES,
      source: CHOICES,
      gpc: CHOICES,
      given_at: CHOICES,
      expires_at: CHOICES,
    },
    notPersonal: {
      tenant_id: 'tenant key',
      subject_id: 'the person the consent id is linked to',
      receipt_id: 'row id of the receipt',
    },
  },
  {
    table: 'cookie_consent_links',
    module: 'cookies',
    subjectColumn: 'subject_id',
    erasure: { kind: 'delete_rows' },
    personal: {
      consent_id: CHOICES,
      linked_at: CHOICES,
    },
    notPersonal: {
      tenant_id: 'tenant key',
      subject_id: 'the person who logged in with the consent id',
    },
  },
  {
    table: 'cookie_receipts',
    module: 'cookies',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      receipt_id: 'row id',
      consent_id: '128 random bits kept by the visitor’s browser; linked to nothing else Kluis holds',
      categories: 'cookie category keys consented to',
      policy_version: 'hash of the cookie section the choice was made under',
      banner_version: 'hash of the banner texts shown',
      language: 'language of the banner shown',
      source: 'where the choice was made (banner, settings page, GPC signal)',
      gpc: 'whether the browser sent Global Privacy Control',
      given_at: 'when the choice was made',
      expires_at: 'when the choice must be asked again',
    },
  },
  {
    table: 'cookie_consent_keys',
    module: 'cookies',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      consent_id: 'the consent id the secret belongs to (128 random bits, see cookie_receipts)',
      key_hash:
        'SHA-256 of the secret the browser keeps next to its consent id (proof of possession, decision 0410)',
      created_at: 'when the consent id was made',
    },
  },
  {
    table: 'cookie_policy_versions',
    module: 'cookies',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      version: 'hash of the cookie section',
      cookies: 'the policy’s cookie section (cookie names, providers, lifetimes, purposes)',
      first_used_at: 'when a receipt first named this version',
    },
  },
  {
    table: 'website_visits',
    module: 'cookies',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      visit_id: 'row id',
      visited_at: 'time of the page view',
      page: 'path of the provider’s page (no query string)',
      referrer_host: 'host name of the referring site (no path)',
      device_type: 'desktop, mobile, tablet, tv, bot or other',
      os: 'operating system family',
      browser: 'browser family',
      network: 'the visitor’s IPv4 /24 or IPv6 /48 network (the address is cut before storage)',
      country: 'country derived before the cut, only with analytics consent',
      analytics_consent: 'whether the visitor had consented to analytical cookies',
    },
  },
];
