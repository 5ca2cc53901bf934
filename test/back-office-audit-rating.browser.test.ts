/**
 * Issue #20, the screens over the read APIs of decisions 0330-0331, in a real Chromium: the privacy
 * officer sees who looked at a person and why (and that look is audited), reads the disclosure log
 * under Privacy → Recipients and verifies the audit
 * log; billing finds the failed call-record imports from the start page and makes a rating plan the
 * default (a bad definition refused in words first). The database is checked afterwards; each
 * screen passes axe-core and is saved under test-results/screenshots/back-office-audit-rating/.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kernel } from '../src/kernel/kernel.js';
import {
  chainForgedWithWaitingNonce,
  holdChainHead,
  runAsAppRole,
} from '../src/kernel/audit/audit.test-helpers.js';
import { encodeCheckpoint, encodeSetBack } from '../src/kernel/audit/audit.canonical.js';
import { keyringOf } from '../src/kernel/kernel.js';
import { createCustomer } from '../src/modules/billing/billing.test-helpers.js';
import { importCdrFile } from '../src/modules/telephony/cdr-import.service.js';
import {
  asteriskLine,
  bulkConnection,
  tempDir,
  writeLines,
} from '../src/modules/telephony/telephony.test-helpers.js';
import type { Tenant } from '../src/modules/tenants/index.js';
import type { BrowserSuite } from './browser.js';
import { runAsOwner, type TestDatabase } from './database.js';
import { loginAs, requestAs } from './http.js';
import { createPolicyTenant, installLaterVoiceKingVersion } from './kernel.js';
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
let app: FastifyInstance;
let browser: BrowserSuite;
let voiceking: Tenant;

beforeAll(async () => {
  env = await startBackOffice('back-office-audit-rating');
  ({ database, kernel, app, browser } = env);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
});
afterAll(() => closeBackOffice(env));

describe('the audit trail, audit verify, imports and rating plans screens (issue #20)', () => {
  it('the privacy officer sees who looked at a person and why, reads the disclosure log and verifies the audit log', async () => {
    const person = await createCustomer(kernel, voiceking, { familyName: 'Verbeke', givenName: 'Lotte' });
    // A salesperson looks her up under order processing, through the API.
    const sales = await loginAs(app, kernel, voiceking, 'sales');
    const looked = await app.inject({
      method: 'GET',
      url: `/api/v1/people/${person}`,
      headers: { cookie: sales.cookie, 'x-kluis-purpose': 'order_processing' },
    });
    expect(looked.statusCode).toBe(200);

    const { page, staffId } = await staffSignedIn(env, voiceking, 'privacy_officer');
    await goTo(page, 'People');
    await choosePurpose(page, 'rights_requests');
    await page.getByLabel(/^Family name begins with/).fill('Verbeke');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'Lotte Verbeke' }).click();
    const trail = page.getByTestId('audit-trail');
    const salesRow = trail.locator('[data-testid^="audit-"]').filter({ hasText: `no. ${sales.staffId}` });
    await salesRow.first().waitFor();
    // Role, purpose and data by the policy's labels, never their keys.
    const row = await salesRow.first().innerText();
    expect(row).not.toContain('order_processing');
    expect(row).not.toContain('user.name');
    expect(row).toMatch(/read/);
    // Where the data came from, in words, not the data map's key.
    const main = await page.getByRole('main').innerText();
    expect(main).toContain('the person themselves');
    expect(main).not.toContain('data_subject');
    await look(browser, page, 'audit-1-person-trail');
    // The officer's own look is on record: by her, under the rights purpose, naming the person.
    const pseudonym = await keyringOf(kernel).pseudonym(voiceking.tenantId, person);
    await expect
      .poll(async () => {
        const reads = await runAsOwner<{ actor_id: string; purpose: string }>(
          database.ownerUrl,
          `SELECT actor_id, purpose FROM audit_log
            WHERE tenant_id = $1 AND action = 'audit.read' AND subject_pseudonyms @> array[$2]::text[]`,
          [voiceking.tenantId, pseudonym],
        );
        return reads.rows;
      })
      .toContainEqual({ actor_id: String(staffId), purpose: 'rights_requests' });

    // The disclosure log under Privacy → Recipients: a file sales sent to the e-mail marketer.
    const sent = await requestAs(app, sales, 'newsletter_customers')(
      'POST',
      '/api/v1/recipients/email_marketing/exports',
      { subjectIds: [person] },
    );
    expect(sent.statusCode, sent.body).toBe(200);
    await goTo(page, 'Privacy registers');
    await page.getByRole('tab', { name: 'Recipients' }).click();
    const log = page.getByTestId('disclosure-log');
    await log.getByRole('textbox', { name: /^To/ }).fill(new Date().toISOString().slice(0, 10));
    await log.getByRole('button', { name: 'Show' }).click();
    const disclosed = log.locator('[data-testid^="disclosure-"]');
    await disclosed.first().waitFor();
    const logged = await runAsOwner<{ disclosure_id: number; subject_count: number }>(
      database.ownerUrl,
      'SELECT disclosure_id::int, subject_count FROM disclosures WHERE tenant_id = $1',
      [voiceking.tenantId],
    );
    expect(logged.rows).toHaveLength(1);
    const shown = await disclosed.first().innerText();
    expect(shown).toContain(`no. ${sales.staffId}`);
    expect(shown).not.toContain('newsletter_customers');
    expect(await disclosed.count()).toBe(1);
    await look(browser, page, 'audit-3-disclosure-log');

    await goTo(page, 'Audit log');
    await page.getByRole('button', { name: 'Verify the audit log now' }).click();
    const verified = page.getByTestId('audit-verified');
    await verified.waitFor();
    expect(await verified.getAttribute('data-ok')).toBe('true');
    const head = await runAsOwner<{ seq: number }>(
      database.ownerUrl,
      'SELECT seq::int AS seq FROM audit_heads WHERE tenant_id = $1',
      [voiceking.tenantId],
    );
    // The count in the screen's language (decision 0839): digits with its thousands separator.
    const counted = /All ([\d.,\u00a0\u202f ]+) entries hold/.exec(await verified.innerText())?.[1] ?? '';
    const entries = Number(counted.replace(/\D/g, ''));
    expect(entries).toBeGreaterThan(0);
    expect(entries).toBeLessThanOrEqual(head.rows[0]?.seq ?? 0);
    await look(browser, page, 'audit-2-verified');
    expectNoPageProblems(env, page);
  }, 180_000);

  it('the audit log screen names copies waiting beside the chain, and a genuine entry a forged chained entry pushed out (decisions 0727, 0760, 0768)', async () => {
    // A read waits in audit_pending behind a held head; the app's login copies it there (S11-1).
    const copied = await createPolicyTenant(kernel, 'voiceking');
    const person = await createCustomer(kernel, copied, { familyName: 'Dubbel' });
    const sales = await loginAs(app, kernel, copied, 'sales');
    const release = await holdChainHead(database.ownerUrl, copied.tenantId);
    let copyId = 0;
    try {
      const read = await requestAs(app, sales, 'order_processing')('GET', `/api/v1/people/${person}`);
      expect(read.statusCode, read.body).toBe(200);
      const columns = `tenant_id, at, actor_kind, actor_id, role, purpose, action, subject_pseudonyms,
        categories, records, decision, reason, request_id, mac, nonce`;
      const copy = await runAsAppRole(database.ownerUrl, copied.tenantId, [
        `insert into audit_pending (${columns})
         select ${columns} from audit_pending where tenant_id = $1 and request_id = $2 returning pending_id`,
        [copied.tenantId, String(read.headers['x-request-id'])],
      ]);
      copyId = Number((copy.rows[0] as { pending_id: string }).pending_id);
    } finally {
      await release();
    }
    const officer = await staffSignedIn(env, copied, 'privacy_officer');
    await goTo(officer.page, 'Audit log');
    await officer.page.getByRole('button', { name: 'Verify the audit log now' }).click();
    const verified = officer.page.getByTestId('audit-verified');
    await verified.waitFor();
    expect(await verified.getAttribute('data-ok')).toBe('true');
    const copies = await officer.page.getByTestId('audit-pending-copies').innerText();
    expect(copies).toContain(`One waiting entry (${copyId}) is a copy of an entry already in the chain`);
    await look(browser, officer.page, 'audit-4-pending-copies');
    expectNoPageProblems(env, officer.page);

    // The app's login chains a forged row carrying a waiting read's nonce (S13-4).
    const squattedTenant = await createPolicyTenant(kernel, 'voiceking');
    const squattedPerson = await createCustomer(kernel, squattedTenant, { familyName: 'Verdrongen' });
    const squattedSales = await loginAs(app, kernel, squattedTenant, 'sales');
    const squatted = await chainForgedWithWaitingNonce(
      database.ownerUrl,
      squattedTenant.tenantId,
      async () => {
        const read = await requestAs(
          app,
          squattedSales,
          'order_processing',
        )('GET', `/api/v1/people/${squattedPerson}`);
        expect(read.statusCode, read.body).toBe(200);
      },
    );
    const admin = await staffSignedIn(env, squattedTenant, 'admin');
    await goTo(admin.page, 'Audit log');
    await admin.page.getByRole('button', { name: 'Verify the audit log now' }).click();
    const broken = admin.page.getByTestId('audit-verified');
    await broken.waitFor();
    expect(await broken.getAttribute('data-ok')).toBe('false');
    expect(await broken.innerText()).toContain(`Entry ${squatted.seq} does not`);
    // The command as code, no raw backticks (attack S16, noticed; decision 0839).
    expect(await broken.innerText()).not.toContain('`');
    expect(await broken.locator('code').innerText()).toBe('kluis audit verify');
    const displaced = await admin.page.getByTestId(`audit-displaced-${squatted.pendingId}`).innerText();
    expect(displaced).toBe(
      `Waiting entry ${squatted.pendingId} is the genuine record; entry ${squatted.seq} in the chain is the forgery.`,
    );
    await look(browser, admin.page, 'audit-5-displaced-entry');
    expectNoPageProblems(env, admin.page);
    // Shown, not touched: the genuine entry is still waiting, never chained.
    const left = await runAsOwner<{ id: string }>(
      database.ownerUrl,
      'select pending_id as id from audit_pending where tenant_id = $1',
      [squattedTenant.tenantId],
    );
    expect(left.rows.map((row) => Number(row.id))).toEqual([squatted.pendingId]);
  }, 180_000);

  it('decision 1270: the audit log screen names a restore that set the chain back, and the checkpoint it left behind is not a break', async () => {
    const restored = await createPolicyTenant(kernel, 'voiceking');
    await createCustomer(kernel, restored, { familyName: 'Teruggezet' });
    await kernel.auditLog.chainPending(restored.tenantId);
    const head = await runAsOwner<{ seq: number; hash: Buffer }>(
      database.ownerUrl,
      'SELECT seq::int AS seq, hash FROM audit_heads WHERE tenant_id = $1',
      [restored.tenantId],
    );
    const seq = head.rows[0]?.seq ?? 0;
    const headHash = head.rows[0]?.hash ?? Buffer.alloc(32);
    const keys = keyringOf(kernel);
    const tenantId = restored.tenantId;
    // As `kluis restore` leaves it: the earlier timeline's checkpoint at seq + 3, then the set-back.
    const signedAt = new Date(Date.now() - 60_000);
    const earlierHash = Buffer.alloc(32, 9);
    const anchorMac = await keys.checkpointMac(
      tenantId,
      encodeCheckpoint({ tenantId, seq: seq + 3, headHash: earlierHash, signedAt }),
    );
    const setAt = new Date(Date.now() - 30_000);
    const setBackMac = await keys.checkpointMac(
      tenantId,
      encodeSetBack({ tenantId, headSeq: seq, headHash, setAt, earlierSeq: seq + 3 }),
    );
    await runAsOwner(
      database.keystoreOwnerUrl,
      'INSERT INTO audit_anchors (tenant_id, seq, head_hash, signed_at, mac) VALUES ($1, $2, $3, $4, $5)',
      [tenantId, seq + 3, earlierHash, signedAt, anchorMac],
    );
    await runAsOwner(
      database.keystoreOwnerUrl,
      'INSERT INTO audit_setbacks (tenant_id, head_seq, head_hash, set_at, earlier_seq, mac) VALUES ($1, $2, $3, $4, $5, $6)',
      [tenantId, seq, headHash, setAt, seq + 3, setBackMac],
    );
    const admin = await staffSignedIn(env, restored, 'admin');
    await goTo(admin.page, 'Audit log');
    await admin.page.getByRole('button', { name: 'Verify the audit log now' }).click();
    const verified = admin.page.getByTestId('audit-verified');
    await verified.waitFor();
    expect(await verified.getAttribute('data-ok')).toBe('true');
    const setBacks = await admin.page.getByTestId('audit-setbacks').innerText();
    expect(setBacks).toContain('Restored from a backup');
    expect(setBacks).toMatch(
      new RegExp(
        `the log was restored to entry ${seq}\\. Entries ${seq + 1} to ${seq + 3} of the chain before it went with the restore`,
      ),
    );
    await look(browser, admin.page, 'audit-6-set-back');
    expectNoPageProblems(env, admin.page);
  }, 180_000);

  it('billing finds the failed imports from the start page and makes a new rating plan the default', async () => {
    const dir = await tempDir();
    const deps = { kernel, connection: bulkConnection(database) };
    const partly = await writeLines(dir, 'oktober.csv', [
      asteriskLine({
        src: '056999999',
        dst: '0470123456',
        start: '2026-10-03 09:00:00',
        answer: '2026-10-03 09:00:04',
        end: '2026-10-03 09:01:04',
        duration: 64,
        billsec: 60,
        uniqueId: '1.1',
        sequence: 1,
      }),
    ]);
    await importCdrFile(deps, { tenantId: voiceking.tenantId, file: partly });
    const wrong = await writeLines(dir, 'export.csv', ['a,b,c,d,e,f,g,h,i,j', '1,2,3,4,5,6,7,8,9,10']);
    await expect(importCdrFile(deps, { tenantId: voiceking.tenantId, file: wrong })).rejects.toThrow();

    const { page } = await staffSignedIn(env, voiceking, 'billing');
    await page.getByTestId('imports-due').getByText('failed imports: 2').waitFor();
    await look(browser, page, 'rating-1-start');
    await goTo(page, 'Call imports and rating');
    await page.getByRole('heading', { name: 'Call imports and rating', level: 1 }).waitFor();
    const imports = page.locator('[data-testid^="import-"]');
    await imports.filter({ hasText: 'export.csv' }).getByText('failed').waitFor();
    await imports
      .filter({ hasText: 'oktober.csv' })
      .getByText('1 × no customer held the line then')
      .waitFor();
    await imports
      .filter({ hasText: 'export.csv' })
      .getByText(/not a call-record layout/)
      .waitFor();
    await look(browser, page, 'rating-2-imports');

    // The sign-in notice would sit under the dialog's overlay (and fail the contrast check there).
    const notices = page.locator('.mantine-Notification-root');
    for (const close of await notices.getByRole('button', { name: 'Close' }).all()) await close.click();
    await notices.first().waitFor({ state: 'detached' });
    await page.getByRole('tab', { name: 'Rating plans' }).click();
    await page.getByRole('button', { name: 'New rating plan' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(/^Code/).fill('AVOND');
    await dialog.getByLabel(/^Name/).fill('Goedkope avonden');
    const definition = dialog.getByLabel(/^Definition/);
    // A time band that ends before it starts: refused in words, nothing made.
    await definition.fill(
      JSON.stringify({ timeBands: [{ band: 'off_peak', days: [1], from: '20:00', to: '08:00' }] }),
    );
    await dialog.getByRole('button', { name: 'Create the plan' }).click();
    const refusal = dialog.locator('[data-problem-code]');
    await refusal.waitFor();
    expect(await refusal.getAttribute('data-problem-code')).toBe('validation_failed');
    await look(browser, page, 'rating-3-plan-refused');
    await definition.fill(
      JSON.stringify({
        timeBands: [{ band: 'off_peak', days: [1, 2, 3, 4, 5], from: '19:00', to: '24:00' }],
        prices: [{ group: '*', band: 'off_peak', pricePerMinute: '0.02' }],
        onNetFree: true,
      }),
    );
    await dialog.getByRole('button', { name: 'Create the plan' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const detail = page.getByTestId('plan-detail');
    await detail.getByText('Not in use yet.').waitFor();
    await detail.getByLabel(/^From/).fill('2026-12-01');
    await detail.getByRole('button', { name: 'Make it the default plan' }).click();
    await detail.getByText('all customers (default)').waitFor();
    await page.getByTestId('plan-AVOND').waitFor();
    await look(browser, page, 'rating-4-plan-default');
    const rows = await runAsOwner<{
      code: string;
      name: string;
      on_net: boolean;
      product: number | null;
      from: string;
    }>(
      database.ownerUrl,
      `SELECT p.code, p.name, (p.definition->>'onNetFree')::boolean AS on_net, a.product_id AS product,
              a.valid_from::text AS from
         FROM rating_plans p JOIN rating_plan_assignments a USING (tenant_id, plan_id)
        WHERE p.tenant_id = $1`,
      [voiceking.tenantId],
    );
    expect(rows.rows).toEqual([
      { code: 'AVOND', name: 'Goedkope avonden', on_net: true, product: null, from: '2026-12-01' },
    ]);

    await page.getByRole('tab', { name: 'Price list' }).click();
    await page.getByText('No price list yet.').or(page.getByRole('table')).first().waitFor();
    expectNoPageProblems(env, page);
  }, 180_000);

  it('an admin finds the policy versions under Administration and opens the statement an earlier version made', async () => {
    await installLaterVoiceKingVersion(kernel, voiceking, 'policies/voiceking-2026.3.yaml');
    const { page } = await staffSignedIn(env, voiceking, 'admin');
    await goTo(page, 'Policy versions');
    const versions = page.locator('[data-testid^="policy-version-"]');
    await expect.poll(() => versions.count()).toBe(2);
    const stored = await runAsOwner<{
      version_no: number;
      statement_version: string;
      effective_date: string;
    }>(
      database.ownerUrl,
      `SELECT version_no, statement_version, effective_date::text FROM tenant_policies
        WHERE tenant_id = $1 ORDER BY version_no DESC`,
      [voiceking.tenantId],
    );
    for (const [index, row] of stored.rows.entries()) {
      const text = await versions.nth(index).innerText();
      expect(text).toContain(row.statement_version);
      // The day as a person reads it in English (dd/mm/yyyy), not the database's ISO form.
      const [year, month, day] = row.effective_date.split('-');
      expect(text).toContain(`${day}/${month}/${year}`);
    }
    // The version installed last is applied at once, but its statement is dated 01/01/2027: not
    // called "in force" before that day (the browser's clock is the real one).
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Brussels' }).format(new Date());
    expect(today < '2027-01-01').toBe(true);
    await expect(versions.first().getByTestId('policy-applied-before-effect').innerText()).resolves.toBe(
      'applied; its statement takes effect on 01/01/2027',
    );
    await expect(page.getByText('in force', { exact: true }).count()).resolves.toBe(0);
    await look(browser, page, 'policy-1-versions');
    const [statement] = await Promise.all([
      page.context().waitForEvent('page'),
      page.getByRole('link', { name: 'English: statement of version 2026.2' }).click(),
    ]);
    await statement.waitForLoadState();
    const body = await statement.locator('body').innerText();
    expect(body).toContain('2026.2');
    expect(body).not.toContain('2026.3');
    await statement.close();
    expectNoPageProblems(env, page);
  }, 180_000);
});
