-- A business customer's own facts for its invoices (issue 22): its registered address and an
-- optional billing address (the invoice goes to the company, not to its contact person's home),
-- whether it is VAT-registered (BT-48 only when it is), and the reference its accounts payable
-- asks for (BT-10). A legal person's facts: not personal data (decision 0006 keeps contact persons
-- apart). A purchase-order number can be given per contract.
ALTER TABLE organisations
  ADD COLUMN street text NULL CHECK (length(street) BETWEEN 1 AND 200),
  ADD COLUMN postal_code text NULL CHECK (postal_code ~ '^[A-Za-z0-9][A-Za-z0-9 -]{1,11}$'),
  ADD COLUMN city text NULL CHECK (length(city) BETWEEN 1 AND 100),
  ADD COLUMN billing_street text NULL CHECK (length(billing_street) BETWEEN 1 AND 200),
  ADD COLUMN billing_postal_code text NULL CHECK (billing_postal_code ~ '^[A-Za-z0-9][A-Za-z0-9 -]{1,11}$'),
  ADD COLUMN billing_city text NULL CHECK (length(billing_city) BETWEEN 1 AND 100),
  ADD COLUMN billing_country text NULL CHECK (billing_country ~ '^[A-Z]{2}$'),
  ADD COLUMN vat_registered boolean NOT NULL DEFAULT true,
  ADD COLUMN buyer_reference text NULL CHECK (length(buyer_reference) BETWEEN 1 AND 100);

-- The document keeps what it was issued with: a credit note repeats its invoice's reference.
ALTER TABLE invoices
  ADD COLUMN buyer_vat_registered boolean NULL,
  ADD COLUMN buyer_reference text NULL CHECK (length(buyer_reference) BETWEEN 1 AND 100);
