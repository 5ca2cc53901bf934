import { sql } from 'kysely';

/**
 * What the contracts module publishes of its contracts for another module's set-based statements
 * (the invoice run, decision 0552): relations with a fixed set of columns that a query of the
 * other module joins like a table, so the run stays one statement per step while the tables stay
 * the contracts module's (house rule, decision 0530). PostgreSQL pulls such a subquery up into the
 * statement; the reader's repository function holds the Grant for what it reads through them.
 */

/** Contracts: their customer, organisation and dates. */
export const CONTRACTS = sql`(select tenant_id, contract_id, subject_id, organisation_id, start_date, end_date
  from contracts)`;

/**
 * Each contract line with its contract's customer, organisation and dates and its product: the
 * line's quantity, agreed price and VAT rate; the product's name, kind and VAT treatment.
 * kluis.contract.product.
 */
export const CONTRACT_LINES = sql`(select c.tenant_id, c.contract_id, c.subject_id, c.organisation_id, c.start_date,
    c.end_date, l.line_no, l.product_id, l.quantity, l.unit_price_cents, l.vat_rate_bp, p.name, p.kind,
    p.vat_category, p.vat_exemption_code, p.vat_exemption_reason
  from contracts c
  join contract_lines l on l.tenant_id = c.tenant_id and l.contract_id = c.contract_id
  join contract_products p on p.tenant_id = l.tenant_id and p.product_id = l.product_id)`;
