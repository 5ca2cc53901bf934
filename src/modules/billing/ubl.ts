import { formatEnterpriseNumber } from '../../kernel/identifiers/enterprise-number.js';
import { parseStructuredCommunication } from '../../kernel/identifiers/structured-communication.js';
import { AppError } from '../../platform/errors.js';
import { formatAmount, formatPercent } from './amounts.js';
import type { InvoiceDocument } from './invoice.service.js';

/** Peppol BIS Billing 3.0 on UBL 2.1. */
export const PEPPOL_CUSTOMIZATION_ID =
  'urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0';
export const PEPPOL_PROFILE_ID = 'urn:fdc:peppol.eu:2017:poacc:billing:01:1.0';
/** ISO 6523 ICD of the Belgian enterprise number (KBO/BCE). */
export const BELGIAN_ENTERPRISE_SCHEME = '0208';

export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/** A tiny writer: elements in the order the UBL schema's sequences require. */
class Xml {
  readonly #parts: string[] = [];
  #depth = 0;

  open(name: string, attributes: Record<string, string> = {}): this {
    this.#parts.push(`${'  '.repeat(this.#depth)}<${name}${attrs(attributes)}>`);
    this.#depth += 1;
    return this;
  }

  close(name: string): this {
    this.#depth -= 1;
    this.#parts.push(`${'  '.repeat(this.#depth)}</${name}>`);
    return this;
  }

  leaf(name: string, value: string | null | undefined, attributes: Record<string, string> = {}): this {
    if (value === null || value === undefined || value === '') return this;
    this.#parts.push(`${'  '.repeat(this.#depth)}<${name}${attrs(attributes)}>${escapeXml(value)}</${name}>`);
    return this;
  }

  toString(): string {
    return `<?xml version="1.0" encoding="UTF-8"?>\n${this.#parts.join('\n')}\n`;
  }
}

function attrs(attributes: Record<string, string>): string {
  return Object.entries(attributes)
    .map(([key, value]) => ` ${key}="${escapeXml(value)}"`)
    .join('');
}

const EUR = { currencyID: 'EUR' };

interface TaxCategoryData {
  category: string;
  rateBp: number;
  /** BT-121 / BT-120: in the VAT breakdown only (a line names its category and rate). */
  exemptionCode?: string | null;
  exemptionReason?: string | null;
}

function taxCategory(xml: Xml, element: string, data: TaxCategoryData): void {
  xml
    .open(element)
    .leaf('cbc:ID', data.category)
    .leaf('cbc:Percent', formatPercent(data.rateBp))
    .leaf('cbc:TaxExemptionReasonCode', data.exemptionCode)
    .leaf('cbc:TaxExemptionReason', data.exemptionReason)
    .open('cac:TaxScheme')
    .leaf('cbc:ID', 'VAT')
    .close('cac:TaxScheme')
    .close(element);
}

/**
 * The Peppol address scheme (EAS) of an EU company known by its VAT number, for the member states
 * whose VAT number is an EAS of its own; others must give their Peppol address (decision 0261).
 */
export const EAS_BY_VAT_PREFIX: Readonly<Record<string, string>> = {
  AT: '9914',
  BG: '9926',
  CY: '9928',
  CZ: '9929',
  DE: '9930',
  EE: '9931',
  EL: '9933',
  ES: '9920',
  FR: '9957',
  HR: '9934',
  HU: '9910',
  IE: '9935',
  IT: '0211',
  LT: '9937',
  LU: '9938',
  LV: '9939',
  MT: '9943',
  NL: '9944',
  PL: '9945',
  PT: '9946',
  RO: '9947',
  SI: '9949',
  SK: '9950',
};

interface PartyData {
  name: string;
  /** A Belgian company's enterprise number (legal registration, and Peppol address by default). */
  enterpriseNumber: string | null;
  /** A foreign EU company's VAT number, with its prefix. */
  vatNumber?: string | null | undefined;
  /** The Peppol address (BT-49 / BT-34). */
  endpoint: { scheme: string; id: string };
  street: string | null;
  postalCode: string | null;
  city: string | null;
  country: string;
  email?: string | undefined;
  /** Whether the VAT number (BT-31/BT-48) goes on the document: only for a VAT-registered party. */
  vatRegistered: boolean;
  /** The SEPA creditor identifier (BT-90) of a seller collecting by direct debit. */
  sepaCreditorId?: string | undefined;
}

