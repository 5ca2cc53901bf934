import type { TableDataMap } from '../../kernel/datamap/datamap.js';

/** Policy category keys of contract data (VX-3). */
export const CONTRACT_CATEGORIES = {
  /** Products and services a person has (both seed policies). */
  product: 'kluis.contract.product',
  /** Quotes, orders and deliveries (Voxtra only; see `orderCategoryOf`). */
  order: 'kluis.contract.order',
  address: 'user.contact.address',
} as const;

const PRODUCT = { category: CONTRACT_CATEGORIES.product };
const ADDRESS = { category: CONTRACT_CATEGORIES.address };

const LINE_COLUMNS = {
  tenant_id: 'tenant key',
  line_no: 'position of the line',
  product_id: "catalogue product: a commercial fact, about a person only through the parent row's subject_id",
  quantity: "a commercial fact, about a person only through the parent row's subject_id",
  unit_price_cents: "a commercial fact, about a person only through the parent row's subject_id",
  vat_rate_bp: 'tax rate of the line',
};

const PERSON_LINK =
  'erasure nulls subject_id (the only link to the person): the commercial facts stay, anonymous, ' +
  'for sales figures and the product history; nothing left identifies anyone';

/**
 * Children before parents. Quotes, orders and contracts are classified under
 * kluis.contract.product, the category both seed policies declare; the gate asks for
 * kluis.contract.order for quotes and orders where the tenant's policy declares it
 * (docs/decisions/0030-contracts.md).
 */
export const contractsDataMap: TableDataMap[] = [
  {
    table: 'domain_events',
    module: 'contracts',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      event_id: 'row id',
      type: 'fixed event type key',
      payload: 'ids, dates and fixed keys only (internal subject id, contract id, channel key)',
      occurred_at: 'time of the event',
      processed_at: 'delivery bookkeeping',
    },
  },
  {
    table: 'contract_lines',
    module: 'contracts',
    personal: {},
    notPersonal: { ...LINE_COLUMNS, contract_id: 'parent contract' },
  },
  {
    table: 'contracts',
    module: 'contracts',
    subjectColumn: 'subject_id',
    // A contract that runs or is yet to start (no end date, or one not passed) keeps its holder
    // from erasure: the service and its bill need the data; terminate it first (decision 0940).
    holdsSubject: {
      kind: 'contract',
      endsOn: 'end_date',
      endlessWhileEndsOnNull: true,
      ground: 'running_contract',
    },
    // PERSON_LINK; the end date of an erased customer's contract no longer starts any clock.
    erasure: { kind: 'null_personal' },
    personal: { subject_id: PRODUCT },
    notPersonal: {
      tenant_id: 'tenant key',
      contract_id: 'row id',
      organisation_id: 'business customer (a company)',
      order_id: 'the order the contract came from',
      start_date: `contract facts; ${PERSON_LINK}`,
      end_date: `contract facts; ${PERSON_LINK}`,
      terminated_on: `contract facts; ${PERSON_LINK}`,
      termination_channel: 'fixed key (written, email, phone, portal)',
      termination_reason: 'fixed reason code, never free text',
      termination_recorded_at: 'row bookkeeping',
      terminated_by_staff_id: 'staff id (staff are their own subjects, docs/decisions/0006)',
      created_by_staff_id: 'staff id (staff are their own subjects, docs/decisions/0006)',
      created_at: 'row bookkeeping',
    },
  },
  {
    table: 'order_lines',
    module: 'contracts',
    personal: {},
    notPersonal: { ...LINE_COLUMNS, order_id: 'parent order' },
  },
  {
    table: 'orders',
    module: 'contracts',
    subjectColumn: 'subject_id',
    // PERSON_LINK; the delivery address goes with it.
    erasure: { kind: 'null_personal' },
    personal: {
      subject_id: PRODUCT,
      delivery_street: ADDRESS,
      delivery_postal_code: ADDRESS,
      delivery_city: ADDRESS,
      delivery_country: ADDRESS,
    },
    notPersonal: {
      tenant_id: 'tenant key',
      order_id: 'row id',
      organisation_id: 'business customer (a company)',
      quote_id: 'the quote the order came from',
      status: `order facts; ${PERSON_LINK}`,
      delivered_at: `order facts; ${PERSON_LINK}`,
      created_by_staff_id: 'staff id (staff are their own subjects, docs/decisions/0006)',
      created_at: 'row bookkeeping',
    },
    freeText: {
      delivery_street: 'identifiers',
      delivery_postal_code: 'identifiers',
      delivery_city: 'identifiers',
    },
  },
  {
    table: 'quote_lines',
    module: 'contracts',
    personal: {},
    notPersonal: { ...LINE_COLUMNS, quote_id: 'parent quote' },
  },
  {
    table: 'quotes',
    module: 'contracts',
    subjectColumn: 'subject_id',
    erasure: { kind: 'null_personal' },
    personal: { subject_id: PRODUCT },
    notPersonal: {
      tenant_id: 'tenant key',
      quote_id: 'row id',
      organisation_id: 'business customer (a company)',
      status: `quote facts; ${PERSON_LINK}`,
      valid_until: `quote facts; ${PERSON_LINK}`,
      sent_at: `quote facts; ${PERSON_LINK}`,
      decided_at: `quote facts; ${PERSON_LINK}`,
      created_by_staff_id: 'staff id (staff are their own subjects, docs/decisions/0006)',
      created_at: 'row bookkeeping',
    },
  },
  {
    table: 'contract_products',
    module: 'contracts',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      product_id: 'row id',
      code: 'catalogue: the provider’s products and services',
      name: 'catalogue: the provider’s products and services',
      kind: 'catalogue: the provider’s products and services',
      price_cents: 'catalogue price',
      vat_rate_bp: 'tax rate',
      vat_category: 'fixed key: the VAT category (UNCL5305)',
      vat_exemption_code: 'a VATEX code (format CHECK)',
      vat_exemption_reason: 'the legal ground of a VAT exemption, typed by staff',
      is_active: 'catalogue state',
      created_at: 'row bookkeeping',
      updated_at: 'row bookkeeping',
    },
    freeText: { name: 'identifiers', vat_exemption_reason: 'identifiers' },
  },
];
