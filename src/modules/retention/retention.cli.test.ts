import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/cli.js';
import { openCliWorkspace, type CliWorkspace } from '../../../test/cli-workspace.js';
import { runAsOwner, type TestDatabase } from '../../../test/database.js';
import { dumpWholeDatabase } from '../../../test/dump.js';
import { createTestApp, loginAs, requestAs } from '../../../test/http.js';
import { followLink, pastDownloadGrace } from '../../../test/link-button.js';
import { startSmtpSink, type SmtpSink } from '../../../test/smtp.js';
import { unzip } from '../../../test/zip.js';
import { AccessReportSchema } from '../../kernel/access-report/index.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import { billingContext, prepareTenant, SYSTEM, startContract } from '../billing/billing.test-helpers.js';
import { runInvoices } from '../billing/index.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';
import { addDays, addYears, belgianDay } from './dates.js';
import { CERTIFICATE_ACTION, type RetentionPlan } from './index.js';
import { customerUnderContract, retentionPlanOf } from './retention.test-helpers.js';

let workspace: CliWorkspace;
let database: TestDatabase;
let kernel: Kernel;
let env: Record<string, string>;
// Data is written "in the past" on an injected clock; the CLI children sweep on the real day.
const clock = fixedClock(new Date());
const today = belgianDay(new Date());

beforeAll(async () => {
  workspace = await openCliWorkspace('kluis-retention-cli-');
  ({ database, env } = workspace);
  kernel = createTestKernel(database, clock, workspace.masterKey);
});
afterAll(async () => workspace.close());

/** Noon in Belgium (10:00 UTC) on a day, for the injected clock. */
function on(day: string): void {
  clock.set(new Date(`${day}T10:00:00Z`));
}

async function prospect(
  tenant: Tenant,
  familyName: string,
  purpose = 'answering_questions',
): Promise<number> {
  const created = await createPerson(
    kernel,
    { tenantId: tenant.tenantId, actor: SYSTEM, purpose },
    {
      subjectType: 'prospect',
      familyName,
      givenName: 'Mieke',
      email: `${familyName.toLowerCase()}@mail.example`,
    },
  );
  return created.subjectId;
}

async function certificates(tenant: Tenant): Promise<Array<{ pseudonym: string; reason: string }>> {
  const rows = await runAsOwner<{ pseudonym: string; reason: string }>(
    database.ownerUrl,
    `select subject_pseudonyms[1] as pseudonym, reason from audit_log where tenant_id = $1 and action = $2 order by seq`,
    [tenant.tenantId, CERTIFICATE_ACTION],
  );
  return rows.rows;
}

