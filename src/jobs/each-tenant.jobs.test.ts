import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../test/database.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../test/kernel.js';
import { keyringOf, kernelCore, type Kernel } from '../kernel/kernel.js';
import { addMonths, belgianDay } from '../platform/calendar.js';
import {
  billingContext,
  createCustomer,
  insertCalls,
  prepareTenant,
  startContract,
  SYSTEM,
} from '../modules/billing/billing.test-helpers.js';
import { runInvoices } from '../modules/billing/index.js';
import { DATA_MAP } from '../modules/data-map.js';
import { createPerson } from '../modules/parties/index.js';
import { createTenant, type Tenant } from '../modules/tenants/index.js';
import { cdrPurgeJob } from './cdr-purge.job.js';
import { erasureFinisherJob } from './erasure-finisher.job.js';
import { retentionSweepJob } from './retention-sweep.job.js';

// Decision 0640: every multi-tenant job runs on forEachTenant. A tenant whose work fails comes
// first (the lowest id); the tenant after it still gets its work done, and the run fails naming
// the failing tenant so the queue records and retries it.

let database: TestDatabase;
let kernel: Kernel;
/** The real day, except while a test backdates what it creates. */
const clock = fixedClock(new Date());
/** A tenant created bare (`kluis tenant create` without `--policy`): its policy cannot be read. */
let bare: Tenant;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  bare = await createTenant(kernelCore(kernel).db, {
    slug: `bare-${randomBytes(4).toString('hex')}`,
    name: 'Bare',
  });
});
afterAll(async () => {
  vi.restoreAllMocks();
  await database.close();
});

/** The run's outcome: 'succeeded' or the message it failed with. */
async function outcomeOf(run: () => Promise<void>): Promise<string> {
  return run().then(
    () => 'succeeded',
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
}

async function count(sql: string, params: unknown[]): Promise<number> {
  const result = await runAsOwner<{ n: number }>(database.ownerUrl, sql, params);
  return result.rows[0]?.n ?? -1;
}

describe('one tenant failing does not stop a job for the tenants after it (decision 0640)', () => {
  it('VK-13: the retention sweep erases a later tenant’s due prospect although a bare tenant before it fails; the run names the bare tenant', async () => {
    clock.set(new Date('2020-03-01T10:00:00Z'));
    const later = await createPolicyTenant(kernel, 'voiceking');
    expect(later.tenantId).toBeGreaterThan(bare.tenantId);
    const person = await createPerson(
      kernel,
      { tenantId: later.tenantId, actor: SYSTEM, purpose: 'answering_questions' },
      { subjectType: 'prospect', familyName: 'Taakloos', givenName: 'Ines' },
    );
    clock.set(new Date());

    const job = retentionSweepJob(kernel, DATA_MAP, testLogger);
    expect(await outcomeOf(() => job.run())).toBe(`retention-sweep failed for tenants: ${bare.slug}`);
    expect(
      await count(
        'select count(*)::int as n from data_subjects where tenant_id = $1 and subject_id = $2 and erased_at is not null',
        [later.tenantId, person.subjectId],
      ),
    ).toBe(1);
  }, 300_000);

  it('G-1: the call-record purge removes a later tenant’s uncontestable month although a bare tenant before it fails; the run names the bare tenant', async () => {
    const later = await createPolicyTenant(kernel, 'voxtra');
    expect(later.tenantId).toBeGreaterThan(bare.tenantId);
    const catalogue = await prepareTenant(kernel, later);
    const customer = await createCustomer(kernel, later, { familyName: 'Claes' });
    const today = belgianDay(clock.now());
    const old = addMonths(`${today.slice(0, 7)}-01`, -30).slice(0, 7);
    await startContract(kernel, later, customer, {
      startDate: `${old}-01`,
      lines: [{ productId: catalogue.subscription }],
    });
    await insertCalls(kernel, later, [
      {
        subjectId: customer,
        startedAt: `${old}-15T10:00:00Z`,
        destination: '+3292123456',
        seconds: 60,
        costMicros: 60_000,
      },
    ]);
    const run = await runInvoices(kernel, billingContext(later), {
      period: old,
      issueDate: `${addMonths(`${old}-01`, 1).slice(0, 7)}-05`,
      callsPurpose: 'call_billing',
    });
    expect(run.invoiced).toBe(1);

    const job = cdrPurgeJob(kernel, testLogger);
    expect(await outcomeOf(() => job.run())).toBe(`cdr-purge failed for tenants: ${bare.slug}`);
    expect(
      await count('select count(*)::int as n from call_records where tenant_id = $1', [later.tenantId]),
    ).toBe(0);
  }, 300_000);

  it('the erasure finisher destroys a later tenant’s pending data key although the key store fails for a tenant before it; the run names that tenant', async () => {
    const failing = await createPolicyTenant(kernel, 'voxtra');
    const later = await createPolicyTenant(kernel, 'voxtra');
    expect(later.tenantId).toBeGreaterThan(failing.tenantId);
    const pending = new Map<number, number>();
    for (const tenant of [failing, later]) {
      const person = await createPerson(
        kernel,
        { tenantId: tenant.tenantId, actor: SYSTEM, purpose: 'customer_administration' },
        { subjectType: 'customer', familyName: 'Sleutel', givenName: 'Kim', email: 'kim@mail.example' },
      );
      pending.set(tenant.tenantId, person.subjectId);
      // What an erasure records before it destroys the key (a crash right after commit leaves it).
      await runAsOwner(
        database.ownerUrl,
        `insert into subject_key_destructions (tenant_id, subject_id, requested_at, key_scope)
         values ($1, $2, now(), 'subject')`,
        [tenant.tenantId, person.subjectId],
      );
    }
    const keyring = keyringOf(kernel);
    const destroy = keyring.destroySubjectKey.bind(keyring);
    const spy = vi
      .spyOn(keyring, 'destroySubjectKey')
      .mockImplementation(async (tenantId, subjectId, scope) => {
        if (tenantId === failing.tenantId) throw new Error('key store unreachable');
        return destroy(tenantId, subjectId, scope);
      });
    try {
      const job = erasureFinisherJob(kernel, testLogger);
      expect(await outcomeOf(() => job.run())).toBe(`erasure-finisher failed for tenants: ${failing.slug}`);
    } finally {
      spy.mockRestore();
    }
    const stillPending = async (tenantId: number): Promise<number> =>
      count(
        'select count(*)::int as n from subject_key_destructions where tenant_id = $1 and subject_id = $2 and destroyed_at is null',
        [tenantId, pending.get(tenantId)],
      );
    expect(await stillPending(later.tenantId)).toBe(0);
    expect(await keyring.subjectKeyState(later.tenantId, pending.get(later.tenantId) ?? 0, 'subject')).toBe(
      'destroyed',
    );
    expect(await stillPending(failing.tenantId)).toBe(1);
  }, 300_000);
});
