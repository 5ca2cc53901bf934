import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, requestAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import { checkPeppolRules, validateUbl } from '../../../test/xml.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tenant } from '../tenants/index.js';
import {
  createCustomer,
  prepareTenant,
  registerOrganisation,
  startContract,
} from './billing.test-helpers.js';

const clock = fixedClock(new Date('2026-11-05T10:00:00Z'));

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voxtra: Tenant;
let billing: StaffSession;
let otherBilling: StaffSession;
let catalogue: Awaited<ReturnType<typeof prepareTenant>>;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  app = await createTestApp(kernel);
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  const voiceking = await createPolicyTenant(kernel, 'voiceking');
  billing = await loginAs(app, kernel, voxtra, 'billing');
  otherBilling = await loginAs(app, kernel, voiceking, 'billing');
  catalogue = await prepareTenant(kernel, voxtra);
});
afterAll(async () => {
  await app.close();
  await database.close();
});

function call(
  session: StaffSession,
  method: 'GET' | 'POST' | 'PATCH' | 'PUT',
  url: string,
  payload?: unknown,
) {
  return requestAs(app, session, session === billing ? 'invoicing' : 'billing')(method, url, payload);
}

const registerCompany = (body: Record<string, unknown>) =>
  registerOrganisation(requestAs(app, billing, 'invoicing'), body);

