import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../../test/cli.js';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import { buildAccessReport } from '../../kernel/access-report/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import { setPurposeState } from '../../kernel/subjects/index.js';
import {
  billingContext,
  insertCalls,
  prepareTenant,
  SYSTEM,
  startContract,
  type Catalogue,
} from '../billing/billing.test-helpers.js';
import { runInvoices } from '../billing/index.js';
import { DATA_MAP } from '../data-map.js';
import { addDays, addMonths } from './dates.js';
import { createPerson } from '../parties/index.js';
import { createTenant, type Tenant } from '../tenants/index.js';
import { kernelCore } from '../../kernel/kernel.js';
import {
  CERTIFICATE_ACTION,
  placeLegalHold,
  planRetention,
  releaseLegalHold,
  runRetentionSweep,
} from './index.js';

let database: TestDatabase;
let kernel: Kernel;
const clock = fixedClock(new Date('2020-01-01T10:00:00Z'));
let voiceking: Tenant;
let voxtra: Tenant;
const officer = { kind: 'staff', staffId: 1, role: 'privacy_officer' } as const;

function on(day: string): void {
  clock.set(new Date(`${day}T10:00:00Z`));
}

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  voxtra = await createPolicyTenant(kernel, 'voxtra');
});
afterAll(async () => database.close());

const catalogues = new Map<number, Catalogue>();
async function catalogueOf(tenant: Tenant): Promise<Catalogue> {
  const known = catalogues.get(tenant.tenantId);
  if (known) return known;
  const catalogue = await prepareTenant(kernel, tenant);
  catalogues.set(tenant.tenantId, catalogue);
  return catalogue;
}

let serial = 0;
async function person(
  tenant: Tenant,
  subjectType: string,
  purpose: string,
  extra: Record<string, unknown> = {},
): Promise<number> {
  serial += 1;
  const created = await createPerson(
    kernel,
    { tenantId: tenant.tenantId, actor: SYSTEM, purpose },
    {
      subjectType,
      familyName: `Retentie${serial}`,
      givenName: 'Jo',
      email: `jo.retentie${serial}@mail.example`,
      ...extra,
    },
  );
  return created.subjectId;
}

interface PersonState {
  erased: boolean;
  person: boolean;
  calls: number;
  accounts: number;
  certificates: number;
}

async function stateOf(tenant: Tenant, subjectId: number): Promise<PersonState> {
  const pseudonym = await kernel.keys.pseudonym(tenant.tenantId, subjectId);
  const row = await runAsOwner<PersonState>(
    database.ownerUrl,
    `select (select erased_at is not null from data_subjects where tenant_id = $1 and subject_id = $2) as erased,
            exists (select 1 from people where tenant_id = $1 and subject_id = $2) as person,
            (select count(*)::int from call_records where tenant_id = $1 and subject_id = $2) as calls,
            (select count(*)::int from subject_accounts where tenant_id = $1 and subject_id = $2) as accounts,
            (select count(*)::int from audit_log where tenant_id = $1 and action = $3
                and subject_pseudonyms @> array[$4]::text[]) as certificates`,
    [tenant.tenantId, subjectId, CERTIFICATE_ACTION, pseudonym],
  );
  const state = row.rows[0];
  if (!state) throw new Error('no state');
  return state;
}

/** The due date of the person's invoice of a billing period (its first day). */
async function dueDateOf(tenant: Tenant, subjectId: number, periodStart: string): Promise<string> {
  const rows = await runAsOwner<{ due: string }>(
    database.ownerUrl,
    `select due_date::text as due from invoices
      where tenant_id = $1 and subject_id = $2 and kind = 'invoice' and period_start = $3`,
    [tenant.tenantId, subjectId, periodStart],
  );
  const due = rows.rows[0]?.due;
  if (due === undefined) throw new Error('no invoice');
  return due;
}

/** The sweep on a day; returns what the dry run of that day said about the person. */
async function sweepOn(tenant: Tenant, day: string, subjectId: number) {
  on(day);
  const pseudonym = await kernel.keys.pseudonym(tenant.tenantId, subjectId);
  const plan = await planRetention(kernel, DATA_MAP, tenant.tenantId);
  await runRetentionSweep(kernel, DATA_MAP, tenant.tenantId);
  return plan.people.find((entry) => entry.pseudonym === pseudonym);
}