describe('kluis retention plan / run (issue 16)', () => {
  it('VK-13: after three years of inactivity the dry run lists the prospects (by pseudonym), a sweep killed (SIGKILL) after 3 people is finished by the next run, each person erased and certified once, as planned; the day-before prospect stays; a database dump holds none of the swept values', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    // Last activity three years and a day ago: today is the first day they are gone.
    on(addDays(addYears(today, -3), -1));
    const swept: number[] = [];
    for (let i = 1; i <= 6; i += 1) swept.push(await prospect(tenant, `Vergeetmij${i}x`));
    // Three years ago exactly: today is their last day.
    on(addYears(today, -3));
    const kept = await prospect(tenant, 'Blijftnog');
    const pseudonyms = await Promise.all(swept.map((id) => kernel.keys.pseudonym(tenant.tenantId, id)));

    const plan = await retentionPlanOf(env, tenant);
    expect(plan.asOf).toBe(today);
    expect(plan.people.map((person) => person.pseudonym).sort()).toEqual([...pseudonyms].sort());
    for (const person of plan.people) {
      expect(person).toMatchObject({ subjectType: 'prospect', scope: 'person', held: false });
      expect(person.categories).toContainEqual({
        category: 'user.name',
        rule: 'inactivity_3y',
        purpose: 'answering_questions',
        dueOn: today,
      });
    }
    const text = await runCli(['retention', 'plan', '--tenant', tenant.slug], env);
    expect(text.stdout).toContain(`retention plan for ${today}: 6 people`);
    expect(text.stdout).not.toMatch(/Vergeetmij|Mieke|mail\.example/);

    // Batches of three: killed after the first batch committed.
    const killed = await runCli(['retention', 'run', '--tenant', tenant.slug, '--batch', '3'], {
      ...env,
      KLUIS_TEST_HOOK: 'retention.after-person-3:kill',
    });
    expect(killed.code).toBeNull();
    expect(await certificates(tenant)).toHaveLength(3);

    const rerun = await runCli(['retention', 'run', '--tenant', tenant.slug], env);
    expect(rerun.stderr).toBe('');
    expect(rerun.stdout).toMatch(/3 people erased, 0 partly erased, 0 held, 0 refused/);
    const issued = await certificates(tenant);
    expect(issued.map((entry) => entry.pseudonym).sort()).toEqual([...pseudonyms].sort());
    for (const entry of issued) {
      expect(entry.reason).toMatch(
        /^rule inactivity_3y \(inactivity\); scope person; erased people 1.*key shredded/,
      );
    }

    const again = await runCli(['retention', 'run', '--tenant', tenant.slug], env);
    expect(again.stdout).toMatch(/0 people erased, 0 partly erased/);
    expect(await certificates(tenant)).toHaveLength(6);

    const state = await runAsOwner<{ subject_id: number; erased: boolean }>(
      database.ownerUrl,
      'select subject_id, erased_at is not null as erased from data_subjects where tenant_id = $1 order by subject_id',
      [tenant.tenantId],
    );
    expect(state.rows).toEqual([
      ...swept.map((id) => ({ subject_id: id, erased: true })),
      { subject_id: kept, erased: false },
    ]);
    const dump = await dumpWholeDatabase(database.ownerUrl);
    for (let i = 1; i <= 6; i += 1) expect(dump).not.toContain(`Vergeetmij${i}x`);
    expect(dump).toContain('Blijftnog');
    const keys = await runAsOwner<{ live: number }>(
      database.keystoreOwnerUrl,
      `select count(*)::int as live from data_keys where tenant_id = $1 and owner_kind = 'subject'
          and owner_ref = any($2::text[]) and wrapped is not null`,
      [tenant.tenantId, swept.map(String)],
    );
    expect(keys.rows[0]?.live).toBe(0);
  });

  it('VK-13: a batched sweep killed (SIGKILL) inside a batch loses it whole, killed after a batch committed leaves only key destructions pending; the reruns erase and certify each person exactly once, keys destroyed and journalled', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    on(addDays(addYears(today, -3), -1));
    const swept: number[] = [];
    for (let i = 1; i <= 7; i += 1) swept.push(await prospect(tenant, `Batchwis${i}x`));
    const pseudonyms = await Promise.all(swept.map((id) => kernel.keys.pseudonym(tenant.tenantId, id)));
    const erased = async (): Promise<number> =>
      (
        await runAsOwner<{ n: number }>(
          database.ownerUrl,
          'select count(*)::int as n from data_subjects where tenant_id = $1 and erased_at is not null',
          [tenant.tenantId],
        )
      ).rows[0]?.n ?? -1;
    const liveKeys = async (): Promise<number> =>
      (
        await runAsOwner<{ n: number }>(
          database.keystoreOwnerUrl,
          `select count(*)::int as n from data_keys where tenant_id = $1 and owner_kind = 'subject'
              and owner_ref = any($2::text[]) and wrapped is not null`,
          [tenant.tenantId, swept.map(String)],
        )
      ).rows[0]?.n ?? -1;
    const run = (hook?: string) =>
      runCli(['retention', 'run', '--tenant', tenant.slug, '--batch', '4'], {
        ...env,
        ...(hook ? { KLUIS_TEST_HOOK: `${hook}:kill` } : {}),
      });

    // Inside the first batch's transaction, all of it written: nothing commits.
    expect((await run('erasure.batch-written')).code).toBeNull();
    expect(await erased()).toBe(0);
    expect(await certificates(tenant)).toHaveLength(0);
    expect(await liveKeys()).toBe(7);

    // After the first batch (4 people) committed, before the key store: erased and certified,
    // their keys' destruction recorded and pending.
    expect((await run('erasure.batch-committed')).code).toBeNull();
    expect(await erased()).toBe(4);
    expect(await certificates(tenant)).toHaveLength(4);
    expect(await liveKeys()).toBe(7);
    const pending = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      `select count(*)::int as n from subject_key_destructions where tenant_id = $1 and key_scope = 'subject' and destroyed_at is null`,
      [tenant.tenantId],
    );
    expect(pending.rows[0]?.n).toBe(4);

    const rerun = await run();
    expect(rerun.stderr).toBe('');
    expect(rerun.stdout).toMatch(/3 people erased, 0 partly erased, 0 held, 0 refused/);
    expect(await erased()).toBe(7);
    const issued = await certificates(tenant);
    expect(issued.map((entry) => entry.pseudonym).sort()).toEqual([...pseudonyms].sort());
    expect(await liveKeys()).toBe(0);
    // One key.destroy per subject (in batch entries), none twice.
    const shredded = await runAsOwner<{ pseudonym: string }>(
      database.ownerUrl,
      `select unnest(subject_pseudonyms) as pseudonym from audit_log
        where tenant_id = $1 and action = 'key.destroy' and reason = 'crypto_shredded'`,
      [tenant.tenantId],
    );
    expect(shredded.rows.map((row) => row.pseudonym).sort()).toEqual([...pseudonyms].sort());
    const journal = await runAsOwner<{ n: number }>(
      database.keystoreOwnerUrl,
      'select count(*)::int as n from erasure_journal where tenant_id = $1 and subject_id = any($2::bigint[])',
      [tenant.tenantId, swept],
    );
    expect(journal.rows[0]?.n).toBe(7);
    const dump = await dumpWholeDatabase(database.ownerUrl);
    for (let i = 1; i <= 7; i += 1) expect(dump).not.toContain(`Batchwis${i}x`);
  });

  it('VK-14: after the contract, data stays the legal period (3 years) and then goes; the plan says which rule and that the data is returned on request until then, `--until` shows what goes by a later day; a bad date is refused', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    on(addYears(today, -6));
    const catalogue = await prepareTenant(kernel, tenant);
    const customer = async (familyName: string, endDate: string): Promise<number> => {
      const id = (
        await createPerson(
          kernel,
          { tenantId: tenant.tenantId, actor: SYSTEM, purpose: 'order_processing' },
          { subjectType: 'customer', familyName, givenName: 'Wim' },
        )
      ).subjectId;
      await startContract(kernel, tenant, id, {
        startDate: addYears(today, -6),
        endDate,
        lines: [{ productId: catalogue.subscription }],
      });
      return id;
    };
    // Last contract day three years and a day ago: gone today; three years ago exactly: kept.
    const gone = await customer('Afgelopen', addDays(addYears(today, -3), -1));
    const stays = await customer('Nogeven', addYears(today, -3));
    const [gonePseudonym, staysPseudonym] = await Promise.all(
      [gone, stays].map((id) => kernel.keys.pseudonym(tenant.tenantId, id)),
    );

    const plan = await retentionPlanOf(env, tenant);
    expect(plan.people.map((person) => person.pseudonym)).toEqual([gonePseudonym]);
    expect(plan.people[0]?.categories).toContainEqual({
      category: 'kluis.contract.product',
      rule: 'contract_then_3y',
      purpose: 'order_processing',
      dueOn: today,
    });
    expect(plan.people[0]).toMatchObject({ returnOnRequest: true });
    const tomorrow = await retentionPlanOf(env, tenant, ['--until', addDays(today, 1)]);
    expect(tomorrow.people.map((person) => person.pseudonym).sort()).toEqual(
      [gonePseudonym, staysPseudonym].sort(),
    );
    const bad = await runCli(['retention', 'plan', '--tenant', tenant.slug, '--until', '2026-02-30'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--until: expected YYYY-MM-DD');

    const run = await runCli(['retention', 'run', '--tenant', tenant.slug], env);
    expect(run.stdout).toMatch(/1 people erased/);
    const rows = await runAsOwner<{ subject_id: number; contracts: number; people: number }>(
      database.ownerUrl,
      `select s.subject_id,
              (select count(*)::int from contracts c where c.tenant_id = s.tenant_id and c.subject_id = s.subject_id) as contracts,
              (select count(*)::int from people p where p.tenant_id = s.tenant_id and p.subject_id = s.subject_id) as people
         from data_subjects s where s.tenant_id = $1 order by s.subject_id`,
      [tenant.tenantId],
    );
    expect(rows.rows).toEqual([
      { subject_id: gone, contracts: 0, people: 0 },
      { subject_id: stays, contracts: 1, people: 1 },
    ]);
    expect((await certificates(tenant)).map((entry) => entry.pseudonym)).toEqual([gonePseudonym]);
  });

  it('VX-8: a swept Voxtra customer goes but the invoice naming them stays under the accounting hold: the plan says until when, the certificate says what was kept', async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const start = addYears(today, -4);
    on(start);
    const catalogue = await prepareTenant(kernel, tenant);
    const id = (
      await createPerson(
        kernel,
        { tenantId: tenant.tenantId, actor: SYSTEM, purpose: 'customer_administration' },
        {
          subjectType: 'customer',
          familyName: 'Boekhouding',
          givenName: 'Els',
          address: { street: 'Markt 1', postalCode: '3000', city: 'Leuven', country: 'BE' },
        },
      )
    ).subjectId;
    const period = start.slice(0, 7);
    await startContract(kernel, tenant, id, {
      startDate: `${period}-01`,
      endDate: addDays(`${addDays(`${period}-01`, 40).slice(0, 7)}-01`, -1),
      lines: [{ productId: catalogue.subscription }],
    });
    on(addDays(`${period}-01`, 35));
    const invoiced = await runInvoices(kernel, billingContext(tenant), {
      period,
      callsPurpose: 'call_billing',
    });
    expect(invoiced.invoiced).toBe(1);
    const pseudonym = await kernel.keys.pseudonym(tenant.tenantId, id);

    const plan = await retentionPlanOf(env, tenant);
    const entry = plan.people.find((person) => person.pseudonym === pseudonym);
    expect(entry).toMatchObject({
      scope: 'person',
      holds: [
        {
          kind: 'accounting',
          legalHold: 'accounting',
          invoices: 1,
          // 1 January after the document date, plus the 10 years of accounting_10y.
          until: `${Number(addDays(`${period}-01`, 35).slice(0, 4)) + 11}-01-01`,
        },
      ],
    });
    const run = await runCli(['retention', 'run', '--tenant', tenant.slug], env);
    expect(run.stdout).toMatch(/1 people erased/);
    const [certificate] = (await certificates(tenant)).filter((row) => row.pseudonym === pseudonym);
    expect(certificate?.reason).toMatch(
      /rule customer_file \(after_contract_end\); scope person; .*invoices 1 kept \(accounting\)/,
    );
    const invoice = await runAsOwner<{ subject_id: number | null; buyer_name: string | null }>(
      database.ownerUrl,
      'select subject_id, buyer_name from invoices where tenant_id = $1',
      [tenant.tenantId],
    );
    expect(invoice.rows).toEqual([{ subject_id: id, buyer_name: 'Els Boekhouding' }]);
  });
});

