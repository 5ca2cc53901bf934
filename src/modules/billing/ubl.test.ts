import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import {
  billingContext,
  createBusiness,
  createCustomer,
  insertCalls,
  prepareTenant,
  startContract,
} from './billing.test-helpers.js';
import { addBankAccount } from './financial.service.js';
import { getInvoiceUbl } from './documents.service.js';
import { runInvoices } from './invoice-run.service.js';
import { createCreditNote, listInvoices } from './invoice.service.js';
import { sharedPath } from '../../../test/shared.js';
import { checkPeppolRules, validateUbl } from '../../../test/xml.js';

const clock = fixedClock(new Date('2026-11-05T10:00:00Z'));

let database: TestDatabase;
let kernel: Kernel;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
});
afterAll(async () => database.close());

describe('Peppol BIS Billing 3.0 (VX-3)', () => {
  // Part of VX-3, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('a business customer’s invoice and credit note are UBL 2.1 documents that validate against the official XSD and pass every Peppol BIS 3.0 and EN 16931 rule', async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const catalogue = await prepareTenant(kernel, tenant);
    const organisation = await createBusiness(kernel, tenant, 'Bakkerij "Janssens" & Zonen BV');
    const contact = await createCustomer(kernel, tenant, {
      familyName: 'Janssens',
      organisationId: organisation,
    });
    await startContract(kernel, tenant, contact, {
      startDate: '2026-10-10',
      organisationId: organisation,
      lines: [{ productId: catalogue.subscription, quantity: 3 }, { productId: catalogue.install }],
    });
    await insertCalls(kernel, tenant, [
      {
        subjectId: contact,
        startedAt: '2026-10-12T08:00:00Z',
        destination: '+32470123456',
        seconds: 90,
        costMicros: 225_000,
      },
      {
        subjectId: contact,
        startedAt: '2026-10-12T09:00:00Z',
        destination: '+4930123456',
        seconds: 60,
        costMicros: 90_000,
      },
    ]);
    const person = await createCustomer(kernel, tenant, { familyName: 'Peeters' });
    await startContract(kernel, tenant, person, {
      startDate: '2026-10-01',
      lines: [{ productId: catalogue.subscription }],
    });
    await addBankAccount(kernel, billingContext(tenant), person, {
      iban: 'BE71 0961 2345 6769',
      directDebitMandate: 'VX-MANDATE-7',
      mandateSignedOn: '2026-09-01',
    });
    await runInvoices(kernel, billingContext(tenant), { callsPurpose: 'call_billing', period: '2026-10' });
    const items = (await listInvoices(kernel, billingContext(tenant), { limit: 10 })).items;
    const business = items.find((item) => item.subjectId === contact);
    const private_ = items.find((item) => item.subjectId === person);
    if (!business || !private_) throw new Error('missing invoices');

    const xml = await getInvoiceUbl(kernel, billingContext(tenant), business.invoiceId);
    expect(await validateUbl(xml, 'UBL-Invoice-2.1.xsd')).toEqual({ valid: true, errors: [] });
    expect(await checkPeppolRules(xml)).toEqual([]);
    expect(xml).toContain(
      '<cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>',
    );
    expect(xml).toContain('<cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>');
    expect(xml).toContain('<cbc:EndpointID schemeID="0208">0403536628</cbc:EndpointID>');
    expect(xml).toContain('<cbc:EndpointID schemeID="0208">0649503981</cbc:EndpointID>');
    expect(xml).toContain('<cbc:CompanyID>BE0403536628</cbc:CompanyID>');
    expect(xml).toContain('<cbc:Name>Bakkerij &quot;Janssens&quot; &amp; Zonen BV</cbc:Name>');
    expect(xml).toContain(`<cbc:PaymentID>+++`);
    expect(xml).toContain('<cbc:PaymentMeansCode name="Credit transfer">30</cbc:PaymentMeansCode>');
    expect(xml).toContain('<cbc:ID>BE68539007547034</cbc:ID>');
    expect(xml).toMatch(/<cbc:ID>S<\/cbc:ID>\s*<cbc:Percent>21<\/cbc:Percent>/);
    expect(xml).toContain(`<cbc:PayableAmount currencyID="EUR">`);

    const note = await createCreditNote(kernel, billingContext(tenant), business.invoiceId, {
      reasonCode: 'billing_error',
      amountExclVatCents: 1500,
    });
    const creditXml = await getInvoiceUbl(kernel, billingContext(tenant), note.invoiceId);
    expect(await validateUbl(creditXml, 'UBL-CreditNote-2.1.xsd')).toEqual({ valid: true, errors: [] });
    expect(await checkPeppolRules(creditXml)).toEqual([]);
    expect(creditXml).toContain('<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>');
    expect(creditXml).toContain(`<cbc:ID>${business.invoiceNumber}</cbc:ID>`);

    // A person gets the HTML invoice, not a Peppol document.
    await expect(getInvoiceUbl(kernel, billingContext(tenant), private_.invoiceId)).rejects.toMatchObject({
      code: 'conflict',
    });
  });

  it('a document that breaks the schema is refused by the XSD check, naming the element (the check is real)', async () => {
    const broken = await validateUbl(
      '<?xml version="1.0"?><Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><Nonsense/></Invoice>',
      'UBL-Invoice-2.1.xsd',
    );
    expect(broken.valid).toBe(false);
    expect(broken.errors[0]).toContain('Nonsense');
    expect(broken.errors[0]).toContain('This element is not expected');
  });

  it('an invoice whose payable amount is off by a cent fails rule BR-CO-16 (the rules are real)', async () => {
    const example = readFileSync(sharedPath('ubl-2.1', 'peppol-examples', 'base-example.xml'), 'utf8');
    expect(await checkPeppolRules(example)).toEqual([]);
    const payable = /<cbc:PayableAmount currencyID="EUR">([\d.]+)<\/cbc:PayableAmount>/.exec(example);
    if (!payable?.[1]) throw new Error('example has no payable amount');
    const wrong = (Number(payable[1]) + 0.01).toFixed(2);
    const broken = example.replace(
      payable[0],
      `<cbc:PayableAmount currencyID="EUR">${wrong}</cbc:PayableAmount>`,
    );
    const failures = await checkPeppolRules(broken);
    expect(failures.map((failure) => failure.id)).toContain('BR-CO-16');
  });
});
