import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../../test/cli.js';
import { crashEnv, pollUntil, runChild } from '../../../test/crash.js';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { startSmtpSink, type SmtpSink } from '../../../test/smtp.js';
import { MAILING_SENDER_JOB, mailingSenderJob } from '../../jobs/mailing-sender.job.js';
import type { Kernel } from '../../kernel/kernel.js';
import { systemClock } from '../../platform/clock.js';
import { JOB_SCHEMA, startJobQueue } from '../../platform/job-queue.js';
import { DATA_MAP } from '../data-map.js';
import type { Tenant } from '../tenants/index.js';
import { writeMailSettings } from './index.js';
import { queuedMailingTo } from './mailing.test-helpers.js';

let database: TestDatabase;
let kernel: Kernel;
let smtp: SmtpSink;
let tenant: Tenant;
const masterKey = randomBytes(32);

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, systemClock, masterKey);
  smtp = await startSmtpSink();
  tenant = await createPolicyTenant(kernel, 'voiceking');
  await writeMailSettings(kernel, tenant.tenantId, {
    fromAddress: 'news@voiceking.be',
    dkim: null,
    ratePerSecond: 1000,
  });
}, 60_000);
afterAll(async () => {
  await smtp.close();
  await database.close();
});

const count = async (sql: string, params: unknown[]): Promise<number> =>
  (await runAsOwner<{ n: number }>(database.ownerUrl, sql, params)).rows[0]?.n ?? -1;

describe('a server killed while its mailing sender runs (attack S9-6, decision 0587)', () => {
  it('VK-17: after a server killed during a mailing run restarts, the mailing goes on within a minute, not after the 15-minute job expiry, and nobody gets a mail twice', async () => {
    const { mailingId, addresses, pending } = await queuedMailingTo(kernel, tenant, 'Queue', 5);
    expect(pending).toBe(5);

    // The job queue of a "server" sends; the process dies right after the SMTP server took the
    // second mail, before that row was marked sent.
    const outbox = await mkdtemp(path.join(os.tmpdir(), 'kluis-mailing-outbox-'));
    const exit = await runChild(
      ['--import', 'tsx', path.join(ROOT, 'test/children/run-mailing-queue.ts'), outbox],
      crashEnv(database, masterKey, {
        KLUIS_TEST_HOOK: 'mailing.after-send-2:kill',
        KLUIS_SMTP_URL: smtp.url,
        KLUIS_SMTP_DELIVERS: 'false',
        KLUIS_PUBLIC_URL: 'https://news.example',
      }),
    );
    expect(exit.signal, exit.stderr).toBe('SIGKILL');
    expect(smtp.messages).toHaveLength(2);
    const activeRuns = `select count(*)::int as n from ${JOB_SCHEMA}.job where name = $1 and state = 'active'`;
    // The dead run holds the stately queue: before the fix it stayed so for 15 minutes.
    expect(await count(activeRuns, [MAILING_SENDER_JOB])).toBe(1);

    // The server starts again: its queue registers the job and the start asks for a run.
    const queue = await startJobQueue({
      connectionString: database.ownerUrl,
      logger: testLogger,
      pollingIntervalSeconds: 1,
      recoverIntervalSeconds: 2,
    });
    let state = 'sending';
    try {
      await queue.register(
        mailingSenderJob({
          kernel,
          mailer: smtp.mailer,
          publicUrl: 'https://news.example',
          dataMap: DATA_MAP,
          logger: testLogger,
        }),
      );
      await queue.runNow(MAILING_SENDER_JOB);
      state = await pollUntil(async () => {
        const row = await runAsOwner<{ state: string }>(
          database.ownerUrl,
          'select state from mailings where tenant_id = $1 and mailing_id = $2',
          [tenant.tenantId, mailingId],
        );
        return row.rows[0]?.state ?? 'missing';
      }, 'sent');
      await queue.drain(MAILING_SENDER_JOB, 30_000);
    } finally {
      await queue.stop();
    }
    expect(state).toBe('sent');
    // Every address once: the second mail (taken by SMTP, not marked) is uncertain, not sent again.
    expect(smtp.messages).toHaveLength(5);
    for (const address of addresses) expect(smtp.to(address)).toHaveLength(1);
    const states = await runAsOwner<{ state: string; count: number }>(
      database.ownerUrl,
      'select state, count(*)::int as count from mailing_recipients where tenant_id = $1 and mailing_id = $2 group by state order by state',
      [tenant.tenantId, mailingId],
    );
    expect(states.rows).toEqual([
      { state: 'sent', count: 4 },
      { state: 'uncertain', count: 1 },
    ]);
    // The dead run was failed (handed to a retry), not left active; nothing of the queue runs now.
    expect(await count(activeRuns, [MAILING_SENDER_JOB])).toBe(0);
  }, 120_000);
});
