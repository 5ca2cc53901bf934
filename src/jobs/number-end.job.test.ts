import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../test/database.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../test/kernel.js';
import type { Kernel } from '../kernel/kernel.js';
import {
  createCustomer,
  prepareTenant,
  startContract,
  SYSTEM,
} from '../modules/billing/billing.test-helpers.js';
import { assignNumber } from '../modules/telephony/index.js';
import { JOB_SCHEMA, startJobQueue, type JobQueue } from '../platform/job-queue.js';
import { NUMBER_END_JOB, numberEndJob } from './number-end.job.js';

let database: TestDatabase;
let kernel: Kernel;
let queue: JobQueue | undefined;
const clock = fixedClock(new Date('2026-11-20T10:00:00Z'));

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
});
afterAll(async () => {
  await queue?.stop();
  await database.close();
});

describe('the number-end job on the job queue (decision 1032)', () => {
  it('is scheduled daily at 23:05 UTC, and a run through the queue ends the number of a relation that ran out yesterday, at the moment it runs', async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const { subscription } = await prepareTenant(kernel, tenant);
    const subjectId = await createCustomer(kernel, tenant, { familyName: 'Verlopen' });
    // The number before the fixed-term contract: given after it, its period would end with the
    // contract from the start (decision 1160) and leave the job nothing to do.
    await assignNumber(
      kernel,
      { tenantId: tenant.tenantId, actor: SYSTEM, purpose: 'call_billing' },
      { number: '056 99 00 11', subjectId, from: new Date('2026-09-30T22:00:00Z') },
    );
    await startContract(kernel, tenant, subjectId, {
      startDate: '2026-10-01',
      endDate: '2026-11-30',
      lines: [{ productId: subscription }],
    });

    // 10:00 in Brussels on 1 December: the night's run was missed; this one ends the period now.
    clock.set(new Date('2026-12-01T09:00:00Z'));
    const started = await startJobQueue({
      connectionString: database.ownerUrl,
      logger: testLogger,
      pollingIntervalSeconds: 0.5,
    });
    queue = started;
    await started.register(numberEndJob(kernel, testLogger));
    await started.runNow(NUMBER_END_JOB);
    await started.drain(NUMBER_END_JOB, 60_000);

    const periods = await runAsOwner<{ valid_to: Date | null }>(
      database.ownerUrl,
      'select valid_to from number_assignments where tenant_id = $1 and subject_id = $2',
      [tenant.tenantId, subjectId],
    );
    expect(periods.rows.map((row) => row.valid_to?.toISOString())).toEqual(['2026-12-01T09:00:00.000Z']);
    const schedules = await runAsOwner<{ name: string; cron: string }>(
      database.ownerUrl,
      `select name, cron from ${JOB_SCHEMA}.schedule`,
    );
    expect(schedules.rows).toEqual([{ name: NUMBER_END_JOB, cron: '5 23 * * *' }]);
  });
});