describe('GET /api/v1/retention/plan and legal holds over HTTP (issue 16)', () => {
  let app: FastifyInstance;
  let tenant: Tenant;
  beforeAll(async () => {
    tenant = await createPolicyTenant(kernel, 'voiceking');
    clock.set(new Date());
    app = await createTestApp(kernel);
  });
  afterAll(async () => app.close());

  it("VK-14: a privacy officer's legal hold (reason, end date) keeps a due person out of the sweep, shows in the plan and on the person; sales may not see the plan", async () => {
    on(addDays(addYears(today, -3), -10));
    const held = await prospect(tenant, 'Rechtszaak');
    clock.set(new Date());
    const officer = await loginAs(app, kernel, tenant, 'privacy_officer');
    const headers = { cookie: officer.cookie, 'x-csrf-token': officer.csrfToken };
    const placed = await app.inject({
      method: 'POST',
      url: '/api/v1/retention/holds',
      headers,
      payload: { subjectId: held, reason: 'Claim before the labour court', endsOn: addYears(today, 1) },
    });
    expect(placed.statusCode).toBe(201);
    expect(placed.json()).toMatchObject({ subjectId: held, active: true, endsOn: addYears(today, 1) });

    const plan = await app.inject({ method: 'GET', url: '/api/v1/retention/plan', headers });
    expect(plan.statusCode).toBe(200);
    const body = plan.json<RetentionPlan>();
    const pseudonym = await kernel.keys.pseudonym(tenant.tenantId, held);
    expect(body.people).toEqual([
      expect.objectContaining({
        pseudonym,
        scope: 'person',
        held: true,
        holds: [expect.objectContaining({ kind: 'legal_hold', reason: 'Claim before the labour court' })],
      }),
    ]);
    expect(plan.body).not.toContain('Rechtszaak');

    const run = await runCli(['retention', 'run', '--tenant', tenant.slug], env);
    expect(run.stdout).toMatch(/0 people erased, 0 partly erased, 1 held/);
    const person = await runAsOwner(
      database.ownerUrl,
      'select 1 from people where tenant_id = $1 and subject_id = $2',
      [tenant.tenantId, held],
    );
    expect(person.rows).toHaveLength(1);

    const listed = await app.inject({
      method: 'GET',
      url: `/api/v1/retention/holds?subjectId=${held}`,
      headers,
    });
    expect(listed.json<{ items: unknown[] }>().items).toEqual([
      expect.objectContaining({ reason: 'Claim before the labour court', active: true }),
    ]);
    const sales = await loginAs(app, kernel, tenant, 'sales');
    const refused = await app.inject({
      method: 'GET',
      url: '/api/v1/retention/plan',
      headers: { cookie: sales.cookie },
    });
    expect(refused.statusCode).toBe(403);
    const badDay = await app.inject({
      method: 'GET',
      url: '/api/v1/retention/plan?until=2020-13-01',
      headers,
    });
    expect(badDay.statusCode).toBe(400);
  });
});

