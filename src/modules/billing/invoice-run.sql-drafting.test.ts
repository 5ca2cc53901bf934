import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tenant } from '../tenants/index.js';
import { createOrganisation } from '../parties/index.js';
import { importTariff } from '../telephony/index.js';
import {
  billingContext,
  createCustomer,
  insertCalls,
  prepareTenant,
  startContract,
  type TestCall,
} from './billing.test-helpers.js';
import { runInvoices, type InvoiceRunOptions } from './invoice-run.service.js';

// "Today" is 5 November 2026 in Belgium: October can be billed; the clock moves on below.
const clock = fixedClock(new Date('2026-11-05T10:00:00Z'));

let database: TestDatabase;
let kernel: Kernel;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
});
afterAll(async () => database.close());

const FIXED = '+3292123456';
const MOBILE = '+32470123456';
const ABROAD = '+33123456789';
const SPECIAL = '+3278150000';

/** The customers of one tenant, in the order they were created (the same in both tenants). */
interface Customers {
  nl: number;
  fr: number;
  en: number;
  prorated: number;
  callsOnly: number;
  lateContract: number;
  business: number;
  /** The subscription product. */
  subscription: number;
}

/** One tenant: languages, rounding edges, pro-rating, reverse charge, calls only, a late contract. */
async function setUp(tenant: Tenant): Promise<Customers> {
  const catalogue = await prepareTenant(kernel, tenant);
  const subscription = [{ productId: catalogue.subscription }];
  const person = async (familyName: string, preferredLanguage: 'nl' | 'fr' | 'en', startDate?: string) => {
    const subjectId = await createCustomer(kernel, tenant, { familyName, preferredLanguage });
    if (startDate) await startContract(kernel, tenant, subjectId, { startDate, lines: subscription });
    return subjectId;
  };
  const customers: Customers = {
    nl: await person('Peeters', 'nl', '2026-08-01'),
    fr: await person('Dubois', 'fr', '2026-08-01'),
    en: await person('Smith', 'en', '2026-08-01'),
    prorated: await person('Halfweg', 'nl', '2026-10-10'),
    callsOnly: await person('Zondercontract', 'fr'),
    lateContract: await person('Laatgeboekt', 'en'),
    business: 0,
    subscription: catalogue.subscription,
  };
  // A German company with its VAT number: its calls lines are reverse-charged (AE) too.
  const organisation = await createOrganisation(kernel, tenant.tenantId, {
    name: 'Telefon GmbH',
    country: 'DE',
    vatNumber: 'DE811569869',
    address: { street: 'Unter den Linden 5', postalCode: '10117', city: 'Berlin' },
  });
  customers.business = await createCustomer(kernel, tenant, {
    familyName: 'Kontakt',
    organisationId: organisation.organisationId,
    preferredLanguage: 'en',
  });
  await startContract(kernel, tenant, customers.business, {
    startDate: '2026-08-01',
    organisationId: organisation.organisationId,
    lines: subscription,
  });
  return customers;
}

/** One call; minutes of the day kept apart so every call is its own record. */
let minute = 0;
function call(
  subjectId: number,
  day: string,
  destination: string,
  seconds: number,
  costMicros: number,
): TestCall {
  minute += 1;
  const at = new Date(`${day}T06:00:00Z`);
  at.setUTCMinutes(minute % 1000);
  at.setUTCSeconds(Math.floor(minute / 1000));
  return { subjectId, startedAt: at.toISOString(), destination, seconds, costMicros };
}

