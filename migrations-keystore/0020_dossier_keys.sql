-- A customer's technical dossier (VX-4) has a data key of its own (owner_kind 'dossier', owner_ref
-- the customer's subject id), separate from the customer's subject key: a written termination
-- (VX-7) shreds the dossier while the invoices, under the subject key, stay readable.
ALTER TABLE data_keys DROP CONSTRAINT data_keys_owner_kind_check;
ALTER TABLE data_keys ADD CONSTRAINT data_keys_owner_kind_check
  CHECK (owner_kind IN ('subject', 'secret', 'dossier'));
