import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, requestAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, fixedClock } from '../../../test/kernel.js';
import { createDomainEventSubscribers } from '../../jobs/domain-events.job.js';
import { runNumberEnds } from '../../jobs/number-end.job.js';
import { createKernel, type Kernel } from '../../kernel/kernel.js';
import { LocalKeyManagementService } from '../../kernel/keyring/kms.js';
import { setRestriction } from '../../kernel/subjects/index.js';
import type { Logger } from '../../platform/logger.js';
import {
  contractPurpose,
  createCustomer,
  prepareTenant,
  startContract,
} from '../billing/billing.test-helpers.js';
import type { DomainEventSubscribers } from '../contracts/index.js';
import type { Tenant } from '../tenants/index.js';
import { importCdrFile } from './cdr-import.service.js';
import { importTariff } from './tariff.service.js';
import { answeredCall, bulkConnection, TARIFF_CSV, tempDir, writeLines } from './telephony.test-helpers.js';

// Friday 20 November 2026, 11:00 in Brussels.
const clock = fixedClock(new Date('2026-11-20T10:00:00Z'));
const masterKey = randomBytes(32);
/** Midnight at the start of 1 December 2026 in Brussels (UTC+1). */
const DECEMBER_FIRST = '2026-11-30T23:00:00.000Z';
/** Midnight at the start of 1 January 2027 in Brussels. */
const JANUARY_FIRST = '2026-12-31T23:00:00.000Z';

type LogLine = Record<string, unknown> & { msg: string };
const logLines: LogLine[] = [];
const logger: Logger = pino(
  { level: 'info' },
  {
    write: (line: string) => {
      logLines.push(JSON.parse(line) as LogLine);
    },
  },
);

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let subscribers: DomainEventSubscribers;
let dir: string;

interface Seed {
  tenant: Tenant;
  product: number;
  sales: StaffSession;
  billing: StaffSession;
}
const seeds: Record<'voxtra' | 'voiceking', Seed> = {} as Record<'voxtra' | 'voiceking', Seed>;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createKernel({
    db: database.db,
    keystore: database.keystore,
    kms: new LocalKeyManagementService(masterKey),
    clock,
  });
  subscribers = createDomainEventSubscribers(kernel, logger);
  app = await createTestApp(kernel, { events: subscribers });
  dir = await tempDir();
  for (const seed of ['voxtra', 'voiceking'] as const) {
    const tenant = await createPolicyTenant(kernel, seed);
    const { subscription } = await prepareTenant(kernel, tenant);
    await importTariff(kernel, tenant.tenantId, TARIFF_CSV);
    seeds[seed] = {
      tenant,
      product: subscription,
      sales: await loginAs(app, kernel, tenant, 'sales'),
      billing: await loginAs(app, kernel, tenant, 'billing'),
    };
  }
});
afterAll(async () => {
  await app.close();
  await database.close();
});

/** Signs staff in at the test clock's time (a session from another test's clock has expired). */
async function signIn(seed: Seed): Promise<void> {
  seed.sales = await loginAs(app, kernel, seed.tenant, 'sales');
  seed.billing = await loginAs(app, kernel, seed.tenant, 'billing');
}

let numberSeq = 0;

/** A fresh number in national form, its E.164, and a fresh account code. */
function nextLine(): { national: string; e164: string; accountCode: string } {
  numberSeq += 1;
  const national = `0562${String(numberSeq).padStart(5, '0')}`;
  return { national, e164: `+32${national.slice(1)}`, accountCode: `acc${numberSeq}` };
}

/**
 * A customer with one contract from 1 October, a number and a line identifier given over HTTP
 * (after the contract, or with `numberFirst` before it: a holder without a contract keeps an open
 * period, so a fixed-term contract made afterwards is left to the daily job).
 */