/** October's calls: rounding edges per line (half a cent up, just under half a cent to nothing). */
function octoberCalls(c: Customers): TestCall[] {
  return [
    // 0.5 cent rounds up to 1; two calls of 0.25 cent make one line of 0.5 → 1 cent.
    call(c.nl, '2026-10-03', FIXED, 30, 5_000),
    call(c.nl, '2026-10-04', MOBILE, 61, 2_500),
    call(c.nl, '2026-10-05', MOBILE, 59, 2_500),
    // 0.4999 cent: no line, but the call is in the month's record.
    call(c.nl, '2026-10-06', ABROAD, 10, 4_999),
    // 1 h 02 min 05 s, €1.234567 → 123 cents; 1.5 cents → 2.
    call(c.nl, '2026-10-07', SPECIAL, 3725, 1_234_567),
    call(c.nl, '2026-10-08', SPECIAL, 5, 15_000),
    call(c.fr, '2026-10-03', FIXED, 90, 85_000),
    call(c.fr, '2026-10-04', ABROAD, 1, 14_999),
    call(c.en, '2026-10-03', MOBILE, 3600, 600_000),
    call(c.en, '2026-10-04', MOBILE, 1, 5_001),
    call(c.prorated, '2026-10-12', FIXED, 45, 44_999),
    call(c.callsOnly, '2026-10-13', ABROAD, 125, 250_000),
    call(c.business, '2026-10-14', FIXED, 300, 300_000),
    call(c.business, '2026-10-15', ABROAD, 300, 1_500_000),
  ];
}

/** The documents of a tenant as written, without ids: invoices, lines and call months (own and late). */
async function documentsOf(tenant: Tenant): Promise<unknown[]> {
  const invoices = await runAsOwner<Record<string, unknown>>(
    database.ownerUrl,
    `select i.invoice_number, i.period_start::text, i.total_excl_vat_cents::text, i.vat_cents::text,
            i.total_incl_vat_cents::text, i.buyer_language,
            (select json_agg(json_build_array(l.line_no, l.kind, l.description, l.destination_class,
                    l.destination_group, l.calls_month, l.call_count, l.call_seconds, l.quantity,
                    l.unit_price_cents, l.amount_cents, l.vat_rate_bp, l.vat_category, l.vat_exemption_code,
                    l.vat_exemption_reason) order by l.line_no)
               from invoice_lines l where l.tenant_id = i.tenant_id and l.invoice_id = i.invoice_id) as lines,
            (select json_agg(json_build_array(m.calls_month, m.calls, m.seconds, m.cost_micros)
                    order by m.calls_month)
               from (select i.period_start as calls_month, i.period_calls as calls, i.period_call_seconds as seconds,
                            i.period_call_cost_micros as cost_micros
                      where i.period_calls is not null
                     union all
                     select c.calls_month, c.calls, c.seconds, c.cost_micros
                       from invoice_call_months c
                      where c.tenant_id = i.tenant_id and c.invoice_id = i.invoice_id) m) as months
       from invoices i where i.tenant_id = $1 order by i.invoice_number`,
    [tenant.tenantId],
  );
  return invoices.rows;
}

