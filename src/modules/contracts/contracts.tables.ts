import type { ColumnType, Generated } from 'kysely';

/** A `date` column, always selected as `::text` (YYYY-MM-DD) so no time zone touches it. */
type DateColumn = ColumnType<string, string, string>;

export type ProductKind = 'subscription' | 'one_off' | 'service';
export type StoredQuoteStatus = 'draft' | 'sent' | 'accepted' | 'rejected';
export type OrderStatus = 'placed' | 'delivered' | 'cancelled';
export type TerminationChannel = 'written' | 'email' | 'phone' | 'portal';

/**
 * The channels by which the customer gives notice in writing: a letter, an e-mail, a message
 * through the portal. Only a phone call is not (attack S18-16, decision 0874).
 */
export const WRITTEN_CHANNELS: readonly TerminationChannel[] = ['written', 'email', 'portal'];

export interface ContractProductsTable {
  tenant_id: number;
  product_id: Generated<number>;
  code: string;
  name: string;
  kind: ProductKind;
  price_cents: number;
  vat_rate_bp: number;
  /** NULL: as before categories existed (S above 0 %, Z at 0 %). */
  vat_category: 'S' | 'Z' | 'E' | 'AE' | 'K' | 'G' | null;
  vat_exemption_code: string | null;
  vat_exemption_reason: string | null;
  is_active: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface QuotesTable {
  tenant_id: number;
  quote_id: Generated<number>;
  subject_id: number | null;
  organisation_id: number | null;
  status: StoredQuoteStatus;
  valid_until: DateColumn;
  created_by_staff_id: number | null;
  created_at: Date;
  sent_at: Date | null;
  decided_at: Date | null;
}

export interface LinesTableBase {
  tenant_id: number;
  line_no: number;
  product_id: number;
  quantity: number;
  unit_price_cents: number;
  vat_rate_bp: number;
}

export interface QuoteLinesTable extends LinesTableBase {
  quote_id: number;
}

export interface OrdersTable {
  tenant_id: number;
  order_id: Generated<number>;
  subject_id: number | null;
  organisation_id: number | null;
  quote_id: number | null;
  status: OrderStatus;
  delivery_street: string | null;
  delivery_postal_code: string | null;
  delivery_city: string | null;
  delivery_country: string | null;
  delivered_at: Date | null;
  created_by_staff_id: number | null;
  created_at: Date;
}

export interface OrderLinesTable extends LinesTableBase {
  order_id: number;
}

export interface ContractsTable {
  tenant_id: number;
  contract_id: Generated<number>;
  subject_id: number | null;
  organisation_id: number | null;
  order_id: number | null;
  start_date: DateColumn;
  end_date: DateColumn | null;
  terminated_on: DateColumn | null;
  termination_channel: TerminationChannel | null;
  termination_reason: string | null;
  termination_recorded_at: Date | null;
  terminated_by_staff_id: number | null;
  created_by_staff_id: number | null;
  created_at: Date;
}

export interface ContractLinesTable extends LinesTableBase {
  contract_id: number;
}

export interface DomainEventsTable {
  tenant_id: number;
  event_id: Generated<number>;
  type: string;
  payload: ColumnType<unknown, string, string>;
  occurred_at: Date;
  processed_at: Date | null;
}

export interface ContractsTables {
  contract_products: ContractProductsTable;
  quotes: QuotesTable;
  quote_lines: QuoteLinesTable;
  orders: OrdersTable;
  order_lines: OrderLinesTable;
  contracts: ContractsTable;
  contract_lines: ContractLinesTable;
  domain_events: DomainEventsTable;
}
