import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import { AppError } from '../../platform/errors.js';
import { createCustomer, insertCalls, prepareTenant, SYSTEM } from './billing.test-helpers.js';
import { BILLING_CATEGORIES as C } from './datamap.js';
import {
  fillBatchCallHeads,
  selectSqlDraftedCalls,
  type CallLineDrafting,
} from './invoice-run.repository.js';

let database: TestDatabase;
let kernel: Kernel;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
});
afterAll(async () => database.close());

const WORDS = { colon: ':', one: 'call', many: 'calls' };

/** The drafting of October with the given heads mapped to one group (what the run maps in TypeScript). */
function draftingOf(heads: string[]): CallLineDrafting {
  return {
    heads: heads.map((head) => ({ head, key: 'other' })),
    groups: [{ key: 'other', builtIn: true, labels: { nl: 'Overige', fr: 'Autres', en: 'Other' } }],
    words: { nl: WORDS, fr: WORDS, en: WORDS },
  };
}

describe('the invoice run drafts its calls lines from one read of the month (decisions 0550, 0655)', () => {
  /** A customer with one October call to a Ghent number, under call_billing. */
  async function customerWithACall() {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    await prepareTenant(kernel, tenant);
    const customer = await createCustomer(kernel, tenant, { familyName: 'Laat' });
    await insertCalls(kernel, tenant, [
      {
        subjectId: customer,
        startedAt: '2026-10-03T09:00:00Z',
        destination: '+3292123456',
        seconds: 60,
        costMicros: 20_000,
      },
    ]);
    return { tenant, customer };
  }

  it('charged calls under a head the drafting does not map are refused with 409 calls_changed_during_run, never counted as billed on no line', async () => {
    const { tenant, customer } = await customerWithACall();
    const draft = (headsOf: (heads: string[]) => string[]) =>
      kernel.transact(tenant.tenantId, async (atx) => {
        const grant = await kernel.gate.authorize(atx, SYSTEM, {
          purpose: 'call_billing',
          action: 'read',
          categories: [C.callRecord],
          subjectIds: [customer],
        });
        const heads = await fillBatchCallHeads(atx.tx, grant, '2026-10-01', [customer], 4);
        return selectSqlDraftedCalls(atx.tx, grant, draftingOf(headsOf(heads)), [customer], ['nl']);
      });

    // Every head of the batch's read is mapped: the month's sums come back.
    const drafted = await draft((heads) => heads);
    expect(drafted).toMatchObject([{ subjectId: customer, lines: 1, chargeable: 1 }]);

    // A drafting that leaves a head of that read out.
    const refused = await draft(() => []).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: 'conflict', details: { reason: 'calls_changed_during_run' } });
  });

  it("a call under a new head committed after the heads were read is on no line and not in the month's record, and refuses nothing", async () => {
    const { tenant, customer } = await customerWithACall();
    const drafted = await kernel.transact(tenant.tenantId, async (atx) => {
      const grant = await kernel.gate.authorize(atx, SYSTEM, {
        purpose: 'call_billing',
        action: 'read',
        categories: [C.callRecord],
        subjectIds: [customer],
      });
      const heads = await fillBatchCallHeads(atx.tx, grant, '2026-10-01', [customer], 4);
      // An import commits a call under a head the run has not seen (Paris) before the lines are
      // drafted: before decision 0655 the run read the heads and the totals in two statements.
      await insertCalls(kernel, tenant, [
        {
          subjectId: customer,
          startedAt: '2026-10-04T09:00:00Z',
          destination: '+33123456789',
          seconds: 120,
          costMicros: 90_000,
        },
      ]);
      return selectSqlDraftedCalls(atx.tx, grant, draftingOf(heads), [customer], ['nl']);
    });
    // Lines and record both from the one read: the Paris call waits for the next run as a late call.
    expect(drafted).toEqual([
      {
        subjectId: customer,
        cents: 2,
        lines: 1,
        chargeable: 1,
        chargeableSeconds: 60,
        costMicros: 20_000,
      },
    ]);
  });
});
