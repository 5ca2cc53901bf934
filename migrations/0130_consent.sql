-- Issue 14: the consent ledger, newsletter sign-ups, mailings with an outbox row per recipient,
-- suppressions, tracking events and interest profiles (src/modules/consent, decision 0130).

-- The exact wording a person was shown when they gave consent, stored once per tenant by its
-- SHA-256; every ledger record that rests on it names the hash (VK-29: what was agreed to).
CREATE TABLE consent_texts (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  text_hash bytea NOT NULL CHECK (length(text_hash) = 32),
  language text NOT NULL CHECK (language IN ('nl', 'fr', 'en', 'de')),
  body text NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, text_hash)
);
SELECT kluis_isolate_tenant('consent_texts');
ALTER TABLE consent_texts FORCE ROW LEVEL SECURITY;

-- The ledger: one row per consent given, withdrawn, objection or sign-up, never changed. The
-- gate's state (subject_purpose_states, data_subjects.marketing_objected_at) is written from it
-- in the same transaction. `purpose` NULL: the objection to all direct marketing (Art. 21(2)).
CREATE TABLE consent_records (
  tenant_id integer NOT NULL,
  record_id bigint GENERATED ALWAYS AS IDENTITY,
  subject_id bigint NOT NULL,
  purpose text NULL CHECK (purpose ~ '^[a-z][a-z0-9_]*$'),
  event text NOT NULL CHECK (event IN ('signed_up', 'given', 'withdrawn', 'objected', 'objected_marketing')),
  text_hash bytea NULL,
  policy_version text NOT NULL CHECK (policy_version ~ '^[^\n]{1,40}$'),
  channel text NOT NULL CHECK (channel IN ('web_form', 'privacy_portal', 'staff_phone', 'import', 'double_opt_in', 'unsubscribe_link', 'rights_request')),
  recorded_at timestamptz NOT NULL,
  -- Proof: the staff member who took it, and what the person said (typed by staff, scanned on write).
  staff_id bigint NULL,
  statement text NULL CHECK (length(statement) BETWEEN 1 AND 2000),
  -- Where the proof lies: the sign-up or mailing it came from (program-written, e.g. signup:12).
  proof_reference text NULL CHECK (proof_reference ~ '^[a-z_]+:[A-Za-z0-9-]{1,64}$'),
  PRIMARY KEY (tenant_id, record_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id),
  FOREIGN KEY (tenant_id, text_hash) REFERENCES consent_texts (tenant_id, text_hash),
  CHECK ((purpose IS NULL) = (event = 'objected_marketing'))
);
SELECT kluis_isolate_tenant('consent_records');
ALTER TABLE consent_records FORCE ROW LEVEL SECURITY;
CREATE INDEX consent_records_subject ON consent_records (tenant_id, subject_id, record_id);

