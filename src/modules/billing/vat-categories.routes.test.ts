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
let sales: StaffSession;
let catalogue: Awaited<ReturnType<typeof prepareTenant>>;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  app = await createTestApp(kernel);
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  billing = await loginAs(app, kernel, voxtra, 'billing');
  sales = await loginAs(app, kernel, voxtra, 'sales');
  catalogue = await prepareTenant(kernel, voxtra);
});
afterAll(async () => {
  await app.close();
  await database.close();
});

function call(session: StaffSession, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) {
  return requestAs(app, session, session === billing ? 'invoicing' : undefined)(method, url, payload);
}

async function product(body: Record<string, unknown>): Promise<number> {
  const response = await call(sales, 'POST', '/api/v1/products', {
    kind: 'service',
    priceCents: 10_000,
    ...body,
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{ productId: number }>().productId;
}

// A registered office unless the body gives one: an invoice goes to an address (decision 1290).
const company = (body: Record<string, unknown>) =>
  registerOrganisation(requestAs(app, billing, 'invoicing'), {
    address: { street: 'Kerkstraat 1', postalCode: '9000', city: 'Gent' },
    ...body,
  });

/** A contact person and a September contract of `productId` for the company. */
async function customerOf(organisationId: number, productId: number): Promise<void> {
  const contact = await createCustomer(kernel, voxtra, { familyName: 'Contact', organisationId });
  await startContract(kernel, voxtra, contact, {
    startDate: '2026-09-01',
    endDate: '2026-09-30',
    organisationId,
    lines: [{ productId }],
  });
}

function taxSubtotal(xml: string): string {
  return xml.slice(xml.indexOf('<cac:TaxSubtotal>'), xml.indexOf('</cac:TaxSubtotal>'));
}

describe('VAT categories per product and foreign EU buyers (issue 22)', () => {
  it('a product’s VAT category fits its rate and carries the reason an exemption needs', async () => {
    const standardAtZero = await call(sales, 'POST', '/api/v1/products', {
      code: 'BAD-S',
      name: 'Bad',
      kind: 'service',
      priceCents: 100,
      vatRatePercent: 0,
      vatCategory: 'S',
    });
    expect(standardAtZero.statusCode).toBe(400);
    expect(standardAtZero.json()).toMatchObject({ code: 'validation_failed' });
    const exemptWithoutReason = await call(sales, 'POST', '/api/v1/products', {
      code: 'BAD-E',
      name: 'Bad',
      kind: 'service',
      priceCents: 100,
      vatRatePercent: 0,
      vatCategory: 'E',
    });
    expect(exemptWithoutReason.statusCode).toBe(400);
    const reverseAtRate = await call(sales, 'POST', '/api/v1/products', {
      code: 'BAD-AE',
      name: 'Bad',
      kind: 'service',
      priceCents: 100,
      vatRatePercent: 21,
      vatCategory: 'AE',
    });
    expect(reverseAtRate.statusCode).toBe(400);
    const badCode = await call(sales, 'POST', '/api/v1/products', {
      code: 'BAD-CODE',
      name: 'Bad',
      kind: 'service',
      priceCents: 100,
      vatRatePercent: 0,
      vatCategory: 'E',
      vatExemptionCode: 'exempt',
    });
    expect(badCode.statusCode).toBe(400);
    const listed = await call(sales, 'GET', '/api/v1/products?limit=100');
    expect(listed.json<{ items: Array<{ code: string }> }>().items.map((item) => item.code)).not.toContain(
      'BAD-S',
    );

    const zero = await call(sales, 'POST', '/api/v1/products', {
      code: 'OLD-ZERO',
      name: 'Zero rated',
      kind: 'service',
      priceCents: 100,
      vatRatePercent: 0,
    });
    expect(zero.json()).toMatchObject({ vatCategory: 'Z', vatExemptionCode: null });
    const reverse = await call(sales, 'POST', '/api/v1/products', {
      code: 'WORKS-AE',
      name: 'Construction works',
      kind: 'service',
      priceCents: 100,
      vatRatePercent: 0,
      vatCategory: 'AE',
    });
    expect(reverse.json()).toMatchObject({
      vatCategory: 'AE',
      vatExemptionCode: 'VATEX-EU-AE',
      vatExemptionReason: 'Reverse charge',
    });
    // A change to 21 % without a category makes it standard-rated, and drops the reason.
    const changed = await call(
      sales,
      'PATCH',
      `/api/v1/products/${reverse.json<{ productId: number }>().productId}`,
      { vatRatePercent: 21 },
    );
    expect(changed.json()).toMatchObject({
      vatCategory: 'S',
      vatExemptionCode: null,
      vatExemptionReason: null,
    });

    const wrongCountry = await call(billing, 'POST', '/api/v1/organisations', {
      name: 'Verkeerd BV',
      country: 'NL',
      vatNumber: 'DE811569869',
    });
    expect(wrongCountry.statusCode).toBe(400);
    expect(wrongCountry.json()).toMatchObject({ code: 'validation_failed' });
    const belgianVat = await call(billing, 'POST', '/api/v1/organisations', {
      name: 'Belg NV',
      country: 'BE',
      vatNumber: 'BE0403536628',
    });
    expect(belgianVat.statusCode).toBe(400);
  });

  it('VX-3: an invoice per VAT category (S, Z, E, AE, K, G) and a reverse-charge invoice to an EU company: each category with its reason, every Peppol and EN 16931 rule passes (UBL over HTTP)', async () => {
    const products = {
      S: catalogue.subscription,
      Z: await product({ code: 'NEWS-Z', name: 'Zero-rated newspaper', vatRatePercent: 0, vatCategory: 'Z' }),
      E: await product({
        code: 'MED-E',
        name: 'Medical training',
        vatRatePercent: 0,
        vatCategory: 'E',
        vatExemptionCode: 'VATEX-EU-132-1I',
        vatExemptionReason: 'Exempt: education (art. 44 § 2, 4° VAT Code)',
      }),
      AE: await product({ code: 'CABLING-AE', name: 'Cabling works', vatRatePercent: 0, vatCategory: 'AE' }),
      K: await product({
        code: 'ROUTER-K',
        name: 'Router shipped',
        kind: 'one_off',
        vatRatePercent: 0,
        vatCategory: 'K',
      }),
      G: await product({
        code: 'ROUTER-G',
        name: 'Router exported',
        kind: 'one_off',
        vatRatePercent: 0,
        vatCategory: 'G',
      }),
    };
    const buyers = {
      S: await company({ name: 'Standaard BV', enterpriseNumber: '0412.345.614' }),
      Z: await company({ name: 'Nul BV', enterpriseNumber: '0423.456.765' }),
      E: await company({ name: 'Opleiding VZW', enterpriseNumber: '0434.567.819' }),
      AE: await company({ name: 'Aannemer NV', enterpriseNumber: '0445.678.970' }),
      K: await company({
        name: 'Handel BV',
        country: 'NL',
        vatNumber: 'nl 8590.48436.B01',
        address: { street: 'Coolsingel 40', postalCode: '3011 AD', city: 'Rotterdam' },
      }),
      G: await company({
        name: 'Uhren AG',
        country: 'CH',
        peppolEndpoint: { scheme: '9927', id: 'CHE123456789' },
        address: { street: 'Bahnhofstrasse 1', postalCode: '8001', city: 'Zürich' },
      }),
    };
    const categories = ['S', 'Z', 'E', 'AE', 'K', 'G'] as const;
    for (const category of categories) await customerOf(buyers[category], products[category]);
    // A German company with its VAT number buying the standard-rated subscription: reverse charge.
    const german = await company({
      name: 'Telefon GmbH',
      country: 'DE',
      vatNumber: 'DE811569869',
      address: { street: 'Unter den Linden 5', postalCode: '10117', city: 'Berlin' },
    });
    await customerOf(german, catalogue.subscription);

    const run = await call(billing, 'POST', '/api/v1/invoice-runs', {
      period: '2026-09',
      callsPurpose: 'call_billing',
    });
    expect(run.statusCode, run.body).toBe(200);
    const items = (await call(billing, 'GET', '/api/v1/invoices?period=2026-09&limit=50')).json<{
      items: Array<{ invoiceId: number; organisationId: number | null }>;
    }>().items;
    const ublOf = async (organisationId: number) => {
      const invoice = items.find((item) => item.organisationId === organisationId);
      if (!invoice) throw new Error(`no invoice for organisation ${organisationId}`);
      const xml = (await call(billing, 'GET', `/api/v1/invoices/${invoice.invoiceId}/ubl`)).body;
      expect(await validateUbl(xml, 'UBL-Invoice-2.1.xsd')).toEqual({ valid: true, errors: [] });
      expect(await checkPeppolRules(xml)).toEqual([]);
      return { xml, invoiceId: invoice.invoiceId };
    };

    const expected = {
      S: { percent: '21', code: null },
      Z: { percent: '0', code: null },
      E: { percent: '0', code: 'VATEX-EU-132-1I' },
      AE: { percent: '0', code: 'VATEX-EU-AE' },
      K: { percent: '0', code: 'VATEX-EU-IC' },
      G: { percent: '0', code: 'VATEX-EU-G' },
    } as const;
    for (const category of categories) {
      const { xml } = await ublOf(buyers[category]);
      const subtotal = taxSubtotal(xml);
      expect(subtotal, category).toContain(`<cbc:ID>${category}</cbc:ID>`);
      expect(subtotal).toContain(`<cbc:Percent>${expected[category].percent}</cbc:Percent>`);
      const code = expected[category].code;
      if (code)
        expect(subtotal).toContain(`<cbc:TaxExemptionReasonCode>${code}</cbc:TaxExemptionReasonCode>`);
      else expect(subtotal).not.toContain('TaxExemptionReason');
    }
    const exempt = (await ublOf(buyers.E)).xml;
    expect(exempt).toContain(
      '<cbc:TaxExemptionReason>Exempt: education (art. 44 § 2, 4° VAT Code)</cbc:TaxExemptionReason>',
    );
    // Intra-community supply: the Dutch buyer by its VAT number and Peppol scheme, goods to NL.
    const dutch = (await ublOf(buyers.K)).xml;
    expect(dutch).toContain('<cbc:EndpointID schemeID="9944">NL859048436B01</cbc:EndpointID>');
    expect(dutch).toContain('<cbc:CompanyID>NL859048436B01</cbc:CompanyID>');
    expect(dutch).toMatch(/<cac:Delivery>[\s\S]*<cbc:IdentificationCode>NL<\/cbc:IdentificationCode>/);
    const swiss = (await ublOf(buyers.G)).xml;
    expect(swiss).toContain('<cbc:EndpointID schemeID="9927">CHE123456789</cbc:EndpointID>');

    // The German company: the standard product is reverse-charged, at 0 %, no Belgian VAT due.
    const reverse = await ublOf(german);
    const reverseSubtotal = taxSubtotal(reverse.xml);
    expect(reverseSubtotal).toContain('<cbc:ID>AE</cbc:ID>');
    expect(reverseSubtotal).toContain('<cbc:TaxExemptionReasonCode>VATEX-EU-AE</cbc:TaxExemptionReasonCode>');
    expect(reverse.xml).toContain('<cbc:EndpointID schemeID="9930">DE811569869</cbc:EndpointID>');
    const shown = (await call(billing, 'GET', `/api/v1/invoices/${reverse.invoiceId}`)).json<{
      vatCents: number;
      totalExclVatCents: number;
      totalInclVatCents: number;
    }>();
    expect(shown).toMatchObject({ vatCents: 0, totalExclVatCents: 1500, totalInclVatCents: 1500 });
    const html = (await call(billing, 'GET', `/api/v1/invoices/${reverse.invoiceId}/html`)).body;
    expect(html).toContain('Btw verlegd: verlegging van heffing');

    // Its credit note stays under reverse charge and passes every rule too.
    const note = await call(billing, 'POST', `/api/v1/invoices/${reverse.invoiceId}/credit-notes`, {
      reasonCode: 'billing_error',
      amountExclVatCents: 500,
    });
    expect(note.statusCode, note.body).toBe(201);
    const noteXml = (
      await call(billing, 'GET', `/api/v1/invoices/${note.json<{ invoiceId: number }>().invoiceId}/ubl`)
    ).body;
    expect(await validateUbl(noteXml, 'UBL-CreditNote-2.1.xsd')).toEqual({ valid: true, errors: [] });
    expect(await checkPeppolRules(noteXml)).toEqual([]);
    expect(taxSubtotal(noteXml)).toContain(
      '<cbc:TaxExemptionReasonCode>VATEX-EU-AE</cbc:TaxExemptionReasonCode>',
    );
  });
});