describe('retention rules of the voiceking policy, walked across each boundary', () => {
  it('inactivity (inactivity_3y): a prospect is kept on the last day of three years without activity and erased whole the day after', async () => {
    on('2020-03-01');
    const prospect = await person(voiceking, 'prospect', 'answering_questions');

    expect(await sweepOn(voiceking, '2023-03-01', prospect)).toBeUndefined();
    expect(await stateOf(voiceking, prospect)).toMatchObject({
      erased: false,
      person: true,
      certificates: 0,
    });

    const planned = await sweepOn(voiceking, '2023-03-02', prospect);
    expect(planned).toMatchObject({ scope: 'person', held: false });
    expect(planned?.categories).toContainEqual({
      category: 'user.name',
      rule: 'inactivity_3y',
      purpose: 'answering_questions',
      dueOn: '2023-03-02',
    });
    expect(await stateOf(voiceking, prospect)).toMatchObject({
      erased: true,
      person: false,
      certificates: 1,
    });
  });

  it('activity moves the clock: a confirmed opt-in a year later keeps the prospect a year longer', async () => {
    on('2020-03-01');
    const prospect = await person(voiceking, 'prospect', 'answering_questions');
    on('2021-03-01');
    const { policy } = await kernel.policies.current(voiceking.tenantId);
    await kernel.transact(voiceking.tenantId, (atx) =>
      setPurposeState(atx, {
        subjectId: prospect,
        purpose: 'newsletter_opt_in',
        state: 'consented',
        policyVersion: policy.statement.version,
        channel: 'double_opt_in',
        at: kernel.clock.now(),
      }),
    );
    expect(await sweepOn(voiceking, '2023-03-02', prospect)).toBeUndefined();
    expect(await stateOf(voiceking, prospect)).toMatchObject({ erased: false });
    expect(await sweepOn(voiceking, '2024-03-01', prospect)).toBeUndefined();
    expect(await sweepOn(voiceking, '2024-03-02', prospect)).toMatchObject({ scope: 'person' });
    expect(await stateOf(voiceking, prospect)).toMatchObject({ erased: true, certificates: 1 });
  });

  it('after contract end (contract_then_3y): a former customer is kept three years after the last contract day, then erased', async () => {
    on('2019-01-15');
    const catalogue = await catalogueOf(voiceking);
    const customer = await person(voiceking, 'customer', 'order_processing');
    await startContract(kernel, voiceking, customer, {
      startDate: '2019-02-01',
      endDate: '2021-06-30',
      lines: [{ productId: catalogue.subscription }],
    });
    expect(await sweepOn(voiceking, '2024-06-30', customer)).toBeUndefined();
    expect(await stateOf(voiceking, customer)).toMatchObject({ erased: false, person: true });
    const planned = await sweepOn(voiceking, '2024-07-01', customer);
    expect(planned).toMatchObject({ scope: 'person' });
    expect(planned?.categories).toContainEqual(
      expect.objectContaining({
        category: 'kluis.contract.product',
        rule: 'contract_then_3y',
        dueOn: '2024-07-01',
      }),
    );
    expect(await stateOf(voiceking, customer)).toMatchObject({
      erased: true,
      person: false,
      certificates: 1,
    });
  });

  it('contract duration (account_lifetime): portal credentials go the day after the last contract day, the rest stays', async () => {
    on('2015-01-15');
    const customer = await person(voiceking, 'customer', 'order_processing');
    const catalogue = await catalogueOf(voiceking);
    await startContract(kernel, voiceking, customer, {
      startDate: '2015-02-01',
      endDate: '2021-06-30',
      lines: [{ productId: catalogue.subscription }],
    });
    await runAsOwner(
      database.ownerUrl,
      `insert into subject_accounts (tenant_id, subject_id, password_hash, created_at) values ($1, $2, 'argon2-test', now())`,
      [voiceking.tenantId, customer],
    );
    expect(await sweepOn(voiceking, '2021-06-30', customer)).toBeUndefined();
    expect(await stateOf(voiceking, customer)).toMatchObject({ accounts: 1 });
    const planned = await sweepOn(voiceking, '2021-07-01', customer);
    expect(planned).toMatchObject({
      scope: 'categories',
      categories: [
        {
          category: 'user.authorization.credentials',
          rule: 'account_lifetime',
          purpose: 'user_accounts',
          dueOn: '2021-07-01',
        },
      ],
    });
    expect(await stateOf(voiceking, customer)).toMatchObject({
      erased: false,
      person: true,
      accounts: 0,
      certificates: 1,
    });
  });

  it('until the bill is uncontestable (cdr_until_uncontestable): call records never invoiced stay past 12 months after the last call; invoiced, they go the day after 12 months from the due date', async () => {
    on('2024-01-05');
    const catalogue = await catalogueOf(voiceking);
    const customer = await person(voiceking, 'customer', 'order_processing', {
      address: { street: 'Veldstraat 1', postalCode: '9000', city: 'Gent', country: 'BE' },
    });
    await startContract(kernel, voiceking, customer, {
      startDate: '2024-01-05',
      lines: [{ productId: catalogue.subscription }],
    });
    await insertCalls(kernel, voiceking, [
      {
        subjectId: customer,
        startedAt: '2024-01-10T09:00:00Z',
        destination: '+3292000001',
        seconds: 30,
        costMicros: 1,
      },
      {
        subjectId: customer,
        startedAt: '2024-01-09T09:00:00Z',
        destination: '+3292000002',
        seconds: 30,
        costMicros: 1,
      },
    ]);
    // Never before they are invoiced: a year and more after the last call they stay.
    expect(await sweepOn(voiceking, '2025-01-11', customer)).toBeUndefined();
    expect(await sweepOn(voiceking, '2025-03-01', customer)).toBeUndefined();
    expect(await stateOf(voiceking, customer)).toMatchObject({ calls: 2 });
    on('2025-03-03');
    const run = await runInvoices(kernel, billingContext(voiceking), {
      period: '2024-01',
      callsPurpose: 'call_billing',
    });
    expect(run.invoiced).toBe(1);
    const dueDate = await dueDateOf(voiceking, customer, '2024-01-01');
    const lastContestable = addMonths(dueDate, 12);
    expect(await sweepOn(voiceking, lastContestable, customer)).toBeUndefined();
    expect(await stateOf(voiceking, customer)).toMatchObject({ calls: 2 });
    const firstGone = addDays(lastContestable, 1);
    expect(await sweepOn(voiceking, firstGone, customer)).toMatchObject({
      scope: 'categories',
      categories: [
        {
          category: 'kluis.telephony.call_record',
          rule: 'cdr_until_uncontestable',
          purpose: 'call_billing',
          dueOn: firstGone,
        },
      ],
    });
    expect(await stateOf(voiceking, customer)).toMatchObject({
      erased: false,
      person: true,
      calls: 0,
      certificates: 1,
    });
  });

  it("an objection ends the objected purpose's claim (Art. 17(1)(c)): a prospect who objects to every purpose on legitimate interests that keeps them goes at the next sweep; one who objects to one of them stays while the others keep the same data", async () => {
    on('2024-01-10');
    const objectingAll = await person(voiceking, 'prospect', 'answering_questions');
    const objectingOne = await person(voiceking, 'prospect', 'answering_questions');
    const { policy } = await kernel.policies.current(voiceking.tenantId);
    on('2024-06-01');
    const object = (subjectId: number, purpose: string) =>
      kernel.transact(voiceking.tenantId, (atx) =>
        setPurposeState(atx, {
          subjectId,
          purpose,
          state: 'objected',
          policyVersion: policy.statement.version,
          channel: 'rights_request',
          at: kernel.clock.now(),
        }),
      );
    // The purposes on legitimate interests that reach prospects (each keeps 3 years from the last activity).
    for (const purpose of ['answering_questions', 'eligibility', 'misuse_reports'])
      await object(objectingAll, purpose);
    await object(objectingOne, 'answering_questions');
    expect(await sweepOn(voiceking, '2024-06-01', objectingAll)).toBeUndefined();
    expect(await sweepOn(voiceking, '2024-06-02', objectingAll)).toMatchObject({
      scope: 'person',
      categories: expect.arrayContaining([
        expect.objectContaining({ category: 'user.name', rule: 'inactivity_3y', dueOn: '2024-06-02' }),
      ]) as unknown,
    });
    expect(await stateOf(voiceking, objectingAll)).toMatchObject({ erased: true, certificates: 1 });
    expect(await stateOf(voiceking, objectingOne)).toMatchObject({ erased: false, person: true });
  });

  it('after collection (application_12m): a job application is kept 12 months after it came in, then the applicant is erased', async () => {
    on('2024-02-01');
    const applicant = await person(voiceking, 'job_applicant', 'recruitment');
    expect(await sweepOn(voiceking, '2025-02-01', applicant)).toBeUndefined();
    expect(await sweepOn(voiceking, '2025-02-02', applicant)).toMatchObject({
      scope: 'person',
      categories: expect.arrayContaining([
        { category: 'user.name', rule: 'application_12m', purpose: 'recruitment', dueOn: '2025-02-02' },
      ]) as unknown,
    });
    expect(await stateOf(voiceking, applicant)).toMatchObject({ erased: true, certificates: 1 });
  });
});