-- Append-only: a record is never changed (erasure deletes a person's records with the person).
CREATE FUNCTION kluis_refuse_consent_record_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'consent records are append-only';
END $$;
CREATE TRIGGER consent_records_append_only BEFORE UPDATE ON consent_records
  FOR EACH ROW EXECUTE FUNCTION kluis_refuse_consent_record_update();

-- A sign-up waiting for its double opt-in confirmation is a state of its own for the gate.
ALTER TABLE subject_purpose_states DROP CONSTRAINT subject_purpose_states_state_check;
ALTER TABLE subject_purpose_states
  ADD CONSTRAINT subject_purpose_states_state_check CHECK (state IN ('consented', 'withdrawn', 'objected', 'pending'));

-- Newsletter sign-ups of people who are not customers (double opt-in, VK-17): the address is
-- kept encrypted under the new subject's key; only a SHA-256 of the confirmation token is stored.
-- Unconfirmed sign-ups expire and their subject is erased.
CREATE TABLE newsletter_signups (
  tenant_id integer NOT NULL,
  signup_id bigint GENERATED ALWAYS AS IDENTITY,
  subject_id bigint NOT NULL,
  purpose text NOT NULL CHECK (purpose ~ '^[a-z][a-z0-9_]*$'),
  email_enc bytea NOT NULL,
  email_bidx bytea NOT NULL,
  language text NOT NULL CHECK (language IN ('nl', 'fr', 'en')),
  token_hash bytea NOT NULL CHECK (length(token_hash) = 32),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  confirmed_at timestamptz NULL,
  PRIMARY KEY (tenant_id, signup_id),
  UNIQUE (tenant_id, token_hash),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('newsletter_signups');
ALTER TABLE newsletter_signups FORCE ROW LEVEL SECURITY;
CREATE INDEX newsletter_signups_subject ON newsletter_signups (tenant_id, subject_id);
CREATE INDEX newsletter_signups_pending ON newsletter_signups (tenant_id, expires_at) WHERE confirmed_at IS NULL;

-- The tenant's sender: From address and DKIM key (a company secret, not personal data).
CREATE TABLE mail_settings (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  from_address text NOT NULL CHECK (from_address ~ '^[^@\s]+@[^@\s]+$' AND length(from_address) <= 320),
  dkim_domain text NULL CHECK (dkim_domain ~ '^[a-z0-9.-]+$'),
  dkim_selector text NULL CHECK (dkim_selector ~ '^[a-zA-Z0-9._-]+$'),
  dkim_private_key text NULL CHECK (dkim_private_key ~ '^-----BEGIN [A-Z ]+-----'),
  -- Mails per second the sender may hand to the SMTP server.
  rate_per_second integer NOT NULL DEFAULT 10 CHECK (rate_per_second BETWEEN 1 AND 1000),
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id),
  CHECK ((dkim_domain IS NULL) = (dkim_private_key IS NULL) AND (dkim_selector IS NULL) = (dkim_private_key IS NULL))
);
SELECT kluis_isolate_tenant('mail_settings');
ALTER TABLE mail_settings FORCE ROW LEVEL SECURITY;

-- A mailing: one text per language, sent under one marketing purpose of the policy.
CREATE TABLE mailings (
  tenant_id integer NOT NULL,
  mailing_id bigint GENERATED ALWAYS AS IDENTITY,
  purpose text NOT NULL CHECK (purpose ~ '^[a-z][a-z0-9_]*$'),
  state text NOT NULL CHECK (state IN ('draft', 'sending', 'sent')),
  created_by_staff_id bigint NULL,
  created_at timestamptz NOT NULL,
  queued_at timestamptz NULL,
  finished_at timestamptz NULL,
  PRIMARY KEY (tenant_id, mailing_id)
);
SELECT kluis_isolate_tenant('mailings');
ALTER TABLE mailings FORCE ROW LEVEL SECURITY;
CREATE INDEX mailings_sending ON mailings (tenant_id) WHERE state = 'sending';

CREATE TABLE mailing_texts (
  tenant_id integer NOT NULL,
  mailing_id bigint NOT NULL,
  language text NOT NULL CHECK (language IN ('nl', 'fr', 'en')),
  subject text NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
  body text NOT NULL CHECK (length(body) BETWEEN 1 AND 100000),
  PRIMARY KEY (tenant_id, mailing_id, language),
  FOREIGN KEY (tenant_id, mailing_id) REFERENCES mailings (tenant_id, mailing_id)
);
SELECT kluis_isolate_tenant('mailing_texts');
ALTER TABLE mailing_texts FORCE ROW LEVEL SECURITY;

-- The links of a mailing, numbered: the click redirect goes only to one of these (no open redirect).
CREATE TABLE mailing_links (
  tenant_id integer NOT NULL,
  mailing_id bigint NOT NULL,
  link_no integer NOT NULL CHECK (link_no >= 1),
  url text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2048),
  PRIMARY KEY (tenant_id, mailing_id, link_no),
  FOREIGN KEY (tenant_id, mailing_id) REFERENCES mailings (tenant_id, mailing_id)
);
SELECT kluis_isolate_tenant('mailing_links');
ALTER TABLE mailing_links FORCE ROW LEVEL SECURITY;

