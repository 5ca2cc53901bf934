import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../../test/cli.js';
import { crashEnv, runChild } from '../../../test/crash.js';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import { startSmtpSink, type SmtpSink } from '../../../test/smtp.js';
import type { Kernel } from '../../kernel/kernel.js';
import { deliverLetters } from '../../kernel/letters/index.js';
import type { Tenant } from '../tenants/index.js';
import { submitPublicRequest, type RequestsDeps } from './index.js';

/*
 * The deadline reminder of the rights requests (VK-27) is claimed and written to the letter
 * outbox in one transaction (decision 0850). A run killed (SIGKILL) right after that commit,
 * before mailing, leaves the day's reminder for the letter sender: sent once, never twice.
 */

const masterKey = randomBytes(32);
const contact = 'info@voiceking.be';
// The requests are filed 40 days ago: overdue today (a month to answer, decision 0052).
const clock = fixedClock(new Date(Date.now() - 40 * 86_400_000));
let database: TestDatabase;
let kernel: Kernel;
let tenant: Tenant;
let smtp: SmtpSink;
let deps: RequestsDeps;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock, masterKey);
  smtp = await startSmtpSink();
  tenant = await createPolicyTenant(kernel, 'voiceking');
  deps = { kernel, mailer: smtp.mailer, dataMap: [], publicUrl: 'https://kluis.test', logger: testLogger };
});
afterAll(async () => {
  await smtp.close();
  await database.close();
});

/** The deadline reminder of the tenant in a child process; its signal (SIGKILL at an armed hook). */
async function remindInChild(hook?: string): Promise<NodeJS.Signals | null> {
  const exit = await runChild(
    ['--import', 'tsx', path.join(ROOT, 'test/children/run-deadline-reminders.ts'), String(tenant.tenantId)],
    crashEnv(database, masterKey, {
      KLUIS_SMTP_URL: smtp.url,
      KLUIS_SMTP_DELIVERS: 'false',
      KLUIS_DEMO: 'false',
      ...(hook === undefined ? {} : { KLUIS_TEST_HOOK: hook }),
    }),
  );
  if (exit.code !== 0 && exit.signal === null) throw new Error(`reminder child failed: ${exit.stderr}`);
  return exit.signal;
}

describe('the deadline reminder survives a crash (decision 0850)', () => {
  // Part of VK-27, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('a reminder run killed (SIGKILL) after claiming the day and before mailing: the letter sender mails the reminder exactly once, and a second run that day sends nothing', async () => {
    for (const index of [1, 2])
      await submitPublicRequest(deps, tenant.slug, {
        kind: 'access',
        email: `nobody${index}-${randomBytes(3).toString('hex')}@unknown.example`,
      });
    clock.set(new Date());
    // The requests' own letters (to no one: unknown addresses) are closed first.
    await deliverLetters(kernel, smtp.mailer, [tenant.tenantId]);

    expect(await remindInChild('requests.deadline-reminder-queued:kill')).toBe('SIGKILL');
    const claimed = await runAsOwner<{ reminded: boolean }>(
      database.ownerUrl,
      'select last_reminder_on is not null as reminded from rights_requests where tenant_id = $1',
      [tenant.tenantId],
    );
    expect(claimed.rows).toEqual([{ reminded: true }, { reminded: true }]);
    const reminders = () =>
      runAsOwner<{ state: string }>(
        database.ownerUrl,
        `select state from sealed_letters where tenant_id = $1 and kind = 'request.deadline_reminder'`,
        [tenant.tenantId],
      ).then((result) => result.rows);
    expect(await reminders()).toEqual([{ state: 'pending' }]);
    expect(smtp.to(contact)).toHaveLength(0);

    // The letter sender (every minute in a server) mails it; the same day's next run adds nothing.
    // (This process's clock is moved on to the child's time: the letter is due from then.)
    clock.set(new Date());
    await deliverLetters(kernel, smtp.mailer, [tenant.tenantId]);
    expect(await remindInChild()).toBeNull();
    clock.set(new Date());
    await deliverLetters(kernel, smtp.mailer, [tenant.tenantId]);
    expect(smtp.to(contact).map((mail) => mail.subject)).toEqual(['Kluis: 2 overdue, 0 due within 7 days']);
    expect(await reminders()).toEqual([{ state: 'sent' }]);
  }, 180_000);
});
