import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/database.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../test/kernel.js';
import { checkPeppolRules, validateUbl } from '../../test/xml.js';
import type { Kernel } from '../kernel/kernel.js';
import {
  defaultPurpose,
  getInvoiceHtml,
  getInvoicePdf,
  getInvoiceUbl,
  listInvoices,
} from '../modules/billing/index.js';
import { seedDemoData } from './demo-data.js';

let database: TestDatabase;
let kernel: Kernel;
beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, fixedClock(new Date('2026-11-05T10:00:00Z')));
});
afterAll(async () => database.close());

describe('demo invoices (issue 22)', () => {
  for (const policy of ['voiceking', 'voxtra'] as const) {
    it(`${policy}: the first run's demo data has business customers with last month's invoices and a credit note, whose UBL passes the XSD and every Peppol and EN 16931 rule, and whose PDF and HTML render`, async () => {
      const tenant = await createPolicyTenant(kernel, policy);
      const result = await seedDemoData(kernel, tenant, policy, {
        people: 60,
        organisations: 8,
        seed: 11,
        contracts: 10,
        invoices: true,
      });
      expect(result.businessInvoices).toBe(6);
      const context = {
        tenantId: tenant.tenantId,
        actor: { kind: 'staff' as const, staffId: 1, role: 'billing' },
        purpose: await defaultPurpose(kernel, tenant.tenantId, 'billing'),
      };
      const documents = (await listInvoices(kernel, context, { limit: 200, period: '2026-10' })).items;
      const business = documents.filter((item) => item.organisationId !== null);
      expect(business.filter((item) => item.kind === 'invoice')).toHaveLength(6);
      expect(business.filter((item) => item.kind === 'credit_note')).toHaveLength(1);
      // Consumers are billed by the same run: their documents are for people (HTML, PDF).
      expect(documents.some((item) => item.organisationId === null)).toBe(true);
      expect(result.invoices).toBe(documents.length);

      const facts = { billingAddress: false, notVatRegistered: false, buyerReference: false };
      for (const item of business) {
        const xml = await getInvoiceUbl(kernel, context, item.invoiceId);
        const schema = item.kind === 'credit_note' ? 'UBL-CreditNote-2.1.xsd' : 'UBL-Invoice-2.1.xsd';
        expect(await validateUbl(xml, schema), item.invoiceNumber).toEqual({ valid: true, errors: [] });
        expect(await checkPeppolRules(xml), item.invoiceNumber).toEqual([]);
        const buyer = xml.slice(
          xml.indexOf('<cac:AccountingCustomerParty>'),
          xml.indexOf('</cac:AccountingCustomerParty>'),
        );
        if (buyer.includes('Postbus')) facts.billingAddress = true;
        if (!buyer.includes('<cac:PartyTaxScheme>')) facts.notVatRegistered = true;
        if (/<cbc:BuyerReference>KOST-\d{4}<\/cbc:BuyerReference>/.test(xml)) facts.buyerReference = true;
      }
      // The companies show each case an accountant checks.
      expect(facts).toEqual({ billingAddress: true, notVatRegistered: true, buyerReference: true });

      const [first] = business;
      if (!first) throw new Error('no business invoice');
      const { pdf } = await getInvoicePdf(kernel, context, first.invoiceId);
      expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      expect(await getInvoiceHtml(kernel, context, first.invoiceId)).toContain(first.invoiceNumber);
    });
  }
});
