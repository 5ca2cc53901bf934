-- Issue 22: the buyer's purchase-order number (OrderReference, BT-13) and its own reference
-- (BuyerReference, BT-10) per contract; the contract's reference overrides the organisation's.
-- Codes the buyer's accounts payable gave, not free text: a format CHECK, and the service scans
-- them for identifiers (an IBAN or national number typed into one is refused).
ALTER TABLE contract_billing_options
  ALTER COLUMN itemised_calls SET DEFAULT false,
  ADD COLUMN purchase_order_number text NULL
    CHECK (purchase_order_number ~ '^[A-Za-z0-9][A-Za-z0-9 ./_:#-]{0,49}$'),
  ADD COLUMN buyer_reference text NULL
    CHECK (buyer_reference ~ '^[A-Za-z0-9][A-Za-z0-9 ./_:#-]{0,99}$');

-- The document keeps the order reference it was issued with; a credit note repeats its invoice's.
ALTER TABLE invoices
  ADD COLUMN buyer_order_reference text NULL
    CHECK (buyer_order_reference ~ '^[A-Za-z0-9][A-Za-z0-9 ./_:#-]{0,49}$');
