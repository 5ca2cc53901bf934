-- The tenant's DKIM signing key sealed under a tenant key of the key store (attack note A17,
-- decision 0461): the data database, and so every data backup, no longer holds it in clear.
-- Sealing needs the key store, which SQL cannot reach: a key stored in clear before this
-- migration is sealed by Kluis at its next start (and the clear column emptied); until then the
-- sender still signs with it. New keys are only ever written sealed.
ALTER TABLE mail_settings ADD COLUMN dkim_key_sealed bytea NULL
  CHECK (octet_length(dkim_key_sealed) BETWEEN 29 AND 20000);

ALTER TABLE mail_settings DROP CONSTRAINT mail_settings_check;
ALTER TABLE mail_settings ADD CONSTRAINT mail_settings_dkim_complete CHECK (
  (dkim_domain IS NULL) = (dkim_private_key IS NULL AND dkim_key_sealed IS NULL)
  AND (dkim_selector IS NULL) = (dkim_domain IS NULL)
  AND (dkim_private_key IS NULL OR dkim_key_sealed IS NULL)
);
