-- Issue 22: the language a document is written in (nl, fr or en), fixed when it is issued from
-- the customer's preferred language as far as the issuing purpose covers it, else the tenant's
-- first statement language (decision 0310). NULL on documents issued before: they are rendered in
-- the tenant's default language. Part of the billing record, nulled with the buyer snapshot.
ALTER TABLE invoices
  ADD COLUMN buyer_language text NULL CHECK (buyer_language IN ('nl', 'fr', 'en'));