function party(xml: Xml, element: string, data: PartyData): void {
  const vat =
    data.vatNumber ??
    (data.enterpriseNumber ? formatEnterpriseNumber(data.enterpriseNumber).replaceAll('.', '') : null);
  xml
    .open(element)
    .open('cac:Party')
    .leaf('cbc:EndpointID', data.endpoint.id, { schemeID: data.endpoint.scheme });
  if (data.sepaCreditorId) {
    xml
      .open('cac:PartyIdentification')
      .leaf('cbc:ID', data.sepaCreditorId, { schemeID: 'SEPA' })
      .close('cac:PartyIdentification');
  }
  xml
    .open('cac:PartyName')
    .leaf('cbc:Name', data.name)
    .close('cac:PartyName')
    .open('cac:PostalAddress')
    .leaf('cbc:StreetName', data.street)
    .leaf('cbc:CityName', data.city)
    .leaf('cbc:PostalZone', data.postalCode)
    .open('cac:Country')
    .leaf('cbc:IdentificationCode', data.country)
    .close('cac:Country')
    .close('cac:PostalAddress');
  if (data.vatRegistered && vat) {
    xml
      .open('cac:PartyTaxScheme')
      .leaf('cbc:CompanyID', vat)
      .open('cac:TaxScheme')
      .leaf('cbc:ID', 'VAT')
      .close('cac:TaxScheme')
      .close('cac:PartyTaxScheme');
  }
  xml.open('cac:PartyLegalEntity').leaf('cbc:RegistrationName', data.name);
  if (data.enterpriseNumber) {
    xml.leaf('cbc:CompanyID', data.enterpriseNumber, { schemeID: BELGIAN_ENTERPRISE_SCHEME });
  }
  xml.close('cac:PartyLegalEntity');
  if (data.email) xml.open('cac:Contact').leaf('cbc:ElectronicMail', data.email).close('cac:Contact');
  xml.close('cac:Party').close(element);
}

/** How an invoice is paid: collected under the mandate, else transferred to the seller's account. */
function paymentMeans(xml: Xml, document: InvoiceDocument, paymentId: string, directDebit: boolean): void {
  const { buyer, seller } = document;
  if (directDebit) {
    xml
      .open('cac:PaymentMeans')
      .leaf('cbc:PaymentMeansCode', '59', { name: 'SEPA direct debit' })
      .leaf('cbc:PaymentID', paymentId)
      .open('cac:PaymentMandate')
      .leaf('cbc:ID', buyer.mandate)
      .open('cac:PayerFinancialAccount')
      .leaf('cbc:ID', buyer.iban)
      .close('cac:PayerFinancialAccount')
      .close('cac:PaymentMandate')
      .close('cac:PaymentMeans');
    return;
  }
  xml
    .open('cac:PaymentMeans')
    .leaf('cbc:PaymentMeansCode', '30', { name: 'Credit transfer' })
    .leaf('cbc:PaymentID', paymentId)
    .open('cac:PayeeFinancialAccount')
    .leaf('cbc:ID', seller.payeeIban)
    .leaf('cbc:Name', seller.legalName);
  if (seller.payeeBic) {
    xml
      .open('cac:FinancialInstitutionBranch')
      .leaf('cbc:ID', seller.payeeBic)
      .close('cac:FinancialInstitutionBranch');
  }
  xml.close('cac:PayeeFinancialAccount').close('cac:PaymentMeans');
}

