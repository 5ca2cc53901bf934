import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createCustomer, insertCalls, prepareTenant, SYSTEM } from './billing.test-helpers.js';
import { BILLING_CATEGORIES as C } from './datamap.js';
import { draftBatchCallLines, type CallLineDrafting } from './invoice-run.repository.js';
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
});
