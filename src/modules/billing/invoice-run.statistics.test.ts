import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createPeopleInBulk, type BulkPerson } from '../parties/people.bulk.js';
import { billingContext, contractPurpose, prepareTenant, SYSTEM } from './billing.test-helpers.js';
import { invoiceStatisticsNeedRefresh } from './invoice-run.repository.js';
import { runInvoices } from './invoice-run.service.js';

// "Today" is Thursday 5 November 2026 in Belgium: October 2026 can be billed.
const clock = fixedClock(new Date('2026-11-05T10:00:00Z'));
const CUSTOMERS = 120;

let database: TestDatabase;
let kernel: Kernel;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
});
afterAll(async () => database.close());

describe('invoice run on a near-empty invoice table (decision 0420)', () => {
  it('a run of 120 customers refreshes the invoice statistics as the application role; concurrent runs stay gapless and bill nobody twice', async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const catalogue = await prepareTenant(kernel, tenant);
    const people: BulkPerson[] = Array.from({ length: CUSTOMERS }, (_, i) => ({
      subjectType: 'customer',
      familyName: `Klant${i}`,
      givenName: 'Test',
      gender: null,
      preferredLanguage: null,
      email: null,
      phone: null,
      birthDate: null,
      address: { street: `Veldstraat ${i + 1}`, postalCode: '9000', city: 'Gent', country: 'BE' },
      jobTitle: null,
      jobFunction: null,
      decisionAuthority: null,
      notes: null,
      organisationId: null,
      source: 'data_subject',
    }));
    const subjects = await createPeopleInBulk(
      kernel,
      { tenantId: tenant.tenantId, actor: SYSTEM, purpose: contractPurpose(tenant) },
      people,
    );
    // Contracts are set-up here, not what is tested: written by the owner in bulk.
    await runAsOwner(
      database.ownerUrl,
      `insert into contracts (tenant_id, subject_id, start_date, created_at)
         select $1, s, date '2026-08-01', now() from unnest($2::bigint[]) s`,
      [tenant.tenantId, subjects],
    );
    await runAsOwner(
      database.ownerUrl,
      `insert into contract_lines (tenant_id, contract_id, line_no, product_id, quantity, unit_price_cents, vat_rate_bp)
         select $1, contract_id, 1, $2, 1, 1500, 2100 from contracts where tenant_id = $1`,
      [tenant.tenantId, catalogue.subscription],
    );
    // The statistics of an empty table, as in a new database.
    await runAsOwner(database.ownerUrl, 'analyze invoices');
    const reltuples = async (): Promise<number> =>
      (
        await runAsOwner<{ n: number }>(
          database.ownerUrl,
          `select reltuples::float8 as n from pg_class where oid = 'public.invoices'::regclass`,
        )
      ).rows[0]?.n ?? Number.NaN;
    expect(await reltuples()).toBe(0);

    const context = billingContext(tenant);
    const [october, september] = await Promise.all([
      runInvoices(kernel, context, { callsPurpose: 'call_billing', period: '2026-10' }),
      runInvoices(kernel, context, { callsPurpose: 'call_billing', period: '2026-09' }),
    ]);
    expect([october.invoiced, september.invoiced]).toEqual([CUSTOMERS, CUSTOMERS]);
    // The run's refresh ran (as kluis_app, through the owner's function) and saw its own rows.
    expect(await reltuples()).toBeGreaterThanOrEqual(CUSTOMERS);

    const numbers = await runAsOwner<{ number: number }>(
      database.ownerUrl,
      `select number from invoices where tenant_id = $1 and series = 'F' order by number`,
      [tenant.tenantId],
    );
    expect(numbers.rows.map((row) => row.number)).toEqual(
      Array.from({ length: 2 * CUSTOMERS }, (_, i) => i + 1),
    );
    const lines = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      `select count(*)::int as n from invoice_lines where tenant_id = $1`,
      [tenant.tenantId],
    );
    expect(lines.rows[0]?.n).toBe(2 * CUSTOMERS);

    const again = await runInvoices(kernel, context, { callsPurpose: 'call_billing', period: '2026-10' });
    expect(again).toMatchObject({ invoiced: 0, alreadyInvoiced: CUSTOMERS });

    // Asked before a batch is written (decision 1310): a refresh only while the statistics count
    // fewer rows than the batch adds, so a later batch writes its first part in one statement.
    const counted = await reltuples();
    const needs = (adding: number) =>
      kernel.transact(tenant.tenantId, (atx) => invoiceStatisticsNeedRefresh(atx.tx, adding));
    expect(await needs(Math.floor(counted))).toBe(false);
    expect(await needs(Math.floor(counted) + 1)).toBe(true);
    expect(await needs(99)).toBe(false);
  });
});