describe('business invoices carry the company’s own facts (issue 22)', () => {
  it('VX-3: a business invoice goes to the company’s billing address with its own reference, without a VAT number when it is not VAT-registered, and its credit note repeats the reference (UBL over HTTP, every Peppol rule)', async () => {
    const small = await registerCompany({
      name: 'Kapsalon Lotte',
      enterpriseNumber: '0649.503.981',
      address: { street: 'Nederkouter 12', postalCode: '9000', city: 'Gent' },
      billingAddress: { street: 'Postbus 77', postalCode: '9000', city: 'Gent', country: 'BE' },
      vatRegistered: false,
      buyerReference: 'KOST-4410',
    });
    const large = await registerCompany({
      name: 'Bakkerij Janssens BV',
      enterpriseNumber: '0403.536.628',
      address: { street: 'Grote Markt 3', postalCode: '8500', city: 'Kortrijk' },
    });
    // The contact persons live at Veldstraat 1 (the helper's private address).
    const lotte = await createCustomer(kernel, voxtra, { familyName: 'Claes', organisationId: small });
    const jan = await createCustomer(kernel, voxtra, { familyName: 'Janssens', organisationId: large });
    for (const [subjectId, organisationId] of [
      [lotte, small],
      [jan, large],
    ] as const) {
      await startContract(kernel, voxtra, subjectId, {
        startDate: '2026-10-01',
        organisationId,
        lines: [{ productId: catalogue.subscription }],
      });
    }
    const run = await call(billing, 'POST', '/api/v1/invoice-runs', {
      period: '2026-10',
      callsPurpose: 'call_billing',
    });
    expect(run.statusCode).toBe(200);
    const items = (await call(billing, 'GET', '/api/v1/invoices?period=2026-10')).json<{
      items: Array<{ invoiceId: number; invoiceNumber: string; organisationId: number | null }>;
    }>().items;
    const smallInvoice = items.find((item) => item.organisationId === small);
    const largeInvoice = items.find((item) => item.organisationId === large);
    if (!smallInvoice || !largeInvoice) throw new Error('missing invoices');

    const smallXml = (await call(billing, 'GET', `/api/v1/invoices/${smallInvoice.invoiceId}/ubl`)).body;
    expect(await validateUbl(smallXml, 'UBL-Invoice-2.1.xsd')).toEqual({ valid: true, errors: [] });
    expect(await checkPeppolRules(smallXml)).toEqual([]);
    expect(smallXml).toContain('<cbc:BuyerReference>KOST-4410</cbc:BuyerReference>');
    const buyerParty = smallXml.slice(
      smallXml.indexOf('<cac:AccountingCustomerParty>'),
      smallXml.indexOf('</cac:AccountingCustomerParty>'),
    );
    expect(buyerParty).toContain('<cbc:StreetName>Postbus 77</cbc:StreetName>');
    expect(buyerParty).not.toContain('Veldstraat');
    expect(buyerParty).not.toContain('Nederkouter');
    // Not VAT-registered: no BT-48, the enterprise number stays as legal registration (BT-47).
    expect(buyerParty).not.toContain('<cac:PartyTaxScheme>');
    expect(buyerParty).toContain('<cbc:CompanyID schemeID="0208">0649503981</cbc:CompanyID>');

    const largeXml = (await call(billing, 'GET', `/api/v1/invoices/${largeInvoice.invoiceId}/ubl`)).body;
    expect(await checkPeppolRules(largeXml)).toEqual([]);
    expect(largeXml).toContain('<cbc:StreetName>Grote Markt 3</cbc:StreetName>');
    expect(largeXml).toContain('<cbc:CompanyID>BE0403536628</cbc:CompanyID>');
    // No reference given: routed by the customer number, not by the document's own number.
    expect(largeXml).toContain(`<cbc:BuyerReference>customer O-${large}</cbc:BuyerReference>`);
    expect(largeXml).not.toContain(`<cbc:BuyerReference>${largeInvoice.invoiceNumber}`);

    const note = await call(billing, 'POST', `/api/v1/invoices/${smallInvoice.invoiceId}/credit-notes`, {
      reasonCode: 'billing_error',
      amountExclVatCents: 500,
    });
    expect(note.statusCode).toBe(201);
    const noteXml = (
      await call(billing, 'GET', `/api/v1/invoices/${note.json<{ invoiceId: number }>().invoiceId}/ubl`)
    ).body;
    expect(await validateUbl(noteXml, 'UBL-CreditNote-2.1.xsd')).toEqual({ valid: true, errors: [] });
    expect(await checkPeppolRules(noteXml)).toEqual([]);
    expect(noteXml).toContain('<cbc:BuyerReference>KOST-4410</cbc:BuyerReference>');
    expect(noteXml).toContain(`<cbc:ID>${smallInvoice.invoiceNumber}</cbc:ID>`);

    // What the invoice says stays as issued: a later change of the company's facts changes no document.
    const changed = await call(billing, 'PATCH', `/api/v1/organisations/${small}`, {
      vatRegistered: true,
      buyerReference: 'KOST-9999',
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ vatRegistered: true, buyerReference: 'KOST-9999' });
    const again = (await call(billing, 'GET', `/api/v1/invoices/${smallInvoice.invoiceId}/ubl`)).body;
    expect(again).toBe(smallXml);
  });

  it('VX-3: a contract’s purchase-order number is the invoice’s OrderReference and its buyer reference overrides the company’s; the credit note repeats both (UBL over HTTP, every Peppol rule)', async () => {
    const company = await registerCompany({
      name: 'Brouwerij De Leeuw NV',
      enterpriseNumber: '0404.616.494',
      address: { street: 'Brouwerijstraat 2', postalCode: '9300', city: 'Aalst' },
      buyerReference: 'COMPANY-REF',
    });
    const contact = await createCustomer(kernel, voxtra, { familyName: 'De Leeuw', organisationId: company });
    const contract = await startContract(kernel, voxtra, contact, {
      startDate: '2026-08-01',
      endDate: '2026-08-31',
      organisationId: company,
      lines: [{ productId: catalogue.subscription }],
    });
    // Bad input changes nothing: a reference that is not a code, an IBAN typed as PO number,
    // an empty body, another tenant's clerk.
    const url = `/api/v1/contracts/${contract}/billing-options`;
    const bad = await call(billing, 'PUT', url, { purchaseOrderNumber: 'PO <script>' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'validation_failed' });
    const iban = await call(billing, 'PUT', url, { purchaseOrderNumber: 'BE71 0961 2345 6769' });
    expect(iban.statusCode).toBe(422);
    expect(iban.json()).toMatchObject({ code: 'sensitive_data_refused' });
    expect((await call(billing, 'PUT', url, {})).statusCode).toBe(400);
    expect((await call(otherBilling, 'PUT', url, { purchaseOrderNumber: 'PO-1' })).statusCode).toBe(404);

    const set = await call(billing, 'PUT', url, {
      purchaseOrderNumber: 'PO-4500012345',
      buyerReference: 'DEPT-77',
    });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toEqual({
      contractId: contract,
      itemisedCalls: false,
      purchaseOrderNumber: 'PO-4500012345',
      buyerReference: 'DEPT-77',
    });
    // An option left out keeps its value.
    const itemised = await call(billing, 'PUT', url, { itemisedCalls: true });
    expect(itemised.json()).toMatchObject({ itemisedCalls: true, purchaseOrderNumber: 'PO-4500012345' });

    const run = await call(billing, 'POST', '/api/v1/invoice-runs', {
      period: '2026-08',
      callsPurpose: 'call_billing',
    });
    expect(run.statusCode).toBe(200);
    const invoice = (await call(billing, 'GET', '/api/v1/invoices?period=2026-08'))
      .json<{ items: Array<{ invoiceId: number; invoiceNumber: string; organisationId: number | null }> }>()
      .items.find((item) => item.organisationId === company);
    if (!invoice) throw new Error('missing invoice');
    const shown = (await call(billing, 'GET', `/api/v1/invoices/${invoice.invoiceId}`)).json<{
      buyer: Record<string, unknown>;
    }>();
    expect(shown.buyer).toMatchObject({ reference: 'DEPT-77', orderReference: 'PO-4500012345' });
    const xml = (await call(billing, 'GET', `/api/v1/invoices/${invoice.invoiceId}/ubl`)).body;
    expect(await validateUbl(xml, 'UBL-Invoice-2.1.xsd')).toEqual({ valid: true, errors: [] });
    expect(await checkPeppolRules(xml)).toEqual([]);
    expect(xml).toContain('<cbc:BuyerReference>DEPT-77</cbc:BuyerReference>');
    expect(xml).not.toContain('COMPANY-REF');
    expect(xml).toMatch(/<cac:OrderReference>\s*<cbc:ID>PO-4500012345<\/cbc:ID>\s*<\/cac:OrderReference>/);

    // A later change of the contract changes no issued document; the credit note repeats the
    // invoice's references, not the contract's current ones.
    await call(billing, 'PUT', url, { purchaseOrderNumber: 'PO-NEW', buyerReference: null });
    const note = await call(billing, 'POST', `/api/v1/invoices/${invoice.invoiceId}/credit-notes`, {
      reasonCode: 'billing_error',
      amountExclVatCents: 200,
    });
    expect(note.statusCode).toBe(201);
    const noteXml = (
      await call(billing, 'GET', `/api/v1/invoices/${note.json<{ invoiceId: number }>().invoiceId}/ubl`)
    ).body;
    expect(await validateUbl(noteXml, 'UBL-CreditNote-2.1.xsd')).toEqual({ valid: true, errors: [] });
    expect(await checkPeppolRules(noteXml)).toEqual([]);
    expect(noteXml).toContain('<cbc:BuyerReference>DEPT-77</cbc:BuyerReference>');
    expect(noteXml).toMatch(/<cac:OrderReference>\s*<cbc:ID>PO-4500012345<\/cbc:ID>/);
    expect(noteXml).not.toContain('PO-NEW');
  });

  it('two contracts with different purchase orders on one invoice: no document-level order, each line names its own', async () => {
    const company = await registerCompany({
      name: 'Transport Maes BV',
      enterpriseNumber: '0417.497.106',
      address: { street: 'Havenlaan 5', postalCode: '2000', city: 'Antwerpen' },
    });
    const contact = await createCustomer(kernel, voxtra, { familyName: 'Maes', organisationId: company });
    for (const po of ['PO-A-1', 'PO-B-2']) {
      const contract = await startContract(kernel, voxtra, contact, {
        startDate: '2026-07-01',
        endDate: '2026-07-31',
        organisationId: company,
        lines: [{ productId: catalogue.subscription }],
      });
      expect(
        (
          await call(billing, 'PUT', `/api/v1/contracts/${contract}/billing-options`, {
            purchaseOrderNumber: po,
          })
        ).statusCode,
      ).toBe(200);
    }
    await call(billing, 'POST', '/api/v1/invoice-runs', { period: '2026-07', callsPurpose: 'call_billing' });
    const invoice = (await call(billing, 'GET', '/api/v1/invoices?period=2026-07'))
      .json<{ items: Array<{ invoiceId: number; organisationId: number | null }> }>()
      .items.find((item) => item.organisationId === company);
    if (!invoice) throw new Error('missing invoice');
    const xml = (await call(billing, 'GET', `/api/v1/invoices/${invoice.invoiceId}/ubl`)).body;
    expect(await checkPeppolRules(xml)).toEqual([]);
    expect(xml).not.toContain('<cac:OrderReference>');
    expect(xml).toContain('PO PO-A-1');
    expect(xml).toContain('PO PO-B-2');
  });

  it('a company’s facts are checked and stay in their tenant', async () => {
    const id = await registerCompany({ name: 'Drukkerij Peeters', country: 'BE' });
    const shown = await call(billing, 'GET', `/api/v1/organisations/${id}`);
    expect(shown.json()).toMatchObject({
      address: null,
      billingAddress: null,
      vatRegistered: true,
      buyerReference: null,
    });

    const badCountry = await call(billing, 'PATCH', `/api/v1/organisations/${id}`, {
      billingAddress: { street: 'Rue Haute 1', postalCode: '1000', city: 'Bruxelles', country: 'belgium' },
    });
    expect(badCountry.statusCode).toBe(400);
    expect(badCountry.json()).toMatchObject({ code: 'validation_failed' });
    const empty = await call(billing, 'PATCH', `/api/v1/organisations/${id}`, {});
    expect(empty.statusCode).toBe(400);
    const iban = await call(billing, 'PATCH', `/api/v1/organisations/${id}`, {
      buyerReference: 'BE71 0961 2345 6769',
    });
    expect(iban.statusCode).toBe(422);
    expect(iban.json()).toMatchObject({ code: 'sensitive_data_refused' });
    expect((await call(billing, 'GET', `/api/v1/organisations/${id}`)).json()).toMatchObject({
      buyerReference: null,
    });

    // Another provider's clerk finds nothing under this id and changes nothing.
    const foreign = await call(otherBilling, 'PATCH', `/api/v1/organisations/${id}`, {
      vatRegistered: false,
    });
    expect(foreign.statusCode).toBe(404);
    expect((await call(billing, 'GET', `/api/v1/organisations/${id}`)).json()).toMatchObject({
      vatRegistered: true,
    });
  });

  it('VX-3: a direct-debit invoice names the provider’s SEPA creditor identifier (BT-90) and its credit note asks for no payment (UBL over HTTP, every Peppol rule)', async () => {
    const wrong = await call(billing, 'PUT', '/api/v1/billing/settings', {
      payeeIban: 'BE68 5390 0754 7034',
      sepaCreditorId: 'BE69ZZZ050D000000009',
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toMatchObject({ code: 'validation_failed' });
    expect((await call(billing, 'GET', '/api/v1/billing/settings')).json()).toMatchObject({
      sepaCreditorId: null,
    });
    const settings = await call(billing, 'PUT', '/api/v1/billing/settings', {
      payeeIban: 'BE68 5390 0754 7034',
      payeeBic: 'GKCCBEBB',
      sepaCreditorId: 'be69 zzz 050d000000008',
    });
    expect(settings.statusCode).toBe(200);
    expect(settings.json()).toMatchObject({ sepaCreditorId: 'BE69ZZZ050D000000008' });

    const company = await registerCompany({
      name: 'Garage Wouters NV',
      enterpriseNumber: '0202.239.951',
      address: { street: 'Stationsstraat 8', postalCode: '2800', city: 'Mechelen' },
    });
    const contact = await createCustomer(kernel, voxtra, { familyName: 'Wouters', organisationId: company });
    await startContract(kernel, voxtra, contact, {
      startDate: '2026-09-01',
      endDate: '2026-09-30',
      organisationId: company,
      lines: [{ productId: catalogue.subscription }],
    });
    const mandate = await call(billing, 'POST', `/api/v1/customers/${contact}/bank-accounts`, {
      iban: 'BE71 0961 2345 6769',
      directDebitMandate: 'VX-MANDATE-9',
      mandateSignedOn: '2026-08-20',
    });
    expect(mandate.statusCode).toBe(201);
    expect(
      (
        await call(billing, 'POST', '/api/v1/invoice-runs', {
          period: '2026-09',
          callsPurpose: 'call_billing',
        })
      ).statusCode,
    ).toBe(200);
    const invoice = (await call(billing, 'GET', '/api/v1/invoices?period=2026-09'))
      .json<{
        items: Array<{ invoiceId: number; organisationId: number | null }>;
      }>()
      .items.find((item) => item.organisationId === company);
    if (!invoice) throw new Error('missing invoice');
    const xml = (await call(billing, 'GET', `/api/v1/invoices/${invoice.invoiceId}/ubl`)).body;
    expect(await checkPeppolRules(xml)).toEqual([]);
    expect(xml).toContain('<cbc:PaymentMeansCode name="SEPA direct debit">59</cbc:PaymentMeansCode>');
    const seller = xml.slice(
      xml.indexOf('<cac:AccountingSupplierParty>'),
      xml.indexOf('</cac:AccountingSupplierParty>'),
    );
    expect(seller).toContain('<cbc:ID schemeID="SEPA">BE69ZZZ050D000000008</cbc:ID>');

    const note = await call(billing, 'POST', `/api/v1/invoices/${invoice.invoiceId}/credit-notes`, {
      reasonCode: 'billing_error',
      amountExclVatCents: 300,
    });
    expect(note.statusCode).toBe(201);
    const noteXml = (
      await call(billing, 'GET', `/api/v1/invoices/${note.json<{ invoiceId: number }>().invoiceId}/ubl`)
    ).body;
    expect(await checkPeppolRules(noteXml)).toEqual([]);
    expect(noteXml).not.toContain('<cac:PaymentMeans>');
    expect(noteXml).not.toContain('BE68539007547034');
    expect(noteXml).not.toContain('schemeID="SEPA"');
  });

  it('VX-3: the invoice list filters by status (disputed included), billed month, issue dates and business customer (HTTP)', async () => {
    type Item = { invoiceId: number; kind: string; organisationId: number | null; status: string };
    const list = async (query: string) => {
      const response = await call(billing, 'GET', `/api/v1/invoices?limit=200${query}`);
      expect(response.statusCode, response.body).toBe(200);
      return response.json<{ items: Item[] }>().items;
    };
    const all = await list('');
    const invoices = all.filter((item) => item.kind === 'invoice');
    const target = invoices.find((item) => item.organisationId !== null);
    if (!target || target.organisationId === null) throw new Error('no business invoice');
    expect(await list('&status=disputed')).toEqual([]);
    const disputed = await call(billing, 'POST', `/api/v1/invoices/${target.invoiceId}/dispute`, {
      reason: 'The customer contests the subscription of this month.',
    });
    expect(disputed.statusCode, disputed.body).toBeLessThan(300);
    expect((await list('&status=disputed')).map((item) => item.invoiceId)).toEqual([target.invoiceId]);

    const ofCompany = await list(`&organisationId=${target.organisationId}`);
    expect(ofCompany.length).toBeGreaterThan(0);
    expect(ofCompany.every((item) => item.organisationId === target.organisationId)).toBe(true);
    expect(ofCompany.length).toBe(all.filter((item) => item.organisationId === target.organisationId).length);

    // Every document here was issued on the clock's day, 2026-11-05.
    expect(await list('&issuedFrom=2026-11-05&issuedTo=2026-11-05')).toHaveLength(all.length);
    expect(await list('&issuedFrom=2026-11-06')).toEqual([]);
    expect((await list('&period=2026-10')).length).toBeGreaterThan(0);
    const open = await list('&status=open');
    expect(open.every((item) => item.status === 'open')).toBe(true);
    expect((await call(billing, 'GET', '/api/v1/invoices?status=unpaid')).statusCode).toBe(400);
    expect((await call(billing, 'GET', '/api/v1/invoices?issuedFrom=05/11/2026')).statusCode).toBe(400);
  });
});