describe('retention rules of the voxtra policy, walked across each boundary', () => {
  it('after contract end (customer_file, 2 years): kept through the second anniversary of the last day, then erased', async () => {
    on('2020-01-15');
    const catalogue = await catalogueOf(voxtra);
    const customer = await person(voxtra, 'customer', 'customer_administration');
    await startContract(kernel, voxtra, customer, {
      startDate: '2020-02-01',
      endDate: '2022-12-31',
      lines: [{ productId: catalogue.subscription }],
    });
    expect(await sweepOn(voxtra, '2024-12-31', customer)).toBeUndefined();
    expect(await stateOf(voxtra, customer)).toMatchObject({ erased: false });
    const planned = await sweepOn(voxtra, '2025-01-01', customer);
    expect(planned?.categories).toContainEqual(
      expect.objectContaining({ category: 'user.name', rule: 'customer_file', dueOn: '2025-01-01' }),
    );
    expect(await stateOf(voxtra, customer)).toMatchObject({ erased: true, certificates: 1 });
  });

  it('after collection (quote_12m): a prospect who asked for a quote is kept 12 months, then erased', async () => {
    on('2024-03-01');
    const prospect = await person(voxtra, 'prospect', 'quotes');
    expect(await sweepOn(voxtra, '2025-03-01', prospect)).toBeUndefined();
    expect(await sweepOn(voxtra, '2025-03-02', prospect)).toMatchObject({ scope: 'person' });
    expect(await stateOf(voxtra, prospect)).toMatchObject({ erased: true, certificates: 1 });
  });

  it('until withdrawn (max 2 years): an opted-in prospect is kept two years after the opt-in, a withdrawal ends it the next day', async () => {
    on('2024-01-10');
    const kept = await person(voxtra, 'prospect', 'quotes');
    const withdrawn = await person(voxtra, 'prospect', 'quotes');
    const { policy } = await kernel.policies.current(voxtra.tenantId);
    const consent = (subjectId: number, state: 'consented' | 'withdrawn') =>
      kernel.transact(voxtra.tenantId, (atx) =>
        setPurposeState(atx, {
          subjectId,
          purpose: 'news_opt_in',
          state,
          policyVersion: policy.statement.version,
          channel: 'double_opt_in',
          at: kernel.clock.now(),
        }),
      );
    await consent(kept, 'consented');
    await consent(withdrawn, 'consented');
    on('2025-06-01');
    await consent(withdrawn, 'withdrawn');
    // The quote claim (12 months) has ended; the opt-in keeps the first, not the second.
    expect(await sweepOn(voxtra, '2025-06-01', withdrawn)).toBeUndefined();
    expect(await sweepOn(voxtra, '2025-06-02', withdrawn)).toMatchObject({ scope: 'person' });
    expect(await stateOf(voxtra, withdrawn)).toMatchObject({ erased: true });
    expect(await stateOf(voxtra, kept)).toMatchObject({ erased: false });
    expect(await sweepOn(voxtra, '2026-01-10', kept)).toBeUndefined();
    expect(await sweepOn(voxtra, '2026-01-11', kept)).toMatchObject({
      scope: 'person',
      categories: expect.arrayContaining([
        { category: 'user.name', rule: 'until_withdrawn', purpose: 'news_opt_in', dueOn: '2026-01-11' },
      ]) as unknown,
    });
    expect(await stateOf(voxtra, kept)).toMatchObject({ erased: true, certificates: 1 });
  });

  it('the accounting hold (accounting_10y): a swept customer goes, the invoice naming them stays until 1 January eleven years on, then is unlinked', async () => {
    on('2020-01-15');
    const catalogue = await catalogueOf(voxtra);
    const customer = await person(voxtra, 'customer', 'customer_administration', {
      address: { street: 'Kerkstraat 5', postalCode: '2000', city: 'Antwerpen', country: 'BE' },
    });
    await startContract(kernel, voxtra, customer, {
      startDate: '2020-01-01',
      endDate: '2020-01-31',
      lines: [{ productId: catalogue.subscription }],
    });
    on('2020-02-03');
    const run = await runInvoices(kernel, billingContext(voxtra), {
      callsPurpose: 'call_billing',
      period: '2020-01',
    });
    expect(run.invoiced).toBeGreaterThan(0);
    const invoice = async () =>
      (
        await runAsOwner<{ named: boolean; buyer: boolean }>(
          database.ownerUrl,
          `select coalesce(bool_or(subject_id = $2), false) as named, bool_or(buyer_name is not null) as buyer from invoices where tenant_id = $1 and issue_date = '2020-02-03'`,
          [voxtra.tenantId, customer],
        )
      ).rows[0];

    const planned = await sweepOn(voxtra, '2022-02-01', customer);
    expect(planned).toMatchObject({
      scope: 'person',
      holds: [{ kind: 'accounting', legalHold: 'accounting', invoices: 1, until: '2031-01-01' }],
    });
    expect(await stateOf(voxtra, customer)).toMatchObject({ erased: true, person: false, certificates: 1 });
    expect(await invoice()).toEqual({ named: true, buyer: true });

    on('2030-12-31');
    expect((await planRetention(kernel, DATA_MAP, voxtra.tenantId)).documentsReleased).toBe(0);
    await runRetentionSweep(kernel, DATA_MAP, voxtra.tenantId);
    expect(await invoice()).toEqual({ named: true, buyer: true });
    on('2031-01-01');
    expect((await planRetention(kernel, DATA_MAP, voxtra.tenantId)).documentsReleased).toBeGreaterThanOrEqual(
      1,
    );
    expect(await runRetentionSweep(kernel, DATA_MAP, voxtra.tenantId)).toMatchObject({
      documentsReleased: expect.any(Number) as unknown,
    });
    expect(await invoice()).toEqual({ named: false, buyer: false });
  });
});

