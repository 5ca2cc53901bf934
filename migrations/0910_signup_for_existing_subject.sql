-- A confirmation asked of a person already on record (consent by phone, import or the privacy
-- portal for a double opt-in purpose, decision 0910): when it expires unconfirmed only the
-- sign-up row goes, never the person, who was not made for it.
ALTER TABLE newsletter_signups ADD COLUMN for_existing_subject boolean NOT NULL DEFAULT false;
