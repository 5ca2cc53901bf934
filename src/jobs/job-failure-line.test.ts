import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../test/kernel.js';
import { startSmtpSink, type SmtpSink } from '../../test/smtp.js';
import { kernelCore, type Kernel } from '../kernel/kernel.js';
import { DATA_MAP } from '../modules/data-map.js';
import { createTenant, type Tenant } from '../modules/tenants/index.js';
import { startJobQueue, type JobQueue } from '../platform/job-queue.js';
import { createLogger } from '../platform/logger.js';
import { MAILING_SENDER_JOB, mailingSenderJob } from './mailing-sender.job.js';

// Decision 0700: a run that fails for a tenant is one log line, naming the tenant and its code.

let database: TestDatabase;
let kernel: Kernel;
let smtp: SmtpSink;
let queue: JobQueue | undefined;
let bare: Tenant;
const lines: Array<Record<string, unknown>> = [];
const logger = createLogger({
  level: 'debug',
  destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
});

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  smtp = await startSmtpSink();
  bare = await createTenant(kernelCore(kernel).db, {
    slug: `bare-${randomBytes(4).toString('hex')}`,
    name: 'Bare',
  });
  await createPolicyTenant(kernel, 'voxtra');
}, 120_000);
afterAll(async () => {
  await queue?.stop();
  await smtp?.close();
  await database?.close();
});

describe('the log of a job run that fails for a tenant (decision 0700)', () => {
  it('a bare tenant failing the mailing sender on the job queue is one error line for the run, naming the tenant and invalid_policy', async () => {
    queue = await startJobQueue({ connectionString: database.ownerUrl, logger, pollingIntervalSeconds: 0.5 });
    await queue.register(
      mailingSenderJob({
        kernel,
        mailer: smtp.mailer,
        publicUrl: 'https://jobs.example',
        dataMap: DATA_MAP,
        logger,
      }),
    );
    await queue.runNow(MAILING_SENDER_JOB);
    const errors = () => lines.filter((line) => line.level === 50);
    const until = Date.now() + 60_000;
    while (errors().length === 0 && Date.now() < until)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(errors()).toEqual([
      expect.objectContaining({
        job: MAILING_SENDER_JOB,
        tenants: [{ tenant: bare.slug, tenantId: bare.tenantId, code: 'invalid_policy' }],
        msg: 'job failed; it will be retried',
      }),
    ]);
    // The tenant's own line is kept for debugging, below what an operator reads.
    expect(
      lines.filter((line) => line.msg === 'job failed for this tenant; the other tenants go on'),
    ).toEqual([expect.objectContaining({ level: 20, tenant: bare.slug, code: 'invalid_policy' })]);
  }, 120_000);
});
