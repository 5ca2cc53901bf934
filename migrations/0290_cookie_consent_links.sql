-- A cookie consent id joins a person's data only when that person logs in to the privacy portal
-- from a browser that holds it (issue 15; docs/decisions/0290). Until then a receipt names nobody.

-- One row per consent id and person: a browser shared by two people who both log in links its id
-- to each of them. Deleting the row (erasure) makes the receipts anonymous again; they stay as the
-- proof of the consent they record.
CREATE TABLE cookie_consent_links (
  tenant_id integer NOT NULL,
  consent_id text NOT NULL CHECK (consent_id ~ '^[A-Za-z0-9_-]{22}$'),
  subject_id bigint NOT NULL,
  linked_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, consent_id, subject_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('cookie_consent_links');
CREATE INDEX cookie_consent_links_subject ON cookie_consent_links (tenant_id, subject_id);

-- The receipts of the linked ids as rows of the person, so the access report, the portability
-- export, "my data" and erasure, which walk the data map by subject column, reach them without a
-- code path of their own. security_invoker: the base tables' row-level security applies to the
-- reader, so a transaction sees only its tenant's rows.
CREATE VIEW cookie_choices_of_subjects WITH (security_invoker = true) AS
SELECT l.tenant_id,
       l.subject_id,
       r.receipt_id,
       r.consent_id,
       r.categories,
       r.policy_version,
       r.language,
       r.source,
       r.gpc,
       r.given_at,
       r.expires_at
  FROM cookie_consent_links l
  JOIN cookie_receipts r ON r.tenant_id = l.tenant_id AND r.consent_id = l.consent_id;

-- Erasing a person's rows of the view (the data map's delete_rows) unlinks the id: the receipts
-- themselves stay, no longer tied to anyone.
CREATE FUNCTION cookie_choices_of_subjects_unlink() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM cookie_consent_links
   WHERE tenant_id = OLD.tenant_id AND consent_id = OLD.consent_id AND subject_id = OLD.subject_id;
  RETURN OLD;
END $$;
CREATE TRIGGER cookie_choices_of_subjects_unlink
  INSTEAD OF DELETE ON cookie_choices_of_subjects
  FOR EACH ROW EXECUTE FUNCTION cookie_choices_of_subjects_unlink();
