-- Issue 22: VAT categories per product (UNCL5305 as Peppol BIS 3.0 uses them) with the exemption
-- reason a category needs (BT-120 text, BT-121 VATEX code), and foreign EU business buyers.
-- NULL category = as before: S for a rate above 0, Z for 0 (no existing row is rewritten).
ALTER TABLE contract_products
  ADD COLUMN vat_category text NULL CHECK (vat_category IN ('S', 'Z', 'E', 'AE', 'K', 'G')),
  ADD COLUMN vat_exemption_code text NULL CHECK (vat_exemption_code ~ '^VATEX-[A-Z]{2}-[A-Z0-9-]{1,20}$'),
  ADD COLUMN vat_exemption_reason text NULL CHECK (length(vat_exemption_reason) BETWEEN 1 AND 200),
  ADD CONSTRAINT contract_products_vat_category_rate CHECK (
    vat_category IS NULL
    OR (vat_category = 'S' AND vat_rate_bp > 0 AND vat_exemption_code IS NULL AND vat_exemption_reason IS NULL)
    OR (vat_category = 'Z' AND vat_rate_bp = 0 AND vat_exemption_code IS NULL AND vat_exemption_reason IS NULL)
    OR (vat_category IN ('E', 'AE', 'K', 'G') AND vat_rate_bp = 0
        AND (vat_exemption_code IS NOT NULL OR vat_exemption_reason IS NOT NULL)));

-- What each line was invoiced under (a copy: a later change of the product changes no document).
ALTER TABLE invoice_lines
  ADD COLUMN vat_category text NULL CHECK (vat_category IN ('S', 'Z', 'E', 'AE', 'K', 'G')),
  ADD COLUMN vat_exemption_code text NULL CHECK (vat_exemption_code ~ '^VATEX-[A-Z]{2}-[A-Z0-9-]{1,20}$'),
  ADD COLUMN vat_exemption_reason text NULL CHECK (length(vat_exemption_reason) BETWEEN 1 AND 200);

-- A company established in another EU member state: its VAT number (with the country prefix,
-- EL for Greece) and its Peppol address (an EAS scheme and an identifier). A legal person's facts.
ALTER TABLE organisations
  ADD COLUMN vat_number text NULL CHECK (vat_number ~ '^[A-Z]{2}[A-Z0-9+*]{2,12}$'),
  ADD COLUMN peppol_scheme text NULL CHECK (peppol_scheme ~ '^[0-9]{4}$'),
  ADD COLUMN peppol_id text NULL CHECK (peppol_id ~ '^[A-Za-z0-9][A-Za-z0-9.:_-]{0,49}$'),
  ADD CONSTRAINT organisations_peppol_address CHECK ((peppol_scheme IS NULL) = (peppol_id IS NULL));

ALTER TABLE invoices
  ADD COLUMN buyer_vat_number text NULL CHECK (buyer_vat_number ~ '^[A-Z]{2}[A-Z0-9+*]{2,12}$'),
  ADD COLUMN buyer_peppol_scheme text NULL CHECK (buyer_peppol_scheme ~ '^[0-9]{4}$'),
  ADD COLUMN buyer_peppol_id text NULL CHECK (buyer_peppol_id ~ '^[A-Za-z0-9][A-Za-z0-9.:_-]{0,49}$');