describe('legal holds placed by a privacy officer', () => {
  it('a running hold keeps everything of a due person, shows in the plan and the access report; after its end the person goes', async () => {
    on('2020-05-01');
    const prospect = await person(voiceking, 'prospect', 'answering_questions');
    on('2023-04-01');
    const hold = await placeLegalHold(
      kernel,
      { tenantId: voiceking.tenantId, actor: officer, purpose: 'rights_requests' },
      { subjectId: prospect, reason: 'Dispute before the commercial court', endsOn: '2023-12-31' },
    );
    const report = await buildAccessReport(kernel, DATA_MAP, {
      tenantId: voiceking.tenantId,
      actor: officer,
      purpose: 'rights_requests',
      subjectId: prospect,
      language: 'en',
    });
    expect(JSON.stringify(report)).toContain('Dispute before the commercial court');

    const planned = await sweepOn(voiceking, '2023-05-02', prospect);
    expect(planned).toMatchObject({
      scope: 'person',
      held: true,
      holds: [
        {
          kind: 'legal_hold',
          holdId: hold.holdId,
          reason: 'Dispute before the commercial court',
          endsOn: '2023-12-31',
        },
      ],
    });
    expect(await stateOf(voiceking, prospect)).toMatchObject({
      erased: false,
      person: true,
      certificates: 0,
    });
    expect(await sweepOn(voiceking, '2023-12-31', prospect)).toMatchObject({ held: true });
    expect(await stateOf(voiceking, prospect)).toMatchObject({ erased: false });
    expect(await sweepOn(voiceking, '2024-01-01', prospect)).toMatchObject({ held: false, scope: 'person' });
    expect(await stateOf(voiceking, prospect)).toMatchObject({ erased: true, certificates: 1 });
  });

  it('a released hold no longer keeps anything', async () => {
    on('2020-05-01');
    const prospect = await person(voiceking, 'prospect', 'answering_questions');
    on('2023-06-01');
    const context = { tenantId: voiceking.tenantId, actor: officer, purpose: 'rights_requests' };
    const hold = await placeLegalHold(kernel, context, {
      subjectId: prospect,
      reason: 'Request of the public prosecutor',
      endsOn: '2030-01-01',
    });
    expect(await sweepOn(voiceking, '2023-06-01', prospect)).toMatchObject({ held: true });
    await releaseLegalHold(kernel, context, hold.holdId);
    await expect(releaseLegalHold(kernel, context, hold.holdId)).rejects.toMatchObject({ code: 'conflict' });
    expect(await sweepOn(voiceking, '2023-06-02', prospect)).toMatchObject({ held: false });
    expect(await stateOf(voiceking, prospect)).toMatchObject({ erased: true, certificates: 1 });
  });

  it('a hold ending in the past or on no one is refused and stores nothing', async () => {
    on('2024-01-01');
    const prospect = await person(voiceking, 'prospect', 'answering_questions');
    const context = { tenantId: voiceking.tenantId, actor: officer, purpose: 'rights_requests' };
    await expect(
      placeLegalHold(kernel, context, { subjectId: prospect, reason: 'late', endsOn: '2023-12-31' }),
    ).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(
      placeLegalHold(kernel, context, { subjectId: 99_999_999, reason: 'nobody', endsOn: '2024-12-31' }),
    ).rejects.toMatchObject({ code: 'not_found' });
    await expect(
      placeLegalHold(
        kernel,
        { ...context, actor: { kind: 'staff', staffId: 2, role: 'sales' } },
        { subjectId: prospect, reason: 'sales tries', endsOn: '2024-12-31' },
      ),
    ).rejects.toMatchObject({ code: 'role_not_allowed' });
    const rows = await runAsOwner(
      database.ownerUrl,
      'select 1 from legal_holds where tenant_id = $1 and subject_id = $2',
      [voiceking.tenantId, prospect],
    );
    expect(rows.rows).toHaveLength(0);
  });
});

