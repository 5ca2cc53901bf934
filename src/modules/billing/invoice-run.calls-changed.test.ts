import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import { AppError } from '../../platform/errors.js';
import { formatInvoiceNumber, structuredCommunicationOf } from './amounts.js';
import {
  billingPurpose,
  createCustomer,
  insertCalls,
  prepareTenant,
  SYSTEM,
} from './billing.test-helpers.js';
import { BILLING_CATEGORIES as C } from './datamap.js';
import {
  draftBatchCallLines,
  prepareRunPart,
  type CallLineDrafting,
  type NewInvoice,
} from './invoice-run.repository.js';
import { BUILT_IN_HEADS } from '../telephony/index.js';

let database: TestDatabase;
let kernel: Kernel;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
});
afterAll(async () => database.close());

const WORDS = { colon: ':', one: 'call', many: 'calls' };
const OTHER = { nl: 'Overige', fr: 'Autres', en: 'Other' };

/** October's drafting with the given tariff heads (group `tariff`) and the built-in classes as one group. */
function draftingOf(tariffHeads: string[]): CallLineDrafting {
  return {
    headLength: 5,
    heads: [
      ...tariffHeads.map((head) => ({ head, key: 'tariff', tariff: true })),
      ...BUILT_IN_HEADS.map(({ head }) => ({ head, key: 'other', tariff: false })),
    ],
    groups: [
      { key: 'tariff', builtIn: false, labels: { nl: 'Tarief', fr: 'Tarif', en: 'Tariff' } },
      { key: 'other', builtIn: true, labels: OTHER },
    ],
    words: { nl: WORDS, fr: WORDS, en: WORDS },
  };
}

