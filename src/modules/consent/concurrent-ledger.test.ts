import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createCustomer } from '../billing/billing.test-helpers.js';
import type { Tenant } from '../tenants/index.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voiceking: Tenant;
let sales: StaffSession;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  sales = await loginAs(app, kernel, voiceking, 'sales');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

function postConsent(subjectId: number, payload: object) {
  return app.inject({
    method: 'POST',
    url: `/api/v1/people/${subjectId}/consents`,
    headers: {
      cookie: sales.cookie,
      'x-csrf-token': sales.csrfToken,
      'x-kluis-purpose': 'interest_profiles',
    },
    payload,
  });
}

async function ledgerOf(subjectId: number): Promise<{ record_id: string; event: string }[]> {
  const result = await runAsOwner<{ record_id: string; event: string }>(
    database.ownerUrl,
    `select record_id, event from consent_records where tenant_id = $1 and subject_id = $2 order by record_id`,
    [voiceking.tenantId, subjectId],
  );
  return result.rows;
}

describe('the consent ledger records one event per state change (attack S20-9, decision 0921)', () => {
  it('five identical consents by phone sent at once: one ledger record, every answer names it', async () => {
    const customer = await createCustomer(kernel, voiceking);
    const consent = {
      event: 'given',
      channel: 'staff_phone',
      wording: { language: 'nl', text: 'Mogen wij uw klikgedrag gebruiken voor een interesseprofiel?' },
      statement: 'Ja, dat mag.',
    };
    const responses = await Promise.all(Array.from({ length: 5 }, () => postConsent(customer, consent)));
    for (const response of responses) expect(response.statusCode, response.body).toBe(201);
    const ledger = await ledgerOf(customer);
    expect(ledger.map((row) => row.event)).toEqual(['given']);
    const recordIds = new Set(responses.map((response) => response.json<{ recordId: number }>().recordId));
    expect([...recordIds]).toEqual([Number(ledger[0]?.record_id)]);

    // A different event is a change and is recorded; repeating it is not.
    const withdrawal = { event: 'withdrawn', channel: 'staff_phone', statement: 'Toch maar niet.' };
    await Promise.all(Array.from({ length: 3 }, () => postConsent(customer, withdrawal)));
    expect((await ledgerOf(customer)).map((row) => row.event)).toEqual(['given', 'withdrawn']);
  });
});
