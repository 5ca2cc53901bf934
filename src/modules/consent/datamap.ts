import type { TableDataMap } from '../../kernel/datamap/datamap.js';

/**
 * The consent module's tables. Ledger records are the person's correspondence with the provider
 * (shown in the access report and exported, decision 0130);
 * tracking events and interest profiles are their own categories of the policy.
 */
export const consentDataMap: TableDataMap[] = [
  {
    table: 'interest_profiles',
    module: 'consent',
    subjectColumn: 'subject_id',
    erasure: { kind: 'delete_rows' },
    personal: {
      topic: { category: 'kluis.marketing.interest_profile' },
      clicks: { category: 'kluis.marketing.interest_profile' },
      updated_at: { category: 'kluis.marketing.interest_profile' },
    },
    notPersonal: { tenant_id: 'tenant key', subject_id: 'internal subject id' },
  },
  {
    table: 'tracking_events',
    module: 'consent',
    subjectColumn: 'subject_id',
    erasure: { kind: 'delete_rows' },
    personal: {
      mailing_id: { category: 'kluis.marketing.email_engagement' },
      kind: { category: 'kluis.marketing.email_engagement' },
      link_no: { category: 'kluis.marketing.email_engagement' },
      at: { category: 'kluis.marketing.email_engagement' },
    },
    notPersonal: { tenant_id: 'tenant key', event_id: 'row id', subject_id: 'internal subject id' },
  },
  {
    table: 'mail_suppressions',
    module: 'consent',
    subjectColumn: 'subject_id',
    erasure: { kind: 'delete_rows' },
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      suppression_id: 'row id',
      subject_id: 'internal subject id',
      address_bidx:
        'HMAC of an address under a tenant secret, never read back as a value (as throttle keys); erased with the person',
      purpose: 'policy purpose key',
      reason: 'fixed reason key',
      created_at: 'row bookkeeping',
    },
  },
  {
    // The outbox: delivery bookkeeping per recipient; the address is read through the gate when
    // the mail goes out and never stored here. Erased with the person.
    table: 'mailing_recipients',
    module: 'consent',
    subjectColumn: 'subject_id',
    erasure: { kind: 'delete_rows' },
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      mailing_id: 'mailing id',
      subject_id: 'internal subject id',
      address_bidx:
        'HMAC of the address under a tenant secret (one mail per address), never read back as a value',
      address_source: 'fixed key: which record the address came from',
      language: 'language the mail was written in',
      token_hash: 'hash of a random link token',
      tracked: 'whether the mail carried tracking (decided from the consent state)',
      state: 'delivery state',
      sent_at: 'delivery bookkeeping',
    },
  },
  {
    table: 'newsletter_signups',
    module: 'consent',
    subjectColumn: 'subject_id',
    rowIdColumn: 'signup_id',
    erasure: { kind: 'delete_rows' },
    personal: {
      email_enc: { category: 'user.contact.email', encrypted: true },
      email_bidx: { category: 'user.contact.email', blindIndexOf: 'email_enc' },
    },
    notPersonal: {
      tenant_id: 'tenant key',
      signup_id: 'row id',
      subject_id: 'internal subject id',
      purpose: 'policy purpose key',
      language: 'language the newsletter is written in',
      token_hash: 'hash of a random confirmation token',
      created_at: 'sign-up bookkeeping (the ledger holds the proof)',
      confirmed_at: 'sign-up bookkeeping (the ledger holds the proof)',
      expires_at: 'expiry',
      for_existing_subject: 'whether the subject existed before the sign-up (expiry keeps them)',
    },
  },
  {
    table: 'consent_records',
    module: 'consent',
    subjectColumn: 'subject_id',
    erasure: { kind: 'delete_rows' },
    personal: {
      purpose: { category: 'kluis.communication.correspondence' },
      event: { category: 'kluis.communication.correspondence' },
      channel: { category: 'kluis.communication.correspondence' },
      recorded_at: { category: 'kluis.communication.correspondence' },
      policy_version: { category: 'kluis.communication.correspondence' },
      statement: { category: 'kluis.communication.correspondence' },
    },
    freeText: { statement: 'all' },
    notPersonal: {
      tenant_id: 'tenant key',
      record_id: 'row id',
      subject_id: 'internal subject id',
      text_hash: 'hash of a wording the provider wrote (consent_texts)',
      staff_id: 'staff id',
      proof_reference: 'program-written reference to a sign-up or mailing',
    },
  },
  {
    table: 'consent_texts',
    module: 'consent',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      text_hash: 'SHA-256 of the wording',
      language: 'language of the wording',
      body: 'a consent wording the provider shows or reads out (no personal data; scanned on write)',
      created_at: 'row bookkeeping',
    },
    freeText: { body: 'identifiers' },
  },
  {
    table: 'mailing_links',
    module: 'consent',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      mailing_id: 'mailing id',
      link_no: 'link number',
      url: 'a link of the provider’s mailing',
    },
  },
  {
    table: 'mailing_texts',
    module: 'consent',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      mailing_id: 'mailing id',
      language: 'language key',
      subject: 'the provider’s mailing subject (the same for every recipient; scanned on write)',
      body: 'the provider’s mailing text (the same for every recipient; scanned on write)',
    },
    freeText: { subject: 'identifiers', body: 'identifiers' },
  },
  {
    table: 'mailings',
    module: 'consent',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      mailing_id: 'mailing id',
      purpose: 'policy purpose key',
      state: 'workflow state',
      created_by_staff_id: 'staff id',
      created_at: 'row bookkeeping',
      queued_at: 'workflow timestamp',
      finished_at: 'workflow timestamp',
    },
  },
  {
    table: 'mail_settings',
    module: 'consent',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      from_address: 'the provider’s sender address (a company address)',
      dkim_domain: 'the provider’s mail domain',
      dkim_selector: 'DNS selector of the DKIM key',
      dkim_private_key:
        'the provider’s DKIM signing key as stored before migration 0461; sealed and emptied at the next start',
      dkim_key_sealed:
        'the provider’s DKIM signing key (a company secret, no personal data), sealed under a key-store key (decision 0461)',
      rate_per_second: 'sending rate',
      updated_at: 'row bookkeeping',
    },
  },
];