/** The buyer's Peppol address: as given, else its enterprise number, else its VAT number's scheme. */
function endpointOf(buyer: InvoiceDocument['buyer']): { scheme: string; id: string } | undefined {
  if (buyer.peppolScheme && buyer.peppolId) return { scheme: buyer.peppolScheme, id: buyer.peppolId };
  if (buyer.enterpriseNumber) return { scheme: BELGIAN_ENTERPRISE_SCHEME, id: buyer.enterpriseNumber };
  const scheme = buyer.vatNumber ? EAS_BY_VAT_PREFIX[buyer.vatNumber.slice(0, 2)] : undefined;
  return scheme && buyer.vatNumber ? { scheme, id: buyer.vatNumber } : undefined;
}

/** The buyer's account at the seller: the organisation, else the person, as the seller knows it. */
function customerNumberOf(document: InvoiceDocument): string {
  if (document.organisationId !== null) return `customer O-${document.organisationId}`;
  return document.subjectId !== null ? `customer P-${document.subjectId}` : document.invoiceNumber;
}

/**
 * The Peppol BIS Billing 3.0 document (UBL 2.1 Invoice or CreditNote) of a business customer's
 * invoice, field by field as the official Peppol examples: enterprise numbers with scheme 0208,
 * Belgian VAT numbers, VAT per rate, the structured communication as payment id with the payee
 * IBAN (credit transfer, code 30) or the mandate (SEPA direct debit, code 59).
 */
