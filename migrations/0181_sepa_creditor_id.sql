-- The provider's SEPA creditor identifier (BT-90): direct-debit invoices name it, the bank
-- collects under it. Business data of the tenant, not personal.
ALTER TABLE billing_settings
  ADD COLUMN sepa_creditor_id text NULL CHECK (sepa_creditor_id ~ '^[A-Z]{2}[0-9]{2}[A-Z0-9]{3}[A-Z0-9]{1,28}$');