describe('the invoice run drafts its calls lines in one statement over the month (decisions 0550, 0655, 0720)', () => {
  /** A customer with an October call to a Ghent number and one to a destination with a letter in it. */
  async function customerWithCalls() {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    await prepareTenant(kernel, tenant);
    const customer = await createCustomer(kernel, tenant, { familyName: 'Laat' });
    const call = (startedAt: string, destination: string, costMicros: number) => ({
      subjectId: customer,
      startedAt,
      destination,
      seconds: 60,
      costMicros,
    });
    await insertCalls(kernel, tenant, [
      call('2026-10-03T09:00:00Z', '+3292123456', 20_000),
      call('2026-10-04T09:00:00Z', '+32x1', 30_000),
    ]);
    return { tenant, customer };
  }

  it("a charged head with a character other than a digit after a tariff's head is left to TypeScript (undefined, nothing kept); without a tariff's head before it, SQL places it in its built-in class", async () => {
    const { tenant, customer } = await customerWithCalls();
    const draft = (tariffHeads: string[]) =>
      kernel.transact(tenant.tenantId, async (atx) => {
        const grant = await kernel.gate.authorize(atx, SYSTEM, {
          purpose: 'call_billing',
          action: 'read',
          categories: [C.callRecord],
          subjectIds: [customer],
        });
        const drafted = await draftBatchCallLines(atx.tx, grant, draftingOf(tariffHeads), '2026-10-01', [
          customer,
        ]);
        const table = await sql<{ name: string | null }>`
          select to_regclass('pg_temp.batch_call_lines')::text as name`.execute(atx.tx);
        return { drafted, table: table.rows[0]?.name ?? null };
      });

    // The tariff names '+32': findGroup's walk would stop at the 'x', SQL cannot tell where.
    expect(await draft(['+32'])).toEqual({ drafted: undefined, table: null });
    // A tariff head the letter does not follow: both calls are placed, one line per group.
    expect(await draft(['+329'])).toEqual({
      drafted: [
        {
          subjectId: customer,
          cents: 5,
          lines: 2,
          chargeable: 2,
          chargeableSeconds: 120,
          costMicros: 50_000,
        },
      ],
      table: 'batch_call_lines',
    });
  });

  /** October's invoice of one customer whose only lines are its two calls lines, written in SQL. */
  function invoiceOf(customer: number): NewInvoice {
    return {
      kind: 'invoice',
      series: 'F',
      year: 2026,
      number: 1,
      invoiceNumber: formatInvoiceNumber('F', 2026, 1),
      subjectId: customer,
      organisationId: null,
      creditedInvoiceId: null,
      periodStart: '2026-10-01',
      periodEnd: '2026-10-31',
      issueDate: '2026-11-01',
      dueDate: '2026-11-15',
      holdUntil: '2033-12-31',
      totalExclVatCents: 5,
      vatCents: 1,
      totalInclVatCents: 6,
      structuredCommunication: structuredCommunicationOf('F', 2026, 1),
      itemisedCalls: false,
      creditReason: null,
      buyer: {
        name: null,
        street: null,
        postalCode: null,
        city: null,
        country: null,
        enterpriseNumber: null,
        iban: null,
        mandate: null,
        vatRegistered: null,
        reference: null,
        orderReference: null,
        vatNumber: null,
        peppolScheme: null,
        peppolId: null,
        language: 'nl',
      },
      seller: {
        legalName: 'Seller',
        enterpriseNumber: '0123456749',
        street: 'Straat 1',
        postalCode: '9000',
        city: 'Gent',
        country: 'BE',
        payeeIban: 'BE68539007547034',
      },
      createdByStaffId: null,
      createdAt: new Date('2026-11-01T08:00:00Z'),
      lines: [],
      callMonths: [{ month: '2026-10-01', calls: 2, seconds: 120, costMicros: 50_000 }],
      sqlCallLines: { at: 1, count: 2 },
    };
  }

  it("a part's one statement answers the calls lines it wrote: what its invoice was computed from is written, and a difference refuses with 409 calls_changed_during_run and leaves nothing (decisions 0550, 1080)", async () => {
    const { tenant, customer } = await customerWithCalls();
    // refreshStatistics above the threshold: the invoices first, the refresh, then the rest (0420).
    const writePart = (cents: number, refreshStatistics: number) =>
      kernel.transact(tenant.tenantId, async (atx) => {
        const calls = await kernel.gate.authorize(atx, SYSTEM, {
          purpose: 'call_billing',
          action: 'read',
          categories: [C.callRecord],
          subjectIds: [customer],
        });
        const billing = await kernel.gate.authorize(atx, SYSTEM, {
          purpose: billingPurpose(tenant),
          action: 'write',
          categories: [C.payment],
          subjectIds: [customer],
        });
        // The built-in classes' group under a class the lines' column admits.
        const base = draftingOf(['+329']);
        const drafting: CallLineDrafting = {
          ...base,
          heads: base.heads.map((head) => (head.tariff ? head : { ...head, key: 'international' })),
          groups: base.groups.map((group) => (group.builtIn ? { ...group, key: 'international' } : group)),
        };
        await draftBatchCallLines(atx.tx, calls, drafting, '2026-10-01', [customer]);
        const target = {
          subjectId: customer,
          at: 1,
          vatRateBp: 2100,
          vatCategory: 'S' as const,
          vatExemptionCode: null,
          vatExemptionReason: null,
          language: 'nl' as const,
          cents,
          lines: 2,
        };
        for (const statement of prepareRunPart(billing, [invoiceOf(customer)], {
          refreshStatistics,
          callLines: { grant: calls, drafting, targets: [target] },
        })) {
          await statement(atx.tx);
        }
      });
    const linesOf = () =>
      kernel.transact(tenant.tenantId, async (atx) => {
        const result = await sql<{ line_no: number; amount_cents: string; description: string }>`
          select l.line_no, l.amount_cents, l.description
            from invoice_lines l join invoices i using (tenant_id, invoice_id)
           where i.subject_id = ${customer} order by l.line_no`.execute(atx.tx);
        return result.rows.map((row) => ({ ...row, amount_cents: Number(row.amount_cents) }));
      });

    for (const refreshStatistics of [0, 1000]) {
      const refused = await writePart(6, refreshStatistics).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(AppError);
      expect(refused).toMatchObject({ code: 'conflict', details: { reason: 'calls_changed_during_run' } });
      expect(await linesOf()).toEqual([]);
    }
    await writePart(5, 1000);
    expect(await linesOf()).toEqual([
      { line_no: 1, amount_cents: 3, description: 'Overige:1 call, 1 min 00 s' },
      { line_no: 2, amount_cents: 2, description: 'Tarief:1 call, 1 min 00 s' },
    ]);
  });
});