async function customerWithLine(seed: Seed, options: { endDate?: string; numberFirst?: boolean } = {}) {
  const { national, e164, accountCode } = nextLine();
  const subjectId = await createCustomer(kernel, seed.tenant, { familyName: `Claes${numberSeq}` });
  const makeContract = () =>
    startContract(kernel, seed.tenant, subjectId, {
      startDate: '2026-10-01',
      ...(options.endDate ? { endDate: options.endDate } : {}),
      lines: [{ productId: seed.product }],
    });
  const contractId = options.numberFirst ? undefined : await makeContract();
  const billing = requestAs(app, seed.billing, 'call_billing');
  const number = await billing('POST', '/api/v1/phone-numbers/assignments', {
    number: national,
    subjectId,
    from: '2026-10-01',
  });
  expect(number.statusCode, number.body).toBe(201);
  const identifier = await billing('POST', '/api/v1/line-identifiers', {
    subjectId,
    kind: 'account_code',
    value: accountCode,
    from: '2026-10-01',
  });
  expect(identifier.statusCode, identifier.body).toBe(201);
  return { subjectId, contractId: contractId ?? (await makeContract()), e164 };
}

async function terminate(seed: Seed, contractId: number, terminatedOn: string) {
  const response = await requestAs(app, seed.sales, contractPurpose(seed.tenant))(
    'POST',
    `/api/v1/contracts/${contractId}/terminate`,
    { terminatedOn, channel: 'written', reasonCode: 'moved_abroad' },
  );
  expect(response.statusCode, response.body).toBe(200);
}

/** The subject's number and line-identifier periods' ends (ISO, or null when open). */
async function periodEnds(tenant: Tenant, subjectId: number): Promise<Array<string | null>> {
  const result = await runAsOwner<{ valid_to: Date | null }>(
    database.ownerUrl,
    `select valid_to from number_assignments where tenant_id = $1 and subject_id = $2
     union all
     select valid_to from line_identifiers where tenant_id = $1 and subject_id = $2`,
    [tenant.tenantId, subjectId],
  );
  return result.rows.map((row) => row.valid_to?.toISOString() ?? null);
}

interface AuditRow {
  actor_id: string;
  purpose: string | null;
  decision: string;
  records: number;
  reason: string | null;
}

/** The audit entries the number end wrote in the tenant (actor contract-end), oldest first. */
async function numberEndAudit(tenant: Tenant): Promise<AuditRow[]> {
  const result = await runAsOwner<AuditRow>(
    database.ownerUrl,
    `select actor_id, purpose, decision, records, reason from audit_log
      where tenant_id = $1 and action = 'number.end' order by seq`,
    [tenant.tenantId],
  );
  return result.rows;
}

let fileSeq = 0;

async function importCalls(tenant: Tenant, lines: string[]) {
  fileSeq += 1;
  const file = await writeLines(dir, `calls-${fileSeq}.csv`, lines);
  return importCdrFile(
    { kernel, connection: bulkConnection(database) },
    { tenantId: tenant.tenantId, file, timeZone: 'UTC' },
  );
}

