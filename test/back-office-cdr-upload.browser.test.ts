/**
 * Issue #20, call-record imports from the browser (decision 0360): a billing clerk uploads a
 * switch's file with some bad lines, follows the import from waiting to finished, downloads the
 * rejected lines and reads them, and finds the month's unrated calls of every customer. The
 * database holds each call once afterwards. Each screen passes axe-core and is saved under
 * test-results/screenshots/back-office-cdr-upload/.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCdrUploads } from '../src/jobs/cdr-upload.job.js';
import type { Kernel } from '../src/kernel/kernel.js';
import { createCustomer, SYSTEM } from '../src/modules/billing/billing.test-helpers.js';
import { assignNumber, importTariff } from '../src/modules/telephony/index.js';
import { answeredCall } from '../src/modules/telephony/telephony.test-helpers.js';
import type { Tenant } from '../src/modules/tenants/index.js';
import type { BrowserSuite } from './browser.js';
import { runAsOwner, testLogger, type TestDatabase } from './database.js';
import { createPolicyTenant } from './kernel.js';
import {
  closeBackOffice,
  expectNoPageProblems,
  goTo,
  look,
  staffSignedIn,
  startBackOffice,
  type BackOffice,
} from './staff-browser.js';
import { sinceBrusselsMonthBegan } from './brussels-time.js';

let env: BackOffice;
let database: TestDatabase;
let kernel: Kernel;
let browser: BrowserSuite;
let voiceking: Tenant;
let spoolDir: string;
/** The import job waits for this, so the test sees the upload waiting before it runs. */
let releaseJob: () => void = () => undefined;
let jobDone: Promise<void> = Promise.resolve();

beforeAll(async () => {
  spoolDir = await mkdtemp(path.join(os.tmpdir(), 'kluis-cdr-spool-'));
  const released = new Promise<void>((resolve) => {
    releaseJob = resolve;
  });
  env = await startBackOffice('back-office-cdr-upload', {
    app: (appKernel) => ({
      cdrUploads: {
        spoolDir,
        maxBytes: 10 * 1024 * 1024,
        // What the queue does when woken: one pass of the job, here once the test lets it.
        wake: () => {
          jobDone = released.then(() =>
            runCdrUploads(
              {
                kernel: appKernel,
                connection: { connectionString: env.database.ownerUrl, assumeAppRole: true },
                spoolDir,
                batchSize: 5,
              },
              testLogger,
            ),
          );
          return Promise.resolve();
        },
      },
    }),
  });
  ({ database, kernel, browser } = env);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
});
afterAll(async () => {
  releaseJob();
  await jobDone.catch(() => undefined);
  await closeBackOffice(env);
});