describe('an access or portability request holds the sweep until it is delivered (VK-14, decision 0970)', () => {
  let app: FastifyInstance;
  let smtp: SmtpSink;
  const publicUrl = 'https://privacy.voiceking.example';
  beforeAll(async () => {
    smtp = await startSmtpSink();
    app = await createTestApp(kernel, { mailer: smtp.mailer, publicUrl });
  });
  afterAll(async () => {
    await app.close();
    await smtp.close();
  });

  it('VK-14: a customer whose contract data is due but who asked for their data keeps it through a sweep killed (SIGKILL) half-way and its rerun, while others go once each; a request left open past its due date holds nothing; answered by a link, the data stays until the download, which holds it, and the next sweep erases it', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    on(addYears(today, -6));
    const catalogue = await prepareTenant(kernel, tenant);
    // Four prospects due by inactivity: erased whole, in batches of two.
    on(addDays(addYears(today, -3), -1));
    const prospects: number[] = [];
    for (let i = 1; i <= 4; i += 1) prospects.push(await prospect(tenant, `Weg${i}x`));
    on(addYears(today, -6));
    // The last contract day three years and a day ago: its data is due today.
    const customer = (familyName: string): Promise<number> =>
      customerUnderContract(
        kernel,
        tenant,
        { familyName, purpose: 'order_processing' },
        {
          productId: catalogue.subscription,
          startDate: addYears(today, -6),
          endDate: addDays(addYears(today, -3), -1),
        },
      );
    const asked = await customer('Gevraagd');
    const late = await customer('Telaat');
    clock.set(new Date());
    const officer = await loginAs(app, kernel, tenant, 'privacy_officer');
    const staff = requestAs(app, officer);
    const register = async (subjectId: number): Promise<string> => {
      const registered = await staff('POST', '/api/v1/requests', {
        kind: 'access',
        channel: 'email',
        subjectId,
        verificationMethod: 'reply_from_address_on_file',
      });
      expect(registered.statusCode).toBe(201);
      return registered.json<{ requestId: string }>().requestId;
    };
    const askedRequest = await register(asked);
    await register(late);
    // Received 40 days ago and never answered: its due date has passed, so it holds nothing.
    await runAsOwner(
      database.ownerUrl,
      `update rights_requests set received_at = received_at - interval '40 days', due_on = due_on - 40
        where tenant_id = $1 and subject_id = $2`,
      [tenant.tenantId, late],
    );
    const dueOn = (
      await runAsOwner<{ due_on: string }>(
        database.ownerUrl,
        'select due_on::text from rights_requests where tenant_id = $1 and request_id = $2',
        [tenant.tenantId, askedRequest],
      )
    ).rows[0]?.due_on;
    const contractsOf = async (subjectId: number): Promise<number> =>
      (
        await runAsOwner<{ n: number }>(
          database.ownerUrl,
          'select count(*)::int as n from contracts where tenant_id = $1 and subject_id = $2',
          [tenant.tenantId, subjectId],
        )
      ).rows[0]?.n ?? -1;
    const [askedPseudonym, latePseudonym] = await Promise.all(
      [asked, late].map((id) => kernel.keys.pseudonym(tenant.tenantId, id)),
    );

    const plan = await retentionPlanOf(env, tenant);
    const askedEntry = plan.people.find((person) => person.pseudonym === askedPseudonym);
    expect(askedEntry).toMatchObject({ held: true, returnOnRequest: true });
    expect(askedEntry?.categories.map((item) => item.category)).toContain('kluis.contract.product');
    expect(askedEntry?.holds).toContainEqual({
      kind: 'rights_request',
      request: 'access',
      stage: 'open',
      receivedOn: today,
      until: dueOn,
    });
    expect(plan.people.find((person) => person.pseudonym === latePseudonym)).toMatchObject({ held: false });
    const text = await runCli(['retention', 'plan', '--tenant', tenant.slug], env);
    expect(text.stdout).toContain(`held: access request of ${today} open, until ${dueOn}`);

    const killed = await runCli(['retention', 'run', '--tenant', tenant.slug, '--batch', '2'], {
      ...env,
      KLUIS_TEST_HOOK: 'retention.after-person-2:kill',
    });
    expect(killed.code).toBeNull();
    expect(await certificates(tenant)).toHaveLength(2);
    const rerun = await runCli(['retention', 'run', '--tenant', tenant.slug, '--batch', '2'], env);
    expect(rerun.stderr).toBe('');
    expect(rerun.stdout).toMatch(/2 people erased, 1 partly erased, 1 held, 0 refused/);
    expect(rerun.stdout).toMatch(/1 held for an access or portability request/);
    const prospectPseudonyms = await Promise.all(
      prospects.map((id) => kernel.keys.pseudonym(tenant.tenantId, id)),
    );
    expect((await certificates(tenant)).map((entry) => entry.pseudonym).sort()).toEqual(
      [...prospectPseudonyms, latePseudonym].sort(),
    );
    expect(await contractsOf(asked)).toBe(1);
    expect(await contractsOf(late)).toBe(0);

    // Answered by a link: the data stays until it is downloaded.
    const fulfilled = await staff('POST', `/api/v1/requests/${askedRequest}/fulfil`, {});
    expect(fulfilled.statusCode).toBe(200);
    const held = await runCli(['retention', 'run', '--tenant', tenant.slug], env);
    expect(held.stdout).toMatch(
      /0 people erased, 0 partly erased, 1 held, .*1 held for an access or portability request/,
    );
    const answered = (await retentionPlanOf(env, tenant)).people.find(
      (person) => person.pseudonym === askedPseudonym,
    );
    expect(answered?.holds).toContainEqual(
      expect.objectContaining({ kind: 'rights_request', stage: 'download' }),
    );
    expect(await contractsOf(asked)).toBe(1);

    const mail = await smtp.waitFor('gevraagd@mail.example', 1);
    const link = /(https:\/\/privacy\.voiceking\.example\S+)/.exec(mail.text ?? '')?.[1] ?? '';
    const download = await followLink(app, link.replace(publicUrl, ''));
    expect(download.statusCode).toBe(200);
    const files = await unzip(download.rawPayload);
    const report = AccessReportSchema.parse(JSON.parse(files.get('access-report.json') ?? '{}'));
    // The data that was due is in what the person received.
    expect(report.categories.map((category) => category.key)).toContain('kluis.contract.product');
    expect(report.data.find((table) => table.table === 'contracts')?.rows).toHaveLength(1);
    await pastDownloadGrace(database.ownerUrl, tenant.tenantId);

    const after = await runCli(['retention', 'run', '--tenant', tenant.slug], env);
    expect(after.stdout).toMatch(
      /0 people erased, 1 partly erased, 0 held, .*0 held for an access or portability request/,
    );
    expect(await contractsOf(asked)).toBe(0);
    const issued = await certificates(tenant);
    expect(issued.filter((entry) => entry.pseudonym === askedPseudonym)).toHaveLength(1);
    expect(issued).toHaveLength(6);
  });
});