async function storedCallers(tenant: Tenant): Promise<Record<string, number>> {
  const result = await runAsOwner<{ dedup_key: string; subject_id: number }>(
    database.ownerUrl,
    'select dedup_key, subject_id::int as subject_id from call_records where tenant_id = $1',
    [tenant.tenantId],
  );
  // The key is the switch's unique id and the record's sequence.
  return Object.fromEntries(result.rows.map((row) => [row.dedup_key.replace(/#\d+$/, ''), row.subject_id]));
}

/** Marks the tenant's events pending again and dispatches them: the outbox delivering twice. */
async function redeliverEvents(tenant: Tenant): Promise<void> {
  await runAsOwner(database.ownerUrl, 'update domain_events set processed_at = null where tenant_id = $1', [
    tenant.tenantId,
  ]);
  await subscribers.dispatchPending(kernel, tenant.tenantId);
}

describe.each(['voxtra', 'voiceking'] as const)(
  'a number period ends with the customer relation (%s)',
  (name) => {
    it('VX-5: a termination ends the number and line identifier at the next Brussels midnight; the last day’s call is the customer’s, the next day’s is not attributed; a second delivery changes nothing; the invoice run bills only the last day’s call', async () => {
      clock.set(new Date('2026-11-20T10:00:00Z'));
      const seed = seeds[name];
      await signIn(seed);
      const { subjectId, contractId, e164 } = await customerWithLine(seed);

      await terminate(seed, contractId, '2026-11-30');
      expect(await periodEnds(seed.tenant, subjectId)).toEqual([DECEMBER_FIRST, DECEMBER_FIRST]);
      const audited = await numberEndAudit(seed.tenant);
      expect(audited).toHaveLength(1);
      expect(audited[0]).toMatchObject({
        actor_id: 'contract-end',
        purpose: 'call_billing',
        decision: 'allowed',
        records: 2,
      });
      expect(audited[0]?.reason).toContain('1 numbers and 1 line identifiers end 1 Dec 2026 at 00:00');
      expect(audited[0]?.reason).toContain('no call stored after the last day');

      // Two calls after the end: 22:30 on 30 November (Brussels) and 08:00 on 1 December.
      clock.set(new Date('2026-12-02T09:00:00Z'));
      const imported = await importCalls(seed.tenant, [
        answeredCall(`last-day-${name}`, e164, '+32470123456', '2026-11-30 21:30:00', 120),
        answeredCall(`day-after-${name}`, e164, '+32470123456', '2026-12-01 07:00:00', 120),
      ]);
      expect(imported).toMatchObject({ imported: 1, rejected: 1, rejectsByReason: { not_attributed: 1 } });
      expect(await storedCallers(seed.tenant)).toMatchObject({ [`last-day-${name}`]: subjectId });
      expect(Object.keys(await storedCallers(seed.tenant))).not.toContain(`day-after-${name}`);

      await redeliverEvents(seed.tenant);
      await signIn(seed);
      expect(await periodEnds(seed.tenant, subjectId)).toEqual([DECEMBER_FIRST, DECEMBER_FIRST]);
      expect(await numberEndAudit(seed.tenant)).toHaveLength(1);

      // November's run bills the last day's call; the former customer has nothing in December.
      const run = requestAs(app, seed.billing, name === 'voxtra' ? 'invoicing' : 'billing');
      const november = await run('POST', '/api/v1/invoice-runs', {
        period: '2026-11',
        callsPurpose: 'call_billing',
      });
      expect(november.statusCode, november.body).toBe(200);
      const calls = await runAsOwner<{ n: number }>(
        database.ownerUrl,
        `select count(*)::int as n from invoices i join invoice_lines l using (tenant_id, invoice_id)
        where i.tenant_id = $1 and i.subject_id = $2 and l.kind = 'calls'`,
        [seed.tenant.tenantId, subjectId],
      );
      expect(calls.rows[0]?.n).toBeGreaterThan(0);
      clock.set(new Date('2027-01-05T09:00:00Z'));
      await signIn(seed);
      const december = await requestAs(app, seed.billing, name === 'voxtra' ? 'invoicing' : 'billing')(
        'POST',
        '/api/v1/invoice-runs',
        {
          period: '2026-12',
          callsPurpose: 'call_billing',
        },
      );
      expect(december.statusCode, december.body).toBe(200);
      const decemberInvoices = await runAsOwner<{ n: number }>(
        database.ownerUrl,
        `select count(*)::int as n from invoices where tenant_id = $1 and subject_id = $2 and period_start = '2026-12-01'`,
        [seed.tenant.tenantId, subjectId],
      );
      expect(decemberInvoices.rows[0]?.n).toBe(0);
    });

    it('with a second contract still running, a termination ends no number period', async () => {
      clock.set(new Date('2026-11-20T10:00:00Z'));
      const seed = seeds[name];
      await signIn(seed);
      const { subjectId, contractId } = await customerWithLine(seed);
      await startContract(kernel, seed.tenant, subjectId, {
        startDate: '2026-11-01',
        lines: [{ productId: seed.product }],
      });
      const before = (await numberEndAudit(seed.tenant)).length;
      await terminate(seed, contractId, '2026-11-30');
      expect(await periodEnds(seed.tenant, subjectId)).toEqual([null, null]);
      expect(await numberEndAudit(seed.tenant)).toHaveLength(before);
    });

    it('a backdated termination ends the periods now, not in the past; the calls already attributed after the last day stay, counted in the log and the audit entry', async () => {
      clock.set(new Date('2026-11-20T10:00:00Z'));
      const seed = seeds[name];
      await signIn(seed);
      const { subjectId, contractId, e164 } = await customerWithLine(seed);
      await importCalls(seed.tenant, [
        answeredCall(`before-${name}`, e164, '+32470123456', '2026-11-09 10:00:00', 60),
        answeredCall(`after-1-${name}`, e164, '+32470123456', '2026-11-12 10:00:00', 60),
        answeredCall(`after-2-${name}`, e164, '+32470123456', '2026-11-15 10:00:00', 60),
      ]);
      logLines.length = 0;

      await terminate(seed, contractId, '2026-11-10');
      const now = '2026-11-20T10:00:00.000Z';
      expect(await periodEnds(seed.tenant, subjectId)).toEqual([now, now]);
      const stored = await storedCallers(seed.tenant);
      for (const key of [`before-${name}`, `after-1-${name}`, `after-2-${name}`])
        expect(stored[key]).toBe(subjectId);
      const audited = (await numberEndAudit(seed.tenant)).at(-1);
      expect(audited?.reason).toContain(
        '2 calls from 11 Nov 2026 at 00:00 to 20 Nov 2026 at 11:00 stay attributed, for billing to credit',
      );
      const logged = logLines.find((line) => line.callsAfterLastDay !== undefined);
      expect(logged).toMatchObject({
        level: 30,
        trigger: 'termination',
        callsAfterLastDay: 2,
        callsFrom: '2026-11-10T23:00:00.000Z',
        callsTo: now,
      });
      expect(JSON.stringify(logged)).not.toContain(e164.slice(3));
    });

    it('a restricted holder is left to staff: the handler neither ends the periods nor stops the outbox; audited and logged', async () => {
      clock.set(new Date('2026-11-20T10:00:00Z'));
      const seed = seeds[name];
      await signIn(seed);
      const restricted = await customerWithLine(seed);
      const other = await customerWithLine(seed);
      await kernel.transact(seed.tenant.tenantId, (atx) =>
        setRestriction(atx, restricted.subjectId, true, kernel.clock.now()),
      );
      // The restricted holder's termination event waits in the outbox (recorded before the restriction).
      await runAsOwner(
        database.ownerUrl,
        `insert into domain_events (tenant_id, type, payload, occurred_at) values ($1, 'contract.terminated', $2, now())`,
        [
          seed.tenant.tenantId,
          JSON.stringify({
            contractId: restricted.contractId,
            subjectId: restricted.subjectId,
            organisationId: null,
            terminatedOn: '2026-11-30',
            channel: 'phone',
            recordedAt: '2026-11-20T09:00:00.000Z',
            otherOpenContracts: 0,
            writtenNoticeOnRecord: false,
          }),
        ],
      );
      logLines.length = 0;

      // Another customer's termination dispatches the outbox: the restricted holder's event first.
      await terminate(seed, other.contractId, '2026-11-30');
      expect(await periodEnds(seed.tenant, restricted.subjectId)).toEqual([null, null]);
      expect(await periodEnds(seed.tenant, other.subjectId)).toEqual([DECEMBER_FIRST, DECEMBER_FIRST]);
      const pending = await runAsOwner<{ n: number }>(
        database.ownerUrl,
        'select count(*)::int as n from domain_events where tenant_id = $1 and processed_at is null',
        [seed.tenant.tenantId],
      );
      expect(pending.rows[0]?.n).toBe(0);
      const audited = await numberEndAudit(seed.tenant);
      expect(audited.at(-2)).toMatchObject({
        actor_id: 'contract-end',
        decision: 'denied',
        reason: 'left to staff: processing restricted',
      });
      expect(audited.at(-1)).toMatchObject({ decision: 'allowed', records: 2 });
      expect(logLines.find((line) => line.refusal === 'subject_restricted')).toMatchObject({ level: 40 });
    });

    it('the daily job ends the periods of a relation that ran out on its agreed end date; a stop half-way and two more runs end each holder once; the dossier is not erased', async () => {
      clock.set(new Date('2026-11-20T10:00:00Z'));
      const seed = seeds[name];
      await signIn(seed);
      const first = await customerWithLine(seed, { endDate: '2026-11-30', numberFirst: true });
      const second = await customerWithLine(seed, { endDate: '2026-11-30', numberFirst: true });
      const continuing = await customerWithLine(seed, { endDate: '2026-11-30', numberFirst: true });
      await startContract(kernel, seed.tenant, continuing.subjectId, {
        startDate: '2026-12-01',
        lines: [{ productId: seed.product }],
      });
      const auditBefore = (await numberEndAudit(seed.tenant)).length;
      const dossierErasures = async () =>
        (
          await runAsOwner<{ n: number }>(
            database.ownerUrl,
            `select count(*)::int as n from audit_log where tenant_id = $1 and action like 'dossier.erase%'`,
            [seed.tenant.tenantId],
          )
        ).rows[0]?.n;
      const erasuresBefore = await dossierErasures();

      // 00:05 in Brussels on 1 December; the run stops after its first holder.
      clock.set(new Date('2026-11-30T23:05:00Z'));
      const stop = new AbortController();
      const stopping: Logger = pino(
        { level: 'info' },
        {
          write: (line: string) => {
            if (line.includes('number periods ended')) stop.abort();
          },
        },
      );
      const partial = await runNumberEnds(kernel, stopping, seed.tenant.tenantId, stop.signal);
      expect(partial).toEqual({ holders: 1, ended: 1, leftToStaff: 0 });
      const firstEnd = '2026-11-30T23:05:00.000Z';
      expect(await periodEnds(seed.tenant, first.subjectId)).toEqual([firstEnd, firstEnd]);
      expect(await periodEnds(seed.tenant, second.subjectId)).toEqual([null, null]);

      clock.set(new Date('2026-11-30T23:10:00Z'));
      const rest = await runNumberEnds(kernel, logger, seed.tenant.tenantId);
      expect(rest).toEqual({ holders: 2, ended: 1, leftToStaff: 0 });
      const secondEnd = '2026-11-30T23:10:00.000Z';
      expect(await periodEnds(seed.tenant, first.subjectId)).toEqual([firstEnd, firstEnd]);
      expect(await periodEnds(seed.tenant, second.subjectId)).toEqual([secondEnd, secondEnd]);
      expect(await periodEnds(seed.tenant, continuing.subjectId)).toEqual([null, null]);

      clock.set(new Date('2026-12-01T09:00:00Z'));
      expect(await runNumberEnds(kernel, logger, seed.tenant.tenantId)).toEqual({
        holders: 2,
        ended: 0,
        leftToStaff: 0,
      });
      expect(await periodEnds(seed.tenant, second.subjectId)).toEqual([secondEnd, secondEnd]);
      const audited = (await numberEndAudit(seed.tenant)).slice(auditBefore);
      expect(audited).toHaveLength(2);
      expect(audited[0]?.reason).toContain('customer relation ended (agreed end date)');
      expect(await dossierErasures()).toBe(erasuresBefore);
    });

    it('VX-5: of two contracts ended one after the other, the numbers end after the later last day, whichever was terminated first', async () => {
      clock.set(new Date('2026-11-20T10:00:00Z'));
      const seed = seeds[name];
      await signIn(seed);
      const { subjectId, contractId } = await customerWithLine(seed);
      const second = await startContract(kernel, seed.tenant, subjectId, {
        startDate: '2026-11-01',
        lines: [{ productId: seed.product }],
      });
      await terminate(seed, contractId, '2026-12-31');
      expect(await periodEnds(seed.tenant, subjectId)).toEqual([null, null]);
      // The second termination ends the relation, but its own last day is not the relation's.
      await terminate(seed, second, '2026-11-30');
      expect(await periodEnds(seed.tenant, subjectId)).toEqual([JANUARY_FIRST, JANUARY_FIRST]);
    });

    it('VX-5: a relation whose fixed-term contract runs out while a later one is already terminated ends after the later last day, by the daily job', async () => {
      clock.set(new Date('2026-11-20T10:00:00Z'));
      const seed = seeds[name];
      await signIn(seed);
      const { subjectId } = await customerWithLine(seed, { endDate: '2026-11-30', numberFirst: true });
      const later = await startContract(kernel, seed.tenant, subjectId, {
        startDate: '2026-11-01',
        lines: [{ productId: seed.product }],
      });
      await terminate(seed, later, '2026-12-31');
      expect(await periodEnds(seed.tenant, subjectId)).toEqual([null, null]);
      clock.set(new Date('2026-11-30T23:05:00Z'));
      await runNumberEnds(kernel, logger, seed.tenant.tenantId);
      expect(await periodEnds(seed.tenant, subjectId)).toEqual([JANUARY_FIRST, JANUARY_FIRST]);
    });

    it('VX-5: a number or line identifier for a former customer is refused 409 relation_ended naming the last day, and nothing is written; a past period within the relation is recorded, and calls after it are not theirs (attack S23B-2)', async () => {
      clock.set(new Date('2026-11-20T10:00:00Z'));
      const seed = seeds[name];
      await signIn(seed);
      const current = await customerWithLine(seed);
      const former = await createCustomer(kernel, seed.tenant, { familyName: 'Gewezen' });
      const contractId = await startContract(kernel, seed.tenant, former, {
        startDate: '2026-10-01',
        lines: [{ productId: seed.product }],
      });
      await terminate(seed, contractId, '2026-11-15');
      const billing = requestAs(app, seed.billing, 'call_billing');
      const auditBefore = await runAsOwner<{ n: number }>(
        database.ownerUrl,
        'select count(*)::int as n from audit_log where tenant_id = $1',
        [seed.tenant.tenantId],
      );

      // The finding's request (open, from before the last day), and the current holder's number.
      const lastDayEnd = '2026-11-15T23:00:00.000Z';
      for (const [number, from] of [
        [nextLine().national, '2026-11-01'],
        [`0${current.e164.slice(3)}`, '2026-11-18'],
      ] as const) {
        const refused = await billing('POST', '/api/v1/phone-numbers/assignments', {
          number,
          subjectId: former,
          from,
        });
        expect(refused.statusCode, refused.body).toBe(409);
        expect(refused.json()).toMatchObject({
          code: 'relation_ended',
          details: { relationLastDay: '2026-11-15', periodsEndBy: lastDayEnd },
        });
        expect(refused.json<{ detail: string }>().detail).toContain('ended on 2026-11-15');
      }
      const identifier = await billing('POST', '/api/v1/line-identifiers', {
        subjectId: former,
        kind: 'account_code',
        value: nextLine().accountCode,
        from: '2026-11-18',
      });
      expect(identifier.statusCode, identifier.body).toBe(409);
      expect(identifier.json()).toMatchObject({ code: 'relation_ended' });
      // Nothing written: no period for the former customer, the current holder's still open.
      expect(await periodEnds(seed.tenant, former)).toEqual([]);
      expect(await periodEnds(seed.tenant, current.subjectId)).toEqual([null, null]);
      const auditAfter = await runAsOwner<{ n: number }>(
        database.ownerUrl,
        'select count(*)::int as n from audit_log where tenant_id = $1',
        [seed.tenant.tenantId],
      );
      expect(auditAfter.rows[0]?.n).toBe(auditBefore.rows[0]?.n);

      // A period that ends by the relation's end is a record of the past: written as asked.
      const past = nextLine();
      const recorded = await billing('POST', '/api/v1/phone-numbers/assignments', {
        number: past.national,
        subjectId: former,
        from: '2026-11-01',
        to: '2026-11-16',
      });
      expect(recorded.statusCode, recorded.body).toBe(201);
      expect(recorded.json()).toMatchObject({ validTo: lastDayEnd, relationLastDay: null });
      const imported = await importCalls(seed.tenant, [
        answeredCall(`within-${name}`, past.e164, '+32470123456', '2026-11-10 10:00:00', 60),
        answeredCall(`after-${name}`, past.e164, '+32470123456', '2026-11-17 10:00:00', 60),
        answeredCall(`current-${name}`, current.e164, '+32470123456', '2026-11-19 10:00:00', 60),
      ]);
      expect(imported).toMatchObject({ imported: 2, rejected: 1, rejectsByReason: { not_attributed: 1 } });
      const stored = await storedCallers(seed.tenant);
      expect(stored[`within-${name}`]).toBe(former);
      expect(stored[`current-${name}`]).toBe(current.subjectId);
      expect(Object.keys(stored)).not.toContain(`after-${name}`);
    });

    it('VX-5: a number and line identifier given after a termination recorded ahead, or under a fixed-term contract, end at the next Brussels midnight after the last day and the answer says so; the next day’s call is not attributed (attack S23B-2)', async () => {
      clock.set(new Date('2026-11-20T10:00:00Z'));
      const seed = seeds[name];
      await signIn(seed);
      const ahead = await createCustomer(kernel, seed.tenant, { familyName: 'Vooruit' });
      const contractId = await startContract(kernel, seed.tenant, ahead, {
        startDate: '2026-10-01',
        lines: [{ productId: seed.product }],
      });
      // The termination's handler runs now and finds nothing to end.
      await terminate(seed, contractId, '2026-12-31');
      const fixedTerm = await createCustomer(kernel, seed.tenant, { familyName: 'Bepaald' });
      await startContract(kernel, seed.tenant, fixedTerm, {
        startDate: '2026-10-01',
        endDate: '2026-12-31',
        lines: [{ productId: seed.product }],
      });
      const billing = requestAs(app, seed.billing, 'call_billing');
      const lines: Record<string, string> = {};
      for (const subjectId of [ahead, fixedTerm]) {
        const line = nextLine();
        lines[subjectId] = line.e164;
        const number = await billing('POST', '/api/v1/phone-numbers/assignments', {
          number: line.national,
          subjectId,
          from: '2026-11-01',
        });
        expect(number.statusCode, number.body).toBe(201);
        expect(number.json()).toMatchObject({ validTo: JANUARY_FIRST, relationLastDay: '2026-12-31' });
        const identifier = await billing('POST', '/api/v1/line-identifiers', {
          subjectId,
          kind: 'account_code',
          value: line.accountCode,
          from: '2026-11-01',
        });
        expect(identifier.statusCode, identifier.body).toBe(201);
        expect(identifier.json()).toMatchObject({ validTo: JANUARY_FIRST, relationLastDay: '2026-12-31' });
        expect(await periodEnds(seed.tenant, subjectId)).toEqual([JANUARY_FIRST, JANUARY_FIRST]);
      }
      // A period that ends earlier keeps its end; one that would start after the relation is refused.
      const earlier = await billing('POST', '/api/v1/phone-numbers/assignments', {
        number: nextLine().national,
        subjectId: ahead,
        from: '2026-11-01',
        to: '2026-12-15',
      });
      expect(earlier.statusCode, earlier.body).toBe(201);
      expect(earlier.json()).toMatchObject({ validTo: '2026-12-14T23:00:00.000Z', relationLastDay: null });
      const afterwards = await billing('POST', '/api/v1/phone-numbers/assignments', {
        number: nextLine().national,
        subjectId: ahead,
        from: '2027-01-04',
      });
      expect(afterwards.statusCode, afterwards.body).toBe(409);
      expect(afterwards.json()).toMatchObject({
        code: 'relation_ended',
        details: { relationLastDay: '2026-12-31', periodsEndBy: JANUARY_FIRST },
      });

      // 23:30 on 31 December in Brussels is the customer's; 09:00 on 1 January is nobody's.
      clock.set(new Date('2027-01-02T09:00:00Z'));
      const imported = await importCalls(seed.tenant, [
        answeredCall(`ahead-last-${name}`, lines[ahead] ?? '', '+32470123456', '2026-12-31 22:30:00', 60),
        answeredCall(`ahead-next-${name}`, lines[ahead] ?? '', '+32470123456', '2027-01-01 08:00:00', 60),
        answeredCall(`fixed-next-${name}`, lines[fixedTerm] ?? '', '+32470123456', '2027-01-01 08:00:00', 60),
      ]);
      expect(imported).toMatchObject({ imported: 1, rejected: 2, rejectsByReason: { not_attributed: 2 } });
      expect((await storedCallers(seed.tenant))[`ahead-last-${name}`]).toBe(ahead);
    });

    it('VX-5: the daily job also ends the number periods of a former customer whatever the handler missed (a contract recorded after it ran out), audited and logged once; a holder without a contract or with a running one keeps theirs (attack S23B-2)', async () => {
      clock.set(new Date('2026-11-20T10:00:00Z'));
      const seed = seeds[name];
      await signIn(seed);
      // Numbers first (a holder without a contract keeps an open period), then the contracts: one
      // fixed-term contract that ended on 5 November, beyond the run-out pass's seven days.
      const late = await customerWithLine(seed, { endDate: '2026-11-05', numberFirst: true });
      const running = await customerWithLine(seed, { numberFirst: true });
      const { national } = nextLine();
      const prospect = await createCustomer(kernel, seed.tenant, { familyName: 'Zonder' });
      const given = await requestAs(app, seed.billing, 'call_billing')(
        'POST',
        '/api/v1/phone-numbers/assignments',
        {
          number: national,
          subjectId: prospect,
          from: '2026-10-01',
        },
      );
      expect(given.statusCode, given.body).toBe(201);
      expect(await periodEnds(seed.tenant, late.subjectId)).toEqual([null, null]);
      const auditBefore = (await numberEndAudit(seed.tenant)).length;
      logLines.length = 0;

      // 00:05 in Brussels on 21 November.
      clock.set(new Date('2026-11-20T23:05:00Z'));
      expect(await runNumberEnds(kernel, logger, seed.tenant.tenantId)).toEqual({
        holders: 1,
        ended: 1,
        leftToStaff: 0,
      });
      const now = '2026-11-20T23:05:00.000Z';
      expect(await periodEnds(seed.tenant, late.subjectId)).toEqual([now, now]);
      expect(await periodEnds(seed.tenant, running.subjectId)).toEqual([null, null]);
      expect(await periodEnds(seed.tenant, prospect)).toEqual([null]);
      const audited = (await numberEndAudit(seed.tenant)).slice(auditBefore);
      expect(audited).toHaveLength(1);
      expect(audited[0]).toMatchObject({ actor_id: 'contract-end', purpose: 'call_billing', records: 2 });
      expect(audited[0]?.reason).toContain(
        'customer relation ended (daily check: no contract runs or starts later): 1 numbers and 1 line identifiers end 21 Nov 2026 at 00:05',
      );
      expect(logLines.find((line) => line.trigger === 'no_contract')).toMatchObject({
        level: 30,
        numbers: 1,
        identifiers: 1,
        endsAt: now,
      });

      clock.set(new Date('2026-11-21T23:05:00Z'));
      expect(await runNumberEnds(kernel, logger, seed.tenant.tenantId)).toEqual({
        holders: 0,
        ended: 0,
        leftToStaff: 0,
      });
      expect(await periodEnds(seed.tenant, late.subjectId)).toEqual([now, now]);
      expect(await numberEndAudit(seed.tenant)).toHaveLength(auditBefore + 1);
    });
  },
);