describe('the sweep and its dry run', () => {
  it('erases exactly what the dry run listed, once: a second run the same day erases and certifies nothing', async () => {
    on('2016-01-01');
    const people = [];
    for (let i = 0; i < 4; i += 1) people.push(await person(voxtra, 'prospect', 'quotes'));
    on('2017-06-01');
    const plan = await planRetention(kernel, DATA_MAP, voxtra.tenantId);
    const pseudonyms = await Promise.all(people.map((id) => kernel.keys.pseudonym(voxtra.tenantId, id)));
    for (const pseudonym of pseudonyms)
      expect(plan.people.map((entry) => entry.pseudonym)).toContain(pseudonym);

    const before = await certificates(voxtra);
    const first = await runRetentionSweep(kernel, DATA_MAP, voxtra.tenantId);
    const after = await certificates(voxtra);
    const issued = after.slice(before.length);
    expect(issued.map((entry) => entry.pseudonym).sort()).toEqual(
      plan.people.map((entry) => entry.pseudonym).sort(),
    );
    for (const entry of issued) {
      const planned = plan.people.find((p) => p.pseudonym === entry.pseudonym);
      expect(entry.categories).toEqual(
        expect.arrayContaining(planned?.categories.map((c) => c.category) ?? []),
      );
      expect(entry.reason).toMatch(/^rule \S+ \(\S+\); scope (person|categories); erased /);
    }
    expect(first.peopleErased + first.peoplePartlyErased).toBe(plan.people.filter((p) => !p.held).length);

    const second = await runRetentionSweep(kernel, DATA_MAP, voxtra.tenantId);
    expect(second).toMatchObject({ peopleErased: 0, peoplePartlyErased: 0, rows: 0 });
    expect(await certificates(voxtra)).toHaveLength(after.length);
    expect((await planRetention(kernel, DATA_MAP, voxtra.tenantId)).people).toEqual([]);
  });
});