/** Wall-clock time in Brussels as the switch writes it (YYYY-MM-DD HH:MM:SS). */
function brusselsWallClock(at: Date): string {
  return new Intl.DateTimeFormat('sv-SE', {
    timeZone: 'Europe/Brussels',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(at);
}

describe('call-record imports from the browser (issue #20)', () => {
  it('billing uploads a file with bad lines, follows it to the end, downloads the rejected lines and finds the unrated calls', async () => {
    const customer = await createCustomer(kernel, voiceking, { familyName: 'Wouters', givenName: 'Els' });
    await assignNumber(
      kernel,
      { tenantId: voiceking.tenantId, actor: SYSTEM, purpose: 'order_processing' },
      { number: '050 12 34 56', subjectId: customer, from: new Date('2026-01-01T00:00:00+01:00') },
    );
    await importTariff(
      kernel,
      voiceking.tenantId,
      'prefix,price_per_minute,minimum_seconds,increment_seconds,connection_fee,valid_from,valid_to\n32,0.06,60,60,0,2020-01-01,',
    );
    // Three hours ago, or, when this month began less than three hours ago in Brussels, the last
    // forty minutes of the month before: the calls' half hour never straddles two months.
    const since = sinceBrusselsMonthBegan();
    const base = since < 3 * 3_600_000 ? Date.now() - since - 40 * 60_000 : Date.now() - 3 * 3_600_000;
    const lines = Array.from({ length: 30 }, (_, index) =>
      answeredCall(
        `1764400000.${index}`,
        '050123456',
        // Two calls to London: no rate in the tariff, so unrated.
        index === 7 || index === 21 ? '00442079460000' : '022345678',
        brusselsWallClock(new Date(base + index * 60_000)),
        60,
      ),
    );
    // Three bad lines: a stranger's call, a time that cannot be read, a cut-off line.
    lines.splice(
      4,
      0,
      answeredCall('1764400000.90', '050999999', '022345678', brusselsWallClock(new Date(base)), 60),
    );
    lines.splice(11, 0, lines[10]?.replace(/"\d{4}-\d{2}-\d{2} (\d{2}:\d{2}:\d{2})"/, '"gisteren $1"') ?? '');
    lines.splice(20, 0, '"","050123456","022345678","from-internal"');
    const folder = await mkdtemp(path.join(os.tmpdir(), 'kluis-cdr-upload-'));
    const file = path.join(folder, 'Master.csv');
    await writeFile(file, `${lines.join('\n')}\n`);
    const month = brusselsWallClock(new Date(base)).slice(0, 7);

    const { page } = await staffSignedIn(env, voiceking, 'billing');
    await goTo(page, 'Telephony');
    await page.getByRole('heading', { name: 'Telephony', level: 1 }).waitFor();
    await page.getByRole('tab', { name: 'Call-record imports' }).click();
    await page.locator('input[type="file"]').setInputFiles(file);
    await page.getByRole('button', { name: 'Upload and import' }).click();
    const progress = page.getByTestId('upload-progress');
    await expect.poll(() => progress.getAttribute('data-status')).toBe('queued');
    await progress.getByText('waiting for the import job').first().waitFor();
    await look(browser, page, 'cdr-1-upload-waiting');

    releaseJob();
    await expect.poll(() => progress.getAttribute('data-status'), { timeout: 60_000 }).toBe('finished');
    await jobDone;
    await expect(page.getByTestId('upload-counts').innerText()).resolves.toBe(
      '33 lines read: 30 imported, 3 rejected, 0 already on file',
    );
    await progress.getByText('1 × no customer held the line then').waitFor();
    const row = page.locator('[data-testid^="import-"]').filter({ hasText: 'Master.csv' });
    await row.getByText('finished').waitFor();
    await look(browser, page, 'cdr-2-upload-finished');

    // The rejected lines, under the purpose that covers call records: line, reason, the line itself.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row.getByRole('button', { name: 'Download the rejected lines of Master.csv' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^import-\d+-rejects\.csv$/);
    const rejects = parse(await readFile(await download.path(), 'utf8'), {});
    expect(rejects).toEqual([
      ['line', 'reason', 'content'],
      ['5', 'not_attributed', lines[4]],
      ['12', 'invalid_timestamp', lines[11]],
      ['21', 'wrong_column_count', lines[20]],
    ]);
    const stored = await runAsOwner<{ n: number; keys: number }>(
      database.ownerUrl,
      'SELECT count(*)::int AS n, count(DISTINCT dedup_key)::int AS keys FROM call_records WHERE tenant_id = $1',
      [voiceking.tenantId],
    );
    expect(stored.rows).toEqual([{ n: 30, keys: 30 }]);
    // The month's unrated calls of every customer, with the reason.
    await page.getByRole('tab', { name: 'Unrated calls' }).click();
    await page.getByLabel('Month').fill(month);
    await page.getByRole('button', { name: 'Show' }).click();
    await expect(page.getByTestId('unrated-total').innerText()).resolves.toBe('2 unrated calls this month');
    await page.getByRole('cell', { name: 'no rate for this destination' }).first().waitFor();
    await look(browser, page, 'cdr-3-unrated-calls');
    // The same screen in Dutch.
    await page.getByText('NL', { exact: true }).click();
    await page.getByRole('heading', { name: 'Telefonie', level: 1 }).waitFor();
    await expect(page.getByTestId('unrated-total').innerText()).resolves.toBe(
      '2 niet getarifeerde gesprekken deze maand',
    );
    await page.getByRole('cell', { name: 'geen tarief voor deze bestemming' }).first().waitFor();
    await look(browser, page, 'cdr-4-unrated-nl');
    await page.getByRole('tab', { name: 'Imports van gespreksgegevens' }).click();
    await page
      .locator('[data-testid^="import-"]')
      .filter({ hasText: 'Master.csv' })
      .getByText('klaar')
      .waitFor();
    await look(browser, page, 'cdr-5-imports-nl');
    expectNoPageProblems(env, page);
  }, 240_000);
});
