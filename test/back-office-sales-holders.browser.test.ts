/**
 * Attack S21-B-7 and decision 1030: the back office's quote form offers only people a contract can
 * be billed to (both seeds: customers; at Voxtra, whose quotes purpose reaches prospects, also
 * prospects); a company's contact person of the same name is not offered. Decisions 0950 and
 * 1031: the billing screen withholds a restricted customer's invoice under the billing purpose,
 * says so and offers the books' purpose, under which the dispute form records the dispute.
 * Screenshots go to test-results/screenshots/back-office-sales-holders/.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  billingContext,
  createCustomer,
  prepareTenant,
  startContract,
} from '../src/modules/billing/billing.test-helpers.js';
import { runInvoices } from '../src/modules/billing/index.js';
import type { Tenant } from '../src/modules/tenants/index.js';
import { runAsOwner } from './database.js';
import { loginAs, requestAs } from './http.js';
import { createPolicyTenant, type SeedPolicy } from './kernel.js';
import { backOfficeForSuite, expectNoPageProblems, look, pageWithSession } from './staff-browser.js';

const env = backOfficeForSuite('back-office-sales-holders');
const tenants = new Map<SeedPolicy, Tenant>();
const catalogues = new Map<SeedPolicy, Awaited<ReturnType<typeof prepareTenant>>>();

beforeAll(async () => {
  for (const policy of ['voiceking', 'voxtra'] as const) {
    const tenant = await createPolicyTenant(env.kernel, policy);
    tenants.set(policy, tenant);
    catalogues.set(policy, await prepareTenant(env.kernel, tenant));
  }
});

function tenantOf(policy: SeedPolicy): Tenant {
  const tenant = tenants.get(policy);
  if (!tenant) throw new Error('tenant missing');
  return tenant;
}

const QUOTE_PURPOSE: Record<SeedPolicy, string> = { voiceking: 'order_processing', voxtra: 'quotes' };
const PEOPLE_PURPOSE: Record<SeedPolicy, string> = {
  voiceking: 'order_processing',
  voxtra: 'customer_administration',
};

async function quotesOf(tenant: Tenant, subjectId: number): Promise<number> {
  const result = await runAsOwner<{ count: number }>(
    env.database.ownerUrl,
    'select count(*)::int as count from quotes where tenant_id = $1 and subject_id = $2',
    [tenant.tenantId, subjectId],
  );
  return result.rows[0]?.count ?? -1;
}

describe('the quote form offers only holders a contract can be billed to (attack S21-B-7, decision 1030)', () => {
  for (const policy of ['voiceking', 'voxtra'] as const) {
    it(`VX-3: ${policy}: the quote form's person list leaves out a company's contact person and says which types it offers; the customer of the same name is chosen and the quote is made for them only`, async () => {
      const tenant = tenantOf(policy);
      const sales = await loginAs(env.app, env.kernel, tenant, 'sales');
      const billing = await loginAs(env.app, env.kernel, tenant, 'billing');
      const organisation = await requestAs(env.app, billing)('POST', '/api/v1/organisations', {
        name: `Verbeke ${policy} BV`,
        country: 'BE',
      });
      expect(organisation.statusCode, organisation.body).toBe(201);
      const { organisationId } = organisation.json<{ organisationId: number }>();
      const asPeople = requestAs(env.app, sales, PEOPLE_PURPOSE[policy]);
      const person = async (subjectType: string, givenName: string): Promise<number> => {
        const made = await asPeople('POST', '/api/v1/people', {
          subjectType,
          familyName: 'Verbeke',
          givenName,
          organisationId,
        });
        expect(made.statusCode, made.body).toBe(201);
        return made.json<{ subjectId: number }>().subjectId;
      };
      const contact = await person('contact_person', 'Contact');
      const customer = await person('customer', 'Klant');

      const page = await pageWithSession(env, sales, 'en-GB');
      await page.goto(`${env.baseUrl}/sales`);
      await page.getByRole('tab', { name: 'Quotes' }).waitFor();
      await page.getByRole('button', { name: 'New quote' }).click();
      const dialog = page.getByRole('dialog', { name: 'New quote' });
      await dialog.waitFor();
      // A prospect only where the quotes purpose reaches prospects (Voxtra): accepting makes a customer.
      const offered = policy === 'voxtra' ? 'customer, prospect' : 'customer';
      await dialog
        .getByText(`Only people a contract can be billed to are offered: ${offered}.`, { exact: false })
        .waitFor();
      await dialog.getByRole('combobox', { name: /^Customer/ }).fill('Verbeke');
      await page.getByRole('option', { name: /Klant Verbeke/ }).waitFor();
      expect(await page.getByRole('option', { name: /Contact Verbeke/ }).count()).toBe(0);
      await look(env.browser, page, `${policy}-quote-form-holders`);
      // The contact person is listed by the same purpose's person search: the form leaves it out.
      const listed = await requestAs(
        env.app,
        sales,
        QUOTE_PURPOSE[policy],
      )('GET', '/api/v1/people?name=Verbeke');
      expect(
        listed.json<{ items: Array<{ subjectId: number }> }>().items.map((row) => row.subjectId),
      ).toContain(contact);

      await page.getByRole('option', { name: /Klant Verbeke/ }).click();
      await dialog.getByRole('combobox', { name: /^Product/ }).click();
      await page.getByRole('option').first().click();
      await dialog.getByRole('button', { name: 'Make the quote' }).click();
      await page.getByText(/Quote #\d+ was made/).waitFor();
      expect(await quotesOf(tenant, customer)).toBe(1);
      expect(await quotesOf(tenant, contact)).toBe(0);
      expectNoPageProblems(env, page);
      await page.close();
    });
  }
});

describe('a dispute on a restricted customer’s invoice from the billing screen (decisions 0950, 1031)', () => {
  it('VX-14: voiceking: the billing list says an invoice is not shown under the billing purpose and offers the books’ purpose; there the invoice is listed, only the dispute form is shown, and the dispute is recorded under accounting', async () => {
    const tenant = tenantOf('voiceking');
    const catalogue = catalogues.get('voiceking');
    if (!catalogue) throw new Error('catalogue missing');
    const customer = await createCustomer(env.kernel, tenant, { familyName: 'Beperkt', givenName: 'Rita' });
    await startContract(env.kernel, tenant, customer, {
      startDate: '2026-10-01',
      lines: [{ productId: catalogue.subscription }],
    });
    await runInvoices(env.kernel, billingContext(tenant), {
      period: '2026-10',
      callsPurpose: 'call_billing',
    });
    const invoice = (
      await runAsOwner<{ invoice_id: number; invoice_number: string }>(
        env.database.ownerUrl,
        'select invoice_id::int, invoice_number from invoices where tenant_id = $1 and subject_id = $2',
        [tenant.tenantId, customer],
      )
    ).rows[0];
    if (!invoice) throw new Error('no invoice');
    const officer = await loginAs(env.app, env.kernel, tenant, 'privacy_officer');
    const registered = await requestAs(env.app, officer)('POST', '/api/v1/requests', {
      kind: 'restriction',
      channel: 'letter',
      subjectId: customer,
      verificationMethod: 'id_card_seen',
    });
    expect(registered.statusCode, registered.body).toBe(201);
    const { requestId } = registered.json<{ requestId: string }>();
    // The customer has no e-mail address on file: the answer goes by post (decision 1250).
    const fulfilled = await requestAs(env.app, officer)('POST', `/api/v1/requests/${requestId}/fulfil`, {
      letterPosted: true,
    });
    expect(fulfilled.statusCode, fulfilled.body).toBe(200);

    const billing = await loginAs(env.app, env.kernel, tenant, 'billing');
    const page = await pageWithSession(env, billing, 'en-GB');
    await page.goto(`${env.baseUrl}/billing`);
    const withheld = page.getByRole('alert').filter({ hasText: 'Invoices not shown under this purpose: 1' });
    await withheld.waitFor();
    expect(await page.getByTestId(`invoice-${invoice.invoice_number}`).count()).toBe(0);
    await look(env.browser, page, 'voiceking-billing-withheld');
    await withheld.getByRole('button', { name: /^Show the invoices under/ }).click();
    const row = page.getByTestId(`invoice-${invoice.invoice_number}`);
    await row.waitFor();
    await row.getByRole('button', { name: invoice.invoice_number }).click();
    const dialog = page.getByRole('dialog', { name: `Invoice ${invoice.invoice_number}` });
    await dialog.waitFor();
    await dialog
      .getByLabel('What the customer disputes')
      .fill('Contests the October subscription by letter.');
    expect(await dialog.getByRole('heading', { name: 'Dispute' }).count()).toBe(1);
    expect(await dialog.getByRole('button', { name: 'Mark disputed' }).count()).toBe(1);
    expect(await dialog.getByText('Credit note', { exact: false }).count()).toBe(0);
    await dialog.getByRole('button', { name: 'Mark disputed' }).click();
    await page.getByText(`Invoice ${invoice.invoice_number} is marked disputed`).waitFor();
    await look(env.browser, page, 'voiceking-billing-dispute-under-books');
    const disputes = await runAsOwner<{ open: boolean }>(
      env.database.ownerUrl,
      'select closed_at is null as open from invoice_disputes where tenant_id = $1 and invoice_id = $2',
      [tenant.tenantId, invoice.invoice_id],
    );
    expect(disputes.rows).toEqual([{ open: true }]);
    const audited = await runAsOwner<{ purpose: string; decision: string }>(
      env.database.ownerUrl,
      `select purpose, decision from audit_log where tenant_id = $1 and action = 'billing.invoice.dispute'
        order by seq desc limit 1`,
      [tenant.tenantId],
    );
    expect(audited.rows).toEqual([{ purpose: 'accounting', decision: 'allowed' }]);
    expectNoPageProblems(env, page);
    await page.close();
  });
});
