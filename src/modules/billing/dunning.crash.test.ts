import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KLUIS_BIN, runCli } from '../../../test/cli.js';
import { crashEnv, runChild } from '../../../test/crash.js';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { startSmtpSink, type SmtpSink } from '../../../test/smtp.js';
import type { Kernel } from '../../kernel/kernel.js';
import { systemClock } from '../../platform/clock.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';
import {
  billingContext,
  contractPurpose,
  prepareTenant,
  SYSTEM,
  startContract,
} from './billing.test-helpers.js';
import { listInvoices, readDisputedMonths, runInvoices } from './index.js';

/*
 * A reminder is written with its level and sent after commit (decision 0300 over 0190): a `kluis
 * invoices remind` killed (SIGKILL) between the commit and the send loses nothing and, run again,
 * duplicates nothing. The console's dunning commands on the same invoice.
 */

const masterKey = randomBytes(32);
const email = 'els.claes@mail.example';
let database: TestDatabase;
let kernel: Kernel;
let tenant: Tenant;
let smtp: SmtpSink;
let invoiceNumber: string;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, systemClock, masterKey);
  tenant = await createPolicyTenant(kernel, 'voiceking');
  smtp = await startSmtpSink();
  const catalogue = await prepareTenant(kernel, tenant);
  const person = await createPerson(
    kernel,
    { tenantId: tenant.tenantId, actor: SYSTEM, purpose: contractPurpose(tenant) },
    {
      subjectType: 'customer',
      givenName: 'Els',
      familyName: 'Claes',
      email,
      preferredLanguage: 'nl',
      address: { street: 'Veldstraat 1', postalCode: '9000', city: 'Gent', country: 'BE' },
    },
  );
  await startContract(kernel, tenant, person.subjectId, {
    startDate: '2025-01-01',
    lines: [{ productId: catalogue.subscription }],
  });
  // Long overdue on any day this test runs: due 3 March 2025.
  await runInvoices(kernel, billingContext(tenant), {
    period: '2025-01',
    issueDate: '2025-02-01',
    callsPurpose: 'call_billing',
  });
  const [invoice] = (await listInvoices(kernel, billingContext(tenant), { limit: 1 })).items;
  invoiceNumber = invoice?.invoiceNumber ?? '';
}, 120_000);
afterAll(async () => {
  await smtp.close();
  await database.close();
});

const env = (extra: Record<string, string> = {}) =>
  crashEnv(database, masterKey, {
    KLUIS_SMTP_URL: smtp.url,
    KLUIS_SMTP_DELIVERS: 'false',
    KLUIS_DEMO: 'false',
    ...extra,
  });

const kluis = (args: string[]) => runCli(args, env(), 120_000);

async function reminderRows(): Promise<Array<{ level: number; state: string }>> {
  const result = await runAsOwner<{ level: number; state: string }>(
    database.ownerUrl,
    `select r.level, l.state from invoice_reminders r
       join sealed_letters l on l.tenant_id = r.tenant_id and l.letter_id = r.letter_id
      where r.tenant_id = $1 order by r.level`,
    [tenant.tenantId],
  );
  return result.rows;
}

describe('a reminder survives a crash (issue 22)', () => {
  it('VX-3: `kluis invoices remind` killed (SIGKILL) after the commit and before sending: the next run sends exactly one first reminder and writes no second', async () => {
    const killed = await runChild(
      [KLUIS_BIN, 'invoices', 'remind', '--tenant', tenant.slug],
      env({ KLUIS_TEST_HOOK: 'dunning.committed:kill' }),
    );
    expect(killed.signal).toBe('SIGKILL');
    // The level and its letter committed together; nothing was mailed.
    expect(await reminderRows()).toEqual([{ level: 1, state: 'pending' }]);
    expect(smtp.to(email)).toHaveLength(0);

    const again = await kluis(['invoices', 'remind', '--tenant', tenant.slug]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('reminders: 0 first, 0 second, 0 formal notices');
    expect(again.stdout).toContain('1 letters sent');
    expect(smtp.to(email)).toHaveLength(1);
    expect(smtp.to(email)[0]?.subject).toBe(`Herinnering: factuur ${invoiceNumber} is nog niet betaald`);
    // The second level waits for its own day (14 days after the first).
    expect(await reminderRows()).toEqual([{ level: 1, state: 'sent' }]);
    const third = await kluis(['invoices', 'remind', '--tenant', tenant.slug]);
    expect(third.code).toBe(0);
    expect(third.stdout).toContain('0 letters sent');
    expect(smtp.to(email)).toHaveLength(1);
    const listed = await kluis(['invoices', 'reminders', '--tenant', tenant.slug, invoiceNumber]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(`${invoiceNumber}: overdue, 18.15 due`);
    expect(listed.stdout).toMatch(
      /1\tfirst_reminder\t\d{4}-\d{2}-\d{2}\tpay by \d{4}-\d{2}-\d{2}\t18\.15\tmailed/,
    );
  }, 240_000);

  it('`kluis invoices dispute|settle-dispute|collection` on the invoice number: the dispute holds its calls’ month, collection needs the formal notice; bad input exits 1 naming it', async () => {
    const bad = await kluis(['invoices', 'dispute', '--tenant', tenant.slug, '--reason', 'x', invoiceNumber]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('reason');
    const unknown = await kluis([
      'invoices',
      'dispute',
      '--tenant',
      tenant.slug,
      '--reason',
      'Not ours',
      'F1999-000001',
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no such invoice F1999-000001');
    const disputed = await kluis([
      'invoices',
      'dispute',
      '--tenant',
      tenant.slug,
      '--reason',
      'The customer says the line was cut in January.',
      invoiceNumber,
    ]);
    expect(disputed.code, disputed.stderr).toBe(0);
    expect(await kernel.plain(tenant.tenantId, (tx) => readDisputedMonths(tx))).toEqual(new Set(['2025-01']));
    const collection = await kluis(['invoices', 'collection', '--tenant', tenant.slug, invoiceNumber]);
    expect(collection.code).toBe(1);
    expect(collection.stderr).toContain('no formal notice has been sent');
    const settled = await kluis(['invoices', 'settle-dispute', '--tenant', tenant.slug, invoiceNumber]);
    expect(settled.code, settled.stderr).toBe(0);
    expect(await kernel.plain(tenant.tenantId, (tx) => readDisputedMonths(tx))).toEqual(new Set());
    const settings = await kluis([
      'billing',
      'settings',
      '--tenant',
      tenant.slug,
      '--iban',
      'BE68 5390 0754 7034',
      '--reminders',
      'on',
      '--reminder-days',
      '28,14,42',
    ]);
    expect(settings.code).toBe(1);
    expect(settings.stderr).toContain('must increase');
  }, 240_000);
});
