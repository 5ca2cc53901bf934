import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testLogger, type TestDatabase } from '../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../test/kernel.js';
import { startSmtpSink, type SmtpSink } from '../../test/smtp.js';
import type { Kernel } from '../kernel/kernel.js';
import { createMailing, queueMailing, readMailingStatus } from '../modules/consent/index.js';
import { DATA_MAP } from '../modules/data-map.js';
import { createPerson } from '../modules/parties/index.js';
import { startJobQueue, type JobQueue } from '../platform/job-queue.js';
import { MAILING_SENDER_JOB, mailingSenderJob } from './mailing-sender.job.js';

let database: TestDatabase;
let kernel: Kernel;
let smtp: SmtpSink;
let queue: JobQueue | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  smtp = await startSmtpSink();
});
afterAll(async () => {
  await queue?.stop();
  await smtp.close();
  await database.close();
});

describe('the mailing sender on the job queue (issue 14)', () => {
  it('a queued mailing is sent by the pg-boss job, once, and the mailing is done', async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const email = 'job.reader@mail.example';
    await createPerson(
      kernel,
      {
        tenantId: tenant.tenantId,
        actor: { kind: 'system', job: 'test' },
        purpose: 'customer_administration',
      },
      { subjectType: 'customer', familyName: 'Wachtrij', givenName: 'Jo', email },
    );
    const context = {
      tenantId: tenant.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' } as const,
      purpose: 'personalised_info',
    };
    const mailing = await createMailing(kernel, context, {
      texts: { nl: { subject: 'Via de wachtrij', body: 'Hallo.' } },
    });
    await queueMailing(kernel, context, mailing.mailingId);
    queue = await startJobQueue({
      connectionString: database.ownerUrl,
      logger: testLogger,
      pollingIntervalSeconds: 0.5,
    });
    const deps = {
      kernel,
      mailer: smtp.mailer,
      publicUrl: 'https://news.example',
      dataMap: DATA_MAP,
      logger: testLogger,
    };
    await queue.register(mailingSenderJob(deps));
    await queue.runNow(MAILING_SENDER_JOB);
    await queue.drain(MAILING_SENDER_JOB, 60_000);
    await queue.runNow(MAILING_SENDER_JOB);
    await queue.drain(MAILING_SENDER_JOB, 60_000);
    expect(smtp.to(email).map((mail) => mail.subject)).toEqual(['Via de wachtrij']);
    const status = await readMailingStatus(kernel, tenant.tenantId, mailing.mailingId);
    expect(status.state).toBe('sent');
    expect(status.recipients.sent).toBe(1);
  }, 120_000);
});