describe('calls lines drafted in SQL from the call totals (issue 21, decision 0550)', () => {
  it('gives exactly the invoices the TypeScript drafting gives: lines, rounding, VAT, reverse charge, languages, late calls, "not billed before" lines, numbering and the months billed, also written in parts of two invoices', async () => {
    const tenants = {
      sql: await createPolicyTenant(kernel, 'voiceking'),
      typescript: await createPolicyTenant(kernel, 'voiceking'),
    };
    const drafting = ['sql', 'typescript'] as const;
    const customers = {
      sql: await setUp(tenants.sql),
      typescript: await setUp(tenants.typescript),
    };
    const run = async (period: string, issueDate: string) => {
      for (const how of drafting) {
        const options: InvoiceRunOptions = {
          period,
          issueDate,
          callsPurpose: 'call_billing',
          callLineDrafting: how,
          // The SQL tenant's invoices written two by two, each part while the next is drafted
          // (decision 0899): the same invoices as the TypeScript tenant's, written in one part.
          ...(how === 'sql' ? { writePart: 2 } : {}),
        };
        await runInvoices(kernel, billingContext(tenants[how]), options);
      }
    };
    for (const how of drafting) await insertCalls(kernel, tenants[how], octoberCalls(customers[how]));
    await run('2026-10', '2026-11-05');

    // After October's run: late October calls of a customer who had October's invoice, of the
    // calls-only customer and of one whose October contract is then recorded late; November calls.
    for (const how of drafting) {
      const c = customers[how];
      await insertCalls(kernel, tenants[how], [
        call(c.nl, '2026-10-29', FIXED, 61, 25_000),
        call(c.lateContract, '2026-10-20', MOBILE, 62, 55_000),
        call(c.lateContract, '2026-10-21', MOBILE, 63, 55_000),
        call(c.nl, '2026-11-03', FIXED, 30, 5_000),
        call(c.nl, '2026-11-04', ABROAD, 3601, 999_999),
        call(c.fr, '2026-11-05', MOBILE, 1, 4_999),
        call(c.business, '2026-11-06', ABROAD, 30, 45_000),
      ]);
      await startContract(kernel, tenants[how], c.lateContract, {
        startDate: '2026-10-01',
        lines: [{ productId: c.subscription }],
      });
    }
    clock.set(new Date('2026-12-05T10:00:00Z'));
    await run('2026-11', '2026-12-05');
    // October run again: the late contract's October (its calls billed already: "not billed before").
    for (const how of drafting) {
      await insertCalls(kernel, tenants[how], [
        call(customers[how].lateContract, '2026-10-30', FIXED, 40, 31_000),
      ]);
    }
    await run('2026-10', '2026-12-05');

    const sql = await documentsOf(tenants.sql);
    const typescript = await documentsOf(tenants.typescript);
    expect(sql).toHaveLength(13);
    expect(sql).toEqual(typescript);
    // November's invoice of the Dutch customer: the SQL lines, then the late line numbered past them.
    const november = sql[6] as { lines: unknown[][] };
    expect(november.lines.map((line) => [line[0], line[2]])).toEqual([
      [1, 'VoIP line basic (2026-11)'],
      [2, 'Gesprekken naar Belgische vaste nummers: 1 gesprek, 0 min 30 s'],
      [3, 'Internationale gesprekken: 1 gesprek, 1 h 00 min 01 s'],
      [4, 'Gesprekken van 2026-10 niet op de factuur van die maand: 1 gesprek, 1 min 01 s'],
    ]);
    // The German company's calls lines are reverse-charged like its subscription.
    expect((sql[5] as { vat_cents: string; lines: unknown[][] }).lines.map((line) => line[12])).toEqual([
      'AE',
      'AE',
      'AE',
    ]);

    // And what they are: the Dutch customer's October invoice, line by line.
    expect(sql[0]).toMatchObject({
      invoice_number: 'F2026-000001',
      total_excl_vat_cents: '1627',
      lines: [
        [
          1,
          'subscription',
          'VoIP line basic (2026-10)',
          null,
          null,
          null,
          null,
          null,
          1,
          1500,
          1500,
          2100,
          'S',
          null,
          null,
        ],
        [
          2,
          'calls',
          'Gesprekken naar Belgische vaste nummers: 1 gesprek, 0 min 30 s',
          'be_fixed',
          'be_fixed',
          null,
          1,
          30,
          1,
          1,
          1,
          2100,
          'S',
          null,
          null,
        ],
        [
          3,
          'calls',
          'Gesprekken naar Belgische mobiele nummers: 2 gesprekken, 2 min 00 s',
          'be_mobile',
          'be_mobile',
          null,
          2,
          120,
          1,
          1,
          1,
          2100,
          'S',
          null,
          null,
        ],
        [
          4,
          'calls',
          'Gesprekken naar service- en speciale nummers: 2 gesprekken, 1 h 02 min 10 s',
          'special',
          'special',
          null,
          2,
          3730,
          1,
          125,
          125,
          2100,
          'S',
          null,
          null,
        ],
      ],
      months: [['2026-10-01', 6, 3890, 1_264_566]],
    });
  });

  it("places calls in the tariff's groups as the TypeScript drafting does (the longest head first, the tariff's before the built-in classes, dialled heads), and drafts in TypeScript the batch with a head SQL cannot place (decision 0720)", async () => {
    const tariff = [
      'prefix,price_per_minute,minimum_seconds,increment_seconds,connection_fee,valid_from,valid_to,scope,group,group_label',
      '32,0.06,60,60,0,2020-01-01,,,national_fixed,National fixed',
      '324,0.12,45,30,0,2020-01-01,,,national_mobile,National mobile',
      '3247,0.12,45,30,0,2020-01-01,,,,',
      '33,0.30,1,1,0,2020-01-01,,,international_zone_1,International zone 1',
      '1207,0.60,0,60,0,2020-01-01,,dialled,service_numbers,Service numbers',
    ].join('\n');
    const tenants = {
      sql: await createPolicyTenant(kernel, 'voiceking'),
      typescript: await createPolicyTenant(kernel, 'voiceking'),
    };
    const drafting = ['sql', 'typescript'] as const;
    clock.set(new Date('2026-11-05T10:00:00Z'));
    for (const how of drafting) {
      const tenant = tenants[how];
      const catalogue = await prepareTenant(kernel, tenant);
      await importTariff(kernel, tenant.tenantId, tariff);
      const customer = async (familyName: string, preferredLanguage: 'nl' | 'fr' | 'en') => {
        const subjectId = await createCustomer(kernel, tenant, { familyName, preferredLanguage });
        await startContract(kernel, tenant, subjectId, {
          startDate: '2026-08-01',
          lines: [{ productId: catalogue.subscription }],
        });
        return subjectId;
      };
      const grouped = await customer('Groepen', 'nl');
      const odd = await customer('Vreemd', 'fr');
      await insertCalls(kernel, tenant, [
        call(grouped, '2026-10-03', FIXED, 60, 60_000),
        // '+3247…' is under 324 (3247 names no group); '+3278…' under 32, not the built-in special.
        call(grouped, '2026-10-04', MOBILE, 90, 180_000),
        call(grouped, '2026-10-05', SPECIAL, 60, 60_000),
        call(grouped, '2026-10-06', ABROAD, 10, 50_000),
        call(grouped, '2026-10-07', '+4930123456', 60, 120_000),
        call(grouped, '2026-10-08', '1207', 60, 600_000),
        call(grouped, '2026-10-09', '1700', 60, 10_000),
        // A letter after a head no tariff prefix begins: its built-in class, in SQL too.
        call(grouped, '2026-10-10', '+49a1234', 60, 20_000),
        // A letter after the tariff's '32': only the trie's walk can place it.
        call(odd, '2026-10-11', '+32a1234', 60, 30_000),
        call(odd, '2026-10-12', FIXED, 60, 60_000),
      ]);
    }
    for (const how of drafting) {
      await runInvoices(kernel, billingContext(tenants[how]), {
        period: '2026-10',
        issueDate: '2026-11-05',
        callsPurpose: 'call_billing',
        callLineDrafting: how,
        batchSize: 1,
      });
    }
    const sql = await documentsOf(tenants.sql);
    expect(sql).toEqual(await documentsOf(tenants.typescript));
    expect(sql).toHaveLength(2);
    const lines = (index: number) =>
      (sql[index] as { lines: unknown[][] }).lines.map((line) => [line[2], line[4]]);
    expect(lines(0)).toEqual([
      ['VoIP line basic (2026-10)', null],
      ['Internationale gesprekken: 2 gesprekken, 2 min 00 s', 'international'],
      ['International zone 1: 1 gesprek, 0 min 10 s', 'international_zone_1'],
      ['National fixed: 2 gesprekken, 2 min 00 s', 'national_fixed'],
      ['National mobile: 1 gesprek, 1 min 30 s', 'national_mobile'],
      ['Service numbers: 1 gesprek, 1 min 00 s', 'service_numbers'],
      ['Gesprekken naar service- en speciale nummers: 1 gesprek, 1 min 00 s', 'special'],
    ]);
    expect(lines(1)).toEqual([
      ['VoIP line basic (2026-10)', null],
      ['Appels vers des numéros fixes belges : 1 appel, 1 min 00 s', 'be_fixed'],
      ['National fixed : 1 appel, 1 min 00 s', 'national_fixed'],
    ]);
  });
});
