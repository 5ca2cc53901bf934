import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../test/database.js';
import { createPolicyTenant, fixedClock } from '../../test/kernel.js';
import { startSmtpSink, type SmtpSink } from '../../test/smtp.js';
import { createKernel, type Kernel } from '../kernel/kernel.js';
import { LocalKeyManagementService } from '../kernel/keyring/kms.js';
import { createAppDb } from '../platform/db.js';
import { startJobQueue, JOB_SCHEMA, type JobQueue } from '../platform/job-queue.js';
import { sendDeadlineReminders, submitPublicRequest, type RequestsDeps } from '../modules/requests/index.js';
import type { Tenant } from '../modules/tenants/index.js';
import { deadlineRemindersJob } from './deadline-reminders.job.js';

let database: TestDatabase;
let smtp: SmtpSink;
const clock = fixedClock(new Date('2026-03-02T09:00:00Z'));
const masterKey = randomBytes(32);
const closers: Array<() => Promise<unknown>> = [];

/** One "process": its own connection pool and kernel on the shared database (same master key). */
function openProcess(): RequestsDeps {
  const { db } = createAppDb({
    connectionString: database.ownerUrl,
    assumeAppRole: true,
    logger: testLogger,
    max: 3,
  });
  closers.push(() => db.destroy());
  const kernel: Kernel = createKernel({
    db,
    keystore: database.keystore,
    kms: new LocalKeyManagementService(masterKey),
    clock,
  });
  return { kernel, mailer: smtp.mailer, dataMap: [], publicUrl: 'https://kluis.test', logger: testLogger };
}

let first: RequestsDeps;
let second: RequestsDeps;
let tenant: Tenant;

beforeAll(async () => {
  database = await createTestDatabase();
  smtp = await startSmtpSink();
  first = openProcess();
  second = openProcess();
  tenant = await createPolicyTenant(first.kernel, 'voiceking');
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await smtp.close();
  await database.close();
});

async function openRequests(count: number): Promise<void> {
  for (let index = 0; index < count; index += 1) {
    await submitPublicRequest(first, tenant.slug, {
      kind: 'access',
      email: `nobody${index}-${randomBytes(3).toString('hex')}@unknown.example`,
    });
  }
}

const reminders = (): number => smtp.to('info@voiceking.be').length;

describe('scheduled work runs once (issue 11)', () => {
  // Part of VK-27, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('two processes sending the reminders at the same moment mail the privacy contact once', async () => {
    clock.set(new Date('2026-03-02T09:00:00Z'));
    await openRequests(3);
    clock.set(new Date('2026-03-27T09:00:00Z')); // due 2026-04-01: within 7 days
    const before = reminders();
    const results = await Promise.all([
      sendDeadlineReminders(first, tenant.tenantId),
      sendDeadlineReminders(second, tenant.tenantId),
    ]);
    // The outbox sends the reminder (decision 0850); the sink reads it a moment after SMTP took it.
    await smtp.waitFor('info@voiceking.be', before + 1);
    expect(reminders() - before).toBe(1);
    expect(results.map((result) => result.dueSoon).sort()).toEqual([0, 3]);
    const mail = smtp.to('info@voiceking.be').at(-1);
    expect(mail?.text?.match(/access/g)).toHaveLength(3);
    // The same day again: nothing; the next day: one reminder again.
    expect(await sendDeadlineReminders(second, tenant.tenantId)).toEqual({ dueSoon: 0, overdue: 0 });
    clock.set(new Date('2026-03-28T09:00:00Z'));
    await Promise.all([
      sendDeadlineReminders(first, tenant.tenantId),
      sendDeadlineReminders(second, tenant.tenantId),
    ]);
    await smtp.waitFor('info@voiceking.be', before + 2);
    expect(reminders() - before).toBe(2);
  });

  // Part of VK-27, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).

  it('two job queues on one database run the hourly reminder job once, and its tables stay outside the tenant schema', async () => {
    clock.set(new Date('2026-03-29T09:00:00Z'));
    const queues: JobQueue[] = [];
    for (const deps of [first, second]) {
      const queue = await startJobQueue({
        connectionString: database.ownerUrl,
        logger: testLogger,
        pollingIntervalSeconds: 0.5,
      });
      closers.push(() => queue.stop());
      queues.push(queue);
      await queue.register(deadlineRemindersJob(deps, testLogger));
    }
    const before = reminders();
    // Both processes' hourly tick fires: each asks for a run.
    await Promise.all(queues.map((queue) => queue.runNow('deadline-reminders')));
    await smtp.waitFor('info@voiceking.be', before + 1);
    for (const queue of queues) await queue.drain('deadline-reminders');
    expect(reminders() - before).toBe(1);

    const schedules = await runAsOwner<{ name: string; cron: string }>(
      database.ownerUrl,
      `select name, cron from ${JOB_SCHEMA}.schedule`,
    );
    expect(schedules.rows).toEqual([{ name: 'deadline-reminders', cron: '7 * * * *' }]);
  });
});
