/**
 * Issue #20, the billing screen's dunning, PDF and bookkeeping parts in a real Chromium: a billing
 * clerk sees the reminders an invoice got, opens its PDF, hands it over for collection after the
 * formal notice (a disputed one is refused in words), downloads the accountant's CSV of a period
 * and changes the reminder schedule. The database is checked afterwards; each screen passes
 * axe-core and is saved under test-results/screenshots/back-office-billing/.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kernel } from '../src/kernel/kernel.js';
import {
  billingContext,
  createCustomer,
  prepareTenant,
  startContract,
} from '../src/modules/billing/billing.test-helpers.js';
import { disputeInvoice, listInvoices, runDunning, runInvoices } from '../src/modules/billing/index.js';
import type { Tenant } from '../src/modules/tenants/index.js';
import type { BrowserSuite } from './browser.js';
import { runAsOwner, type TestDatabase } from './database.js';
import { createPolicyTenant, createTestKernel, fixedClock } from './kernel.js';
import {
  choosePurpose,
  closeBackOffice,
  expectNoPageProblems,
  goTo,
  look,
  staffSignedIn,
  startBackOffice,
  type BackOffice,
} from './staff-browser.js';

let env: BackOffice;
let database: TestDatabase;
let kernel: Kernel;
let browser: BrowserSuite;
let voiceking: Tenant;
const numbers = { reminded: '', disputed: '' };

beforeAll(async () => {
  const masterKey = randomBytes(32);
  env = await startBackOffice('back-office-billing', {
    kernel: (database) => createTestKernel(database, undefined, masterKey),
  });
  ({ database, kernel, browser } = env);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  const catalogue = await prepareTenant(kernel, voiceking);
  const reminded = await createCustomer(kernel, voiceking, { familyName: 'Peeters', givenName: 'An' });
  const disputed = await createCustomer(kernel, voiceking, { familyName: 'Claes', givenName: 'Wim' });
  for (const subject of [reminded, disputed])
    await startContract(kernel, voiceking, subject, {
      startDate: '2026-06-01',
      lines: [{ productId: catalogue.subscription }],
    });
  // June billed on 1 July, due 31 July; the reminders run on their days (14, 28, 42 days later)
  // on a second kernel over the same database with its own clock.
  await runInvoices(kernel, billingContext(voiceking), {
    period: '2026-06',
    issueDate: '2026-07-01',
    callsPurpose: 'call_billing',
  });
  const invoices = await listInvoices(kernel, billingContext(voiceking), { limit: 10, period: '2026-06' });
  for (const invoice of invoices.items) {
    if (invoice.subjectId === reminded) numbers.reminded = invoice.invoiceNumber;
    if (invoice.subjectId === disputed) numbers.disputed = invoice.invoiceNumber;
  }
  const clock = fixedClock(new Date('2026-08-14T08:30:00Z'));
  const dunning = createTestKernel(database, clock, masterKey);
  for (const day of ['2026-08-14', '2026-08-28', '2026-09-11']) {
    clock.set(new Date(`${day}T08:30:00Z`));
    await runDunning(dunning, voiceking.tenantId, { messageDomain: 'localhost' });
  }
  const toDispute = invoices.items.find((invoice) => invoice.subjectId === disputed);
  await disputeInvoice(kernel, billingContext(voiceking), toDispute?.invoiceId ?? 0, {
    reason: 'Contests the June subscription: the line was not delivered yet.',
  });
}, 180_000);
afterAll(() => closeBackOffice(env));

describe('the billing screen: dunning, PDF and bookkeeping (issue #20)', () => {
  it('billing sees an invoice’s reminders, opens its PDF, hands it over for collection, downloads the accountant’s CSV and changes the reminder schedule', async () => {
    expect(numbers.reminded).not.toBe('');
    expect(numbers.disputed).not.toBe('');
    const { page } = await staffSignedIn(env, voiceking, 'billing');
    await goTo(page, 'Billing');
    await page
      .getByTestId(`invoice-${numbers.reminded}`)
      .getByRole('button', { name: numbers.reminded })
      .click();
    const dialog = page.getByRole('dialog');

    // The three reminders, in order, with the formal notice last.
    const reminders = dialog.getByTestId('invoice-reminders');
    await reminders.getByTestId('reminder-3').waitFor();
    await expect(reminders.getByTestId('reminder-1').innerText()).resolves.toMatch(
      /first reminder\s+14\/08\/2026/,
    );
    await expect(reminders.getByTestId('reminder-2').innerText()).resolves.toMatch(
      /second reminder\s+28\/08\/2026/,
    );
    await expect(reminders.getByTestId('reminder-3').innerText()).resolves.toMatch(
      /formal notice\s+11\/09\/2026/,
    );
    await reminders.scrollIntoViewIfNeeded();
    await look(browser, page, 'billing-dunning-1-reminders');

    // The PDF, fetched under the screen's purpose and opened in a new tab.
    const [pdf, viewer] = await Promise.all([
      page.waitForResponse((response) => response.url().endsWith('/pdf')),
      page.context().waitForEvent('page'),
      dialog.getByRole('button', { name: 'Open the PDF' }).click(),
    ]);
    expect(pdf.status()).toBe(200);
    expect(pdf.headers()['content-type']).toMatch(/^application\/pdf/);
    expect(Number(pdf.headers()['content-length'] ?? '1')).toBeGreaterThan(0);
    // Headless Chromium has no PDF viewer: the new tab is closed, the bytes fetched again as the screen did.
    await viewer.close();
    const head = await page.evaluate(async (url) => {
      const answer = await fetch(url, { headers: { 'x-kluis-purpose': 'billing' } });
      return new TextDecoder('latin1').decode((await answer.arrayBuffer()).slice(0, 5));
    }, pdf.url());
    expect(head).toBe('%PDF-');

    // After the formal notice: handed over for collection.
    await dialog.getByRole('button', { name: 'Hand over for collection' }).click();
    await dialog.getByTestId('collection-done').waitFor();
    await look(browser, page, 'billing-dunning-2-collection');
    await dialog.getByRole('button', { name: 'Close' }).click();

    // The disputed invoice is refused, and the screen says why.
    await page
      .getByTestId(`invoice-${numbers.disputed}`)
      .getByRole('button', { name: numbers.disputed })
      .click();
    await dialog.getByRole('button', { name: 'Hand over for collection' }).click();
    const refused = dialog.locator('[data-problem-code="conflict"]');
    await refused.waitFor();
    await expect(refused.innerText()).resolves.toContain('This invoice cannot be handed over for collection');
    await expect(refused.innerText()).resolves.toContain('settle the dispute first');
    await look(browser, page, 'billing-dunning-3-refused');
    await dialog.getByRole('button', { name: 'Close' }).click();

    const { rows: collected } = await runAsOwner<{ invoice_number: string }>(
      database.ownerUrl,
      `SELECT i.invoice_number FROM invoice_collections c
         JOIN invoices i ON i.tenant_id = c.tenant_id AND i.invoice_id = c.invoice_id
        WHERE c.tenant_id = $1 ORDER BY i.invoice_number`,
      [voiceking.tenantId],
    );
    expect(collected.map((row) => row.invoice_number)).toEqual([numbers.reminded]);

    // The accountant's CSV of July: both invoices issued on 1 July are in it.
    await page.getByRole('tab', { name: 'Bookkeeping' }).click();
    // Two purposes of billing cover the books: the export waits for one to be chosen (decision 1280).
    await expect(page.getByRole('button', { name: 'Download the CSV' }).isDisabled()).resolves.toBe(true);
    await choosePurpose(page, 'accounting');
    await page.getByLabel(/^From/).fill('2026-07-01');
    await page.getByLabel(/^Up to and including/).fill('2026-07-31');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download the CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('accounting-2026-07-01-2026-07-31.csv');
    const csv = await readFile((await download.path()) ?? '', 'utf8');
    const lines = csv.trim().split(/\r?\n/);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.filter((line) => line.includes(numbers.reminded)).length).toBeGreaterThanOrEqual(1);
    expect(lines.filter((line) => line.includes(numbers.disputed)).length).toBeGreaterThanOrEqual(1);
    await page.getByTestId('export-done').waitFor();
    await look(browser, page, 'billing-dunning-4-export');

    // The reminder schedule in the billing settings.
    await page.getByRole('tab', { name: 'Settings' }).click();
    const first = page.getByLabel(/^First reminder/);
    await first.waitFor();
    await expect(first.inputValue()).resolves.toBe('14');
    await first.fill('10');
    await page.getByLabel(/^Second reminder/).fill('20');
    await page.getByLabel(/^Formal notice/).fill('35');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('The billing settings were saved').waitFor();
    await look(browser, page, 'billing-dunning-5-settings');
    const { rows: schedule } = await runAsOwner<{ days: string }>(
      database.ownerUrl,
      `SELECT concat_ws('/', reminders_enabled, first_reminder_days, second_reminder_days, formal_notice_days) AS days
         FROM billing_settings WHERE tenant_id = $1`,
      [voiceking.tenantId],
    );
    expect(schedule).toEqual([{ days: 't/10/20/35' }]);
    expectNoPageProblems(env, page);
  }, 240_000);
});