export function renderUbl(document: InvoiceDocument): string {
  const buyer = document.buyer;
  const buyerEndpoint = endpointOf(buyer);
  if (!buyerEndpoint) {
    throw new AppError('conflict', 'not a business customer', {
      publicMessage:
        'Peppol e-invoices are for business customers with an enterprise number or an EU VAT number; this customer gets the HTML invoice',
    });
  }
  if (!buyer.name) {
    throw new AppError('category_not_allowed', 'buyer name not covered', {
      publicMessage: "the purpose does not cover the buyer's name, which an e-invoice must carry",
    });
  }
  const isCredit = document.kind === 'credit_note';
  const directDebit = !isCredit && Boolean(buyer.mandate && buyer.iban);
  const root = isCredit ? 'CreditNote' : 'Invoice';
  const seller = document.seller;
  const xml = new Xml();
  xml
    .open(root, {
      'xmlns:cac': 'urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2',
      'xmlns:cbc': 'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2',
      xmlns: `urn:oasis:names:specification:ubl:schema:xsd:${root}-2`,
    })
    .leaf('cbc:CustomizationID', PEPPOL_CUSTOMIZATION_ID)
    .leaf('cbc:ProfileID', PEPPOL_PROFILE_ID)
    .leaf('cbc:ID', document.invoiceNumber)
    .leaf('cbc:IssueDate', document.issueDate);
  if (isCredit) xml.leaf('cbc:CreditNoteTypeCode', '381');
  else xml.leaf('cbc:DueDate', document.dueDate).leaf('cbc:InvoiceTypeCode', '380');
  // BT-10 is the buyer's own routing reference; a buyer that gave none is routed by its
  // customer number at the seller (decision 0180), never by this document's own number.
  const buyerReference = buyer.reference ?? customerNumberOf(document);
  xml.leaf('cbc:DocumentCurrencyCode', 'EUR').leaf('cbc:BuyerReference', buyerReference);
  if (document.periodStart && document.periodEnd) {
    xml
      .open('cac:InvoicePeriod')
      .leaf('cbc:StartDate', document.periodStart)
      .leaf('cbc:EndDate', document.periodEnd)
      .close('cac:InvoicePeriod');
  }
  // BT-13: the buyer's purchase order; a credit note repeats its invoice's (decision 0260).
  if (buyer.orderReference) {
    xml.open('cac:OrderReference').leaf('cbc:ID', buyer.orderReference).close('cac:OrderReference');
  }
  if (isCredit && document.creditedInvoiceNumber) {
    xml
      .open('cac:BillingReference')
      .open('cac:InvoiceDocumentReference')
      .leaf('cbc:ID', document.creditedInvoiceNumber)
      .close('cac:InvoiceDocumentReference')
      .close('cac:BillingReference');
  }
  party(xml, 'cac:AccountingSupplierParty', {
    name: seller.legalForm ? `${seller.legalName} ${seller.legalForm}` : seller.legalName,
    enterpriseNumber: seller.enterpriseNumber,
    endpoint: { scheme: BELGIAN_ENTERPRISE_SCHEME, id: seller.enterpriseNumber },
    street: seller.street,
    postalCode: seller.postalCode,
    city: seller.city,
    country: seller.country,
    email: seller.email,
    vatRegistered: true,
    sepaCreditorId: directDebit ? seller.sepaCreditorId : undefined,
  });
  party(xml, 'cac:AccountingCustomerParty', {
    name: buyer.name,
    enterpriseNumber: buyer.enterpriseNumber ?? null,
    vatNumber: buyer.vatNumber,
    endpoint: buyerEndpoint,
    street: buyer.street ?? null,
    postalCode: buyer.postalCode ?? null,
    city: buyer.city ?? null,
    country: buyer.country ?? 'BE',
    // Documents issued before the flag existed were all written with the VAT number.
    vatRegistered: buyer.vatRegistered ?? true,
  });
  // An intra-community supply names the country the goods go to (BT-80, BR-IC-12).
  if (document.lines.some((line) => line.vatCategory === 'K')) {
    xml
      .open('cac:Delivery')
      .open('cac:DeliveryLocation')
      .open('cac:Address')
      .open('cac:Country')
      .leaf('cbc:IdentificationCode', buyer.country ?? 'BE')
      .close('cac:Country')
      .close('cac:Address')
      .close('cac:DeliveryLocation')
      .close('cac:Delivery');
  }
  const ogm = parseStructuredCommunication(document.structuredCommunication);
  const paymentId = ogm.ok ? ogm.formatted : document.structuredCommunication;
  // A credit note asks the customer for nothing: no payment instructions to the seller's account.
  if (!isCredit) {
    paymentMeans(xml, document, paymentId, directDebit);
    xml
      .open('cac:PaymentTerms')
      .leaf('cbc:Note', `Payment by ${document.dueDate} with structured communication ${paymentId}`)
      .close('cac:PaymentTerms');
  }
  xml.open('cac:TaxTotal').leaf('cbc:TaxAmount', formatAmount(document.vatCents), EUR);
  for (const subtotal of document.subtotals) {
    xml
      .open('cac:TaxSubtotal')
      .leaf('cbc:TaxableAmount', formatAmount(subtotal.taxableCents), EUR)
      .leaf('cbc:TaxAmount', formatAmount(subtotal.vatCents), EUR);
    taxCategory(xml, 'cac:TaxCategory', subtotal);
    xml.close('cac:TaxSubtotal');
  }
  xml
    .close('cac:TaxTotal')
    .open('cac:LegalMonetaryTotal')
    .leaf('cbc:LineExtensionAmount', formatAmount(document.totalExclVatCents), EUR)
    .leaf('cbc:TaxExclusiveAmount', formatAmount(document.totalExclVatCents), EUR)
    .leaf('cbc:TaxInclusiveAmount', formatAmount(document.totalInclVatCents), EUR)
    .leaf('cbc:PayableAmount', formatAmount(document.totalInclVatCents), EUR)
    .close('cac:LegalMonetaryTotal');
  const lineElement = isCredit ? 'cac:CreditNoteLine' : 'cac:InvoiceLine';
  for (const line of document.lines) {
    xml
      .open(lineElement)
      .leaf('cbc:ID', String(line.lineNo))
      .leaf(isCredit ? 'cbc:CreditedQuantity' : 'cbc:InvoicedQuantity', String(line.quantity), {
        unitCode: 'C62',
      })
      .leaf('cbc:LineExtensionAmount', formatAmount(line.amountCents), EUR)
      .open('cac:Item')
      .leaf('cbc:Name', line.description.slice(0, 100));
    taxCategory(xml, 'cac:ClassifiedTaxCategory', { category: line.vatCategory, rateBp: line.vatRateBp });
    xml
      .close('cac:Item')
      .open('cac:Price')
      .leaf('cbc:PriceAmount', formatAmount(line.unitPriceCents), EUR)
      .close('cac:Price')
      .close(lineElement);
  }
  xml.close(root);
  return xml.toString();
}