-- The outbox: one row per recipient, written when the mailing is queued. The sender claims a
-- row ('sending', committed) before handing the mail to SMTP and marks it 'sent' after; a row
-- found 'sending' after a crash is 'uncertain' and is not sent again (never twice).
CREATE TABLE mailing_recipients (
  tenant_id integer NOT NULL,
  mailing_id bigint NOT NULL,
  subject_id bigint NOT NULL,
  -- Keyed hash of the address: one mail per address per mailing, and suppressions by address.
  address_bidx bytea NOT NULL,
  -- Where the address comes from: the person's record or their newsletter sign-up.
  address_source text NOT NULL CHECK (address_source IN ('person', 'signup')),
  language text NOT NULL CHECK (language IN ('nl', 'fr', 'en')),
  -- SHA-256 of the recipient's opaque token (unsubscribe link, pixel, click redirect).
  token_hash bytea NOT NULL CHECK (length(token_hash) = 32),
  tracked boolean NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'skipped', 'uncertain', 'bounced')),
  sent_at timestamptz NULL,
  PRIMARY KEY (tenant_id, mailing_id, subject_id),
  UNIQUE (tenant_id, mailing_id, address_bidx),
  UNIQUE (tenant_id, token_hash),
  FOREIGN KEY (tenant_id, mailing_id) REFERENCES mailings (tenant_id, mailing_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('mailing_recipients');
ALTER TABLE mailing_recipients FORCE ROW LEVEL SECURITY;
CREATE INDEX mailing_recipients_pending ON mailing_recipients (tenant_id, mailing_id) WHERE state IN ('pending', 'sending');
CREATE INDEX mailing_recipients_subject ON mailing_recipients (tenant_id, subject_id);

-- Addresses that get no more mail of a purpose (unsubscribed) or none at all (hard bounce).
CREATE TABLE mail_suppressions (
  tenant_id integer NOT NULL,
  suppression_id bigint GENERATED ALWAYS AS IDENTITY,
  subject_id bigint NOT NULL,
  address_bidx bytea NOT NULL,
  -- NULL: every mailing (a hard bounce).
  purpose text NULL CHECK (purpose ~ '^[a-z][a-z0-9_]*$'),
  reason text NOT NULL CHECK (reason IN ('unsubscribed', 'hard_bounce')),
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, suppression_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('mail_suppressions');
ALTER TABLE mail_suppressions FORCE ROW LEVEL SECURITY;
CREATE INDEX mail_suppressions_address ON mail_suppressions (tenant_id, address_bidx);

-- VK-19: opens and clicks, recorded only for recipients who consented to tracking.
CREATE TABLE tracking_events (
  tenant_id integer NOT NULL,
  event_id bigint GENERATED ALWAYS AS IDENTITY,
  subject_id bigint NOT NULL,
  mailing_id bigint NOT NULL,
  kind text NOT NULL CHECK (kind IN ('open', 'click')),
  link_no integer NULL,
  at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, event_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id),
  FOREIGN KEY (tenant_id, mailing_id) REFERENCES mailings (tenant_id, mailing_id)
);
SELECT kluis_isolate_tenant('tracking_events');
ALTER TABLE tracking_events FORCE ROW LEVEL SECURITY;
CREATE INDEX tracking_events_subject ON tracking_events (tenant_id, subject_id);

-- VK-6: an interest profile, only with consent: per topic (a link's host and first path part),
-- how many tracked clicks. Deleted at once on withdrawal or objection.
CREATE TABLE interest_profiles (
  tenant_id integer NOT NULL,
  subject_id bigint NOT NULL,
  topic text NOT NULL CHECK (topic ~ '^[a-z0-9.-]{1,100}(/[^/?#]{0,99})?$'),
  clicks integer NOT NULL CHECK (clicks >= 1),
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, subject_id, topic),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('interest_profiles');
ALTER TABLE interest_profiles FORCE ROW LEVEL SECURITY;
