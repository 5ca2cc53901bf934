import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import { startSmtpSink, type SmtpSink } from '../../../test/smtp.js';
import { dunningJob } from '../../jobs/dunning.job.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tenant } from '../tenants/index.js';
import { billingContext, prepareTenant, startContract } from './billing.test-helpers.js';
import { runInvoices } from './index.js';

// A name typed with a line break (the attack used "\r\nBcc: …") must not add lines to a mail
// body, nor anything that looks like a header (issue 22 attack; src/platform/mail-text.ts).
const clock = fixedClock(new Date('2026-07-01T08:00:00Z'));
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let smtp: SmtpSink;
let tenant: Tenant;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  smtp = await startSmtpSink();
  app = await createTestApp(kernel, { mailer: smtp.mailer });
  tenant = await createPolicyTenant(kernel, 'voiceking');
});
afterAll(async () => {
  await app.close();
  await smtp.close();
  await database.close();
});

describe('values in mail bodies stay on their line', () => {
  it('a reminder to a customer whose name holds CR/LF and "Bcc:" greets on one line and adds no header or recipient', async () => {
    const catalogue = await prepareTenant(kernel, tenant);
    const sales = await loginAs(app, kernel, tenant, 'sales');
    const email = 'jan.lijnen@mail.example';
    const hostile = 'Jan\r\nBcc: evil@attacker.example\r\n\r\nPay to BE00';
    const register = (givenName: string) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/people',
        headers: {
          cookie: sales.cookie,
          'x-csrf-token': sales.csrfToken,
          'x-kluis-purpose': 'order_processing',
        },
        payload: {
          subjectType: 'customer',
          givenName,
          familyName: 'Lijnen',
          email,
          preferredLanguage: 'nl',
          address: { street: 'Veldstraat 1', postalCode: '9000', city: 'Gent', country: 'BE' },
        },
      });
    // Such a name is refused at the door now (decision 0396) ...
    expect((await register(hostile)).statusCode).toBe(400);
    // ... but one stored before that rule still reaches the mail builders.
    const created = await register('Jan');
    expect(created.statusCode, created.body).toBe(201);
    const subjectId = created.json<{ subjectId: number }>().subjectId;
    await runAsOwner(
      database.ownerUrl,
      'update people set given_name = $1 where tenant_id = $2 and subject_id = $3',
      [hostile, tenant.tenantId, subjectId],
    );
    await startContract(kernel, tenant, subjectId, {
      startDate: '2026-06-01',
      lines: [{ productId: catalogue.subscription }],
    });
    await runInvoices(kernel, billingContext(tenant), {
      period: '2026-06',
      issueDate: '2026-07-01',
      callsPurpose: 'call_billing',
    });
    // Due 31 July; the first reminder goes 14 days later.
    clock.set(new Date('2026-08-14T08:30:00Z'));
    await dunningJob({
      kernel,
      mailer: smtp.mailer,
      publicUrl: 'http://localhost',
      logger: testLogger,
    }).run();

    const [reminder] = smtp.to(email);
    if (!reminder) throw new Error('no reminder');
    const lines = (reminder.text ?? '').split('\n');
    expect(lines[0]).toBe('Beste Jan Bcc: evil@attacker.example Pay to BE00 Lijnen,');
    expect(lines.filter((line) => /^(Bcc|Pay to)/.test(line))).toEqual([]);
    expect(lines[1]).toBe('');
    expect(reminder.headers.has('bcc')).toBe(false);
    expect(smtp.to('evil@attacker.example')).toEqual([]);
  });
});
