import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { eraseSubject } from '../../kernel/erasure/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import { DATA_MAP } from '../data-map.js';
import { createOrder } from '../contracts/index.js';
import { selectDeliveryAddresses } from '../contracts/order.repository.js';
import {
  billingContext,
  createCustomer,
  prepareTenant,
  startContract,
  SYSTEM,
} from './billing.test-helpers.js';
import { runInvoices } from './invoice-run.service.js';
import { selectBuyers, selectInvoiceRefPage } from './invoice.repository.js';

let database: TestDatabase;
let kernel: Kernel;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
});
afterAll(async () => database.close());

/** A grant for one subject under the tenant's billing purpose (name, address, bank account, payment). */
async function grantFor(tenantId: number, purpose: string, subjectIds: number[], categories: string[]) {
  return kernel.transact(tenantId, (atx) =>
    kernel.gate.authorize(atx, SYSTEM, { purpose, action: 'read', categories, subjectIds }),
  );
}

describe('repositories return personal columns only through a grant that covers them (issue 10)', () => {
  it("an invoice's buyer snapshot and an order's delivery address are read only under a grant for that customer", async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const catalogue = await prepareTenant(kernel, tenant);
    const alice = await createCustomer(kernel, tenant, { familyName: 'Alice' });
    const bob = await createCustomer(kernel, tenant, { familyName: 'Bob' });
    for (const customer of [alice, bob])
      // Ended: a contract that still runs keeps its holder from erasure (decision 0940).
      await startContract(kernel, tenant, customer, {
        startDate: '2026-10-01',
        endDate: '2026-10-31',
        lines: [{ productId: catalogue.subscription }],
      });
    await runInvoices(kernel, billingContext(tenant), { callsPurpose: 'call_billing', period: '2026-10' });
    const refs = await kernel.transact(tenant.tenantId, (atx) =>
      selectInvoiceRefPage(atx.tx, { afterId: 0, limit: 10 }),
    );
    // The reference carries keys and amounts only, never the buyer.
    expect(Object.keys(refs[0] ?? {})).not.toContain('buyer');
    const invoiceOf = (subjectId: number) => refs.find((ref) => ref.subjectId === subjectId)?.invoiceId ?? 0;
    const purpose = billingContext(tenant).purpose;
    const forAlice = await grantFor(
      tenant.tenantId,
      purpose,
      [alice],
      ['kluis.billing.payment', 'user.name'],
    );

    const own = await kernel.transact(tenant.tenantId, (atx) =>
      selectBuyers(atx.tx, forAlice, [invoiceOf(alice)]),
    );
    // Only what the grant covers: the name, not the address or the bank account.
    expect(own.get(invoiceOf(alice))).toEqual({
      name: 'An Alice',
      vatRegistered: null,
      reference: null,
      orderReference: null,
      vatNumber: null,
      peppolScheme: null,
      peppolId: null,
      enterpriseNumber: null,
      mandate: null,
      // The document's language is a fact of the invoice, fixed at issue (decision 0310).
      language: expect.stringMatching(/^(nl|fr|en)$/) as unknown,
    });
    await expect(
      kernel.transact(tenant.tenantId, (atx) => selectBuyers(atx.tx, forAlice, [invoiceOf(bob)])),
    ).rejects.toMatchObject({ code: 'forbidden' });

    // A held document (customer erased) needs a grant without subjects, which only the hold purpose gets.
    await eraseSubject(kernel, DATA_MAP, {
      tenantId: tenant.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'privacy_officer' },
      purpose: 'rights_requests',
      subjectId: bob,
    });
    await expect(
      kernel.transact(tenant.tenantId, (atx) => selectBuyers(atx.tx, forAlice, [invoiceOf(bob)])),
    ).rejects.toMatchObject({ code: 'forbidden' });

    const order = await createOrder(
      kernel,
      { tenantId: tenant.tenantId, actor: SYSTEM, purpose: 'orders_deliveries' },
      {
        subjectId: alice,
        lines: [{ productId: catalogue.subscription }],
        deliveryAddress: { street: 'Stationsstraat 2', postalCode: '9900', city: 'Eeklo', country: 'BE' },
      },
    );
    const nameOnly = await grantFor(tenant.tenantId, 'orders_deliveries', [alice], ['user.name']);
    await expect(
      kernel.transact(tenant.tenantId, (atx) => selectDeliveryAddresses(atx.tx, nameOnly, [order.orderId])),
    ).rejects.toMatchObject({ code: 'category_not_allowed' });
    const withAddress = await grantFor(
      tenant.tenantId,
      'orders_deliveries',
      [alice],
      ['user.contact.address'],
    );
    const addresses = await kernel.transact(tenant.tenantId, (atx) =>
      selectDeliveryAddresses(atx.tx, withAddress, [order.orderId]),
    );
    expect(addresses.get(order.orderId)).toMatchObject({ city: 'Eeklo' });
  });
});