describe('the sweep asks the gate before it reads anyone’s clocks (decision 0280)', () => {
  /** A tenant on the voiceking policy with its rights purpose changed by `edit`. */
  async function tenantWith(edit: (policy: string) => string): Promise<Tenant> {
    const text = await readFile(path.join(ROOT, 'policies', 'voiceking.yaml'), 'utf8');
    const changed = edit(text);
    expect(changed).not.toBe(text);
    const tenant = await createTenant(kernelCore(kernel).db, {
      slug: `vk-kept-${serial}-${Date.now()}`,
      name: 'voiceking, edited',
    });
    await kernel.policies.install(tenant.tenantId, changed, 'policies/voiceking.yaml (edited)');
    return tenant;
  }

  async function pageDecisions(tenant: Tenant) {
    const rows = await runAsOwner<{ decision: string; reason: string | null; records: number }>(
      database.ownerUrl,
      `select decision, reason, records from audit_log
        where tenant_id = $1 and actor_id = 'retention' and action = 'erase'
          and categories @> array['kluis.telephony.call_record']::text[] order by seq`,
      [tenant.tenantId],
    );
    return rows.rows;
  }

  it('a sweep under a policy whose erasure purpose does not cover prospects keeps every due prospect, counted and audited as refused', async () => {
    const tenant = await tenantWith((text) =>
      // The rights purpose's own list (a category may list the same types earlier in the file).
      text.replace(
        /(\n {2}rights_requests:\n[\s\S]*?)subjectTypes: \[customer, contact_person, prospect, /,
        '$1subjectTypes: [customer, contact_person, ',
      ),
    );
    on('2020-03-01');
    const prospects = [
      await person(tenant, 'prospect', 'answering_questions'),
      await person(tenant, 'prospect', 'answering_questions'),
    ];
    const customerlike = await person(tenant, 'other_person', 'answering_questions');
    on('2023-03-02');
    const plan = await planRetention(kernel, DATA_MAP, tenant.tenantId);
    expect(plan.peopleRefused).toBe(2);
    const swept = await runRetentionSweep(kernel, DATA_MAP, tenant.tenantId);
    expect(swept).toMatchObject({ peopleRefused: 2, peopleErased: 1 });
    for (const prospect of prospects)
      expect(await stateOf(tenant, prospect)).toMatchObject({ erased: false, person: true, certificates: 0 });
    expect(await stateOf(tenant, customerlike)).toMatchObject({ erased: true, certificates: 1 });
    // Kept stays kept: the next day's sweep keeps them again.
    on('2023-03-03');
    expect(await runRetentionSweep(kernel, DATA_MAP, tenant.tenantId)).toMatchObject({
      peopleRefused: 2,
      peopleErased: 0,
    });
    for (const prospect of prospects)
      expect(await stateOf(tenant, prospect)).toMatchObject({ erased: false });
    const decisions = await pageDecisions(tenant);
    expect(decisions.filter((entry) => entry.decision === 'denied').length).toBeGreaterThanOrEqual(4);
    expect(decisions.some((entry) => entry.decision === 'allowed')).toBe(true);
  });

  it('a sweep under a policy with no purpose for erasing whole persons keeps everyone and reads no clock', async () => {
    const tenant = await tenantWith((text) => text.replace('    wholePerson: rights\n', ''));
    on('2020-03-01');
    const prospect = await person(tenant, 'prospect', 'answering_questions');
    on('2023-03-02');
    const plan = await planRetention(kernel, DATA_MAP, tenant.tenantId);
    expect(plan).toMatchObject({ people: [], peopleRefused: 1 });
    expect(await runRetentionSweep(kernel, DATA_MAP, tenant.tenantId)).toMatchObject({
      peopleRefused: 1,
      peopleErased: 0,
      peoplePartlyErased: 0,
      rows: 0,
    });
    expect(await stateOf(tenant, prospect)).toMatchObject({ erased: false, person: true, certificates: 0 });
    expect(await pageDecisions(tenant)).toEqual([]);
  });
});

async function certificates(tenant: Tenant) {
  const rows = await runAsOwner<{ pseudonym: string; categories: string[]; reason: string; records: number }>(
    database.ownerUrl,
    `select subject_pseudonyms[1] as pseudonym, categories, reason, records from audit_log
      where tenant_id = $1 and action = $2 order by seq`,
    [tenant.tenantId, CERTIFICATE_ACTION],
  );
  return rows.rows;
}
