import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../test/database.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../test/kernel.js';
import type { Kernel } from '../kernel/kernel.js';
import { startJobQueue, JOB_SCHEMA, type JobQueue } from '../platform/job-queue.js';
import { runAsRequest } from '../platform/request-scope.js';
import { SYSTEM } from '../modules/billing/billing.test-helpers.js';
import { DATA_MAP } from '../modules/data-map.js';
import { createPerson } from '../modules/parties/index.js';
import { CERTIFICATE_ACTION } from '../modules/retention/index.js';
import { RETENTION_SWEEP_JOB, retentionSweepJob } from './retention-sweep.job.js';

let database: TestDatabase;
let kernel: Kernel;
let queue: JobQueue | undefined;
const clock = fixedClock(new Date('2020-03-01T10:00:00Z'));

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
});
afterAll(async () => {
  await queue?.stop();
  await database.close();
});

describe('the daily retention sweep on the job queue (issue 16)', () => {
  it('is scheduled daily, and a run sweeps every tenant: the due prospects of both policies are erased and certified', async () => {
    const tenants = [
      await createPolicyTenant(kernel, 'voiceking'),
      await createPolicyTenant(kernel, 'voxtra'),
    ];
    const ids: number[] = [];
    for (const [tenant, purpose] of [
      [tenants[0], 'answering_questions'],
      [tenants[1], 'quotes'],
    ] as const) {
      if (!tenant) throw new Error('no tenant');
      const person = await createPerson(
        kernel,
        { tenantId: tenant.tenantId, actor: SYSTEM, purpose },
        { subjectType: 'prospect', familyName: 'Taakloos', givenName: 'Ines' },
      );
      ids.push(person.subjectId);
    }
    clock.set(new Date('2024-06-01T10:00:00Z'));
    // Started, registered and asked for as if inside requests' handlers (decision 0761): the
    // job's entries must still name no request.
    const started = await runAsRequest('request-that-started-the-queue', () =>
      startJobQueue({
        connectionString: database.ownerUrl,
        logger: testLogger,
        pollingIntervalSeconds: 0.5,
      }),
    );
    queue = started;
    await runAsRequest('request-that-registered-the-job', () =>
      started.register(retentionSweepJob(kernel, DATA_MAP, testLogger)),
    );
    await runAsRequest('request-that-asked-for-a-run', () => started.runNow(RETENTION_SWEEP_JOB));
    await queue.drain(RETENTION_SWEEP_JOB, 60_000);

    const erased = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from data_subjects where subject_id = any($1::bigint[]) and erased_at is not null',
      [ids],
    );
    expect(erased.rows[0]?.n).toBe(2);
    const certificates = await runAsOwner<{ n: number; with_request: number }>(
      database.ownerUrl,
      `select count(*)::int as n, count(request_id)::int as with_request from audit_log where action = $1`,
      [CERTIFICATE_ACTION],
    );
    expect(certificates.rows[0]).toEqual({ n: 2, with_request: 0 });
    const schedules = await runAsOwner<{ name: string; cron: string }>(
      database.ownerUrl,
      `select name, cron from ${JOB_SCHEMA}.schedule`,
    );
    expect(schedules.rows).toEqual([{ name: RETENTION_SWEEP_JOB, cron: '30 2 * * *' }]);
  });
});
