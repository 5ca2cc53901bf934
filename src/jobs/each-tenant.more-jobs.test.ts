import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../test/kernel.js';
import { startSmtpSink, type SmtpSink } from '../../test/smtp.js';
import type { Actor } from '../kernel/gate/gate.js';
import { kernelCore, type Kernel } from '../kernel/kernel.js';
import { sealLetter } from '../kernel/letters/index.js';
import {
  billingContext,
  contractPurpose,
  prepareTenant,
  startContract,
  SYSTEM,
} from '../modules/billing/billing.test-helpers.js';
import { runInvoices } from '../modules/billing/index.js';
import { createMailing, queueMailing } from '../modules/consent/index.js';
import { DATA_MAP } from '../modules/data-map.js';
import { createPerson } from '../modules/parties/index.js';
import { acceptUpload } from '../modules/telephony/cdr-upload.service.js';
import { assignNumber } from '../modules/telephony/number.service.js';
import {
  answeredCall,
  bulkConnection,
  registerCustomers,
  TELEPHONY_SERVICE,
  tempDir,
} from '../modules/telephony/telephony.test-helpers.js';
import { createTenant, type Tenant } from '../modules/tenants/index.js';
import { auditCheckpointJob } from './audit-checkpoint.job.js';
import { runCdrUploads } from './cdr-upload.job.js';
import { dunningJob } from './dunning.job.js';
import { letterSenderJob } from './letter-sender.job.js';
import { mailingSenderJob } from './mailing-sender.job.js';

// Decision 0640 named five jobs without a failing-tenant test (decision 0702). As in
// each-tenant.jobs.test.ts: a bare tenant comes first (the lowest id), then a tenant whose work
// fails (its database work refused), then the tenant whose work must still be done. A bare tenant
// fails only the jobs that read its policy when it has nothing to do: the mailing sender.

let database: TestDatabase;
let kernel: Kernel;
let smtp: SmtpSink;
/** A tenant created bare (`kluis tenant create` without `--policy`): its policy cannot be read. */
let bare: Tenant;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  smtp = await startSmtpSink();
  bare = await createTenant(kernelCore(kernel).db, {
    slug: `bare-${randomBytes(4).toString('hex')}`,
    name: 'Bare',
  });
}, 120_000);
afterAll(async () => {
  vi.restoreAllMocks();
  await smtp?.close();
  await database?.close();
});

/** The run's outcome: 'succeeded' or the message it failed with. */
async function outcomeOf(run: () => Promise<void>): Promise<string> {
  return run().then(
    () => 'succeeded',
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
}

/**
 * Runs `work` while every tenant transaction of `failing` is refused as a lost connection would
 * refuse it (SQLSTATE 57P01): that tenant's work fails, whatever it is.
 */
async function whileTenantFails<T>(failing: Tenant, work: () => Promise<T>): Promise<T> {
  const refused = (): Promise<never> =>
    Promise.reject(Object.assign(new Error('terminating connection'), { code: '57P01' }));
  const plain = kernel.plain.bind(kernel);
  const transact = kernel.transact.bind(kernel);
  const plainSpy = vi
    .spyOn(kernel, 'plain')
    .mockImplementation((tenantId, fn) => (tenantId === failing.tenantId ? refused() : plain(tenantId, fn)));
  const transactSpy = vi
    .spyOn(kernel, 'transact')
    .mockImplementation((tenantId, fn) =>
      tenantId === failing.tenantId ? refused() : transact(tenantId, fn),
    );
  try {
    return await work();
  } finally {
    plainSpy.mockRestore();
    transactSpy.mockRestore();
  }
}

/** Two tenants of a seed policy after the bare one: the one that fails, and the later one. */
async function failingAndLater(seed: 'voxtra' | 'voiceking'): Promise<[Tenant, Tenant]> {
  const failing = await createPolicyTenant(kernel, seed);
  const later = await createPolicyTenant(kernel, seed);
  expect(bare.tenantId).toBeLessThan(failing.tenantId);
  expect(failing.tenantId).toBeLessThan(later.tenantId);
  return [failing, later];
}

const deps = () => ({
  kernel,
  mailer: smtp.mailer,
  publicUrl: 'https://jobs.example',
  dataMap: DATA_MAP,
  logger: testLogger,
});

async function customer(tenant: Tenant, email: string): Promise<number> {
  const person = await createPerson(
    kernel,
    { tenantId: tenant.tenantId, actor: SYSTEM, purpose: contractPurpose(tenant) },
    {
      subjectType: 'customer',
      familyName: 'Later',
      givenName: 'Lou',
      email,
      address: { street: 'Veldstraat 1', postalCode: '9000', city: 'Gent', country: 'BE' },
      // Voiceking's order processing keeps the language its letters are written in.
      ...(tenant.slug.startsWith('voiceking') ? { preferredLanguage: 'nl' } : {}),
    },
  );
  return person.subjectId;
}

describe('one tenant failing does not stop these jobs for the tenants after it (decisions 0640, 0702)', () => {
  it('VK-17: the mailing sender sends a later tenant’s queued mailing although a bare tenant and a failing tenant come before it; the run names both', async () => {
    const [failing, later] = await failingAndLater('voxtra');
    const mailings: Array<[Tenant, string]> = [];
    for (const tenant of [failing, later]) {
      const email = `reader.${tenant.slug}@mail.example`;
      await customer(tenant, email);
      const context = {
        tenantId: tenant.tenantId,
        actor: { kind: 'staff', staffId: 1, role: 'sales' } as const,
        purpose: 'personalised_info',
      };
      const mailing = await createMailing(kernel, context, {
        texts: { nl: { subject: `Nieuws van ${tenant.slug}`, body: 'Hallo.' } },
      });
      await queueMailing(kernel, context, mailing.mailingId);
      mailings.push([tenant, email]);
    }
    const job = mailingSenderJob(deps());
    expect(await whileTenantFails(failing, () => outcomeOf(() => job.run()))).toBe(
      `mailing-sender failed for tenants: ${bare.slug}, ${failing.slug}`,
    );
    expect(smtp.to(`reader.${later.slug}@mail.example`).map((mail) => mail.subject)).toEqual([
      `Nieuws van ${later.slug}`,
    ]);
    expect(smtp.to(`reader.${failing.slug}@mail.example`)).toEqual([]);
  }, 300_000);

  it('the letter sender sends a later tenant’s letter although a failing tenant comes before it (a bare tenant is no failure: it has no letters); the run names the failing tenant', async () => {
    const [failing, later] = await failingAndLater('voxtra');
    for (const tenant of [failing, later])
      await kernel.plain(tenant.tenantId, (tx) =>
        sealLetter(
          kernel,
          tx,
          { to: `letter.${tenant.slug}@mail.example`, subject: `Brief ${tenant.slug}`, text: 'Hallo.' },
          {
            tenantId: tenant.tenantId,
            purpose: 'rights_requests',
            kind: 'test.letter',
            messageDomain: 'jobs.example',
          },
        ),
      );
    const job = letterSenderJob(kernel, smtp.mailer, testLogger);
    expect(await whileTenantFails(failing, () => outcomeOf(() => job.run()))).toBe(
      `letter-sender failed for tenants: ${failing.slug}`,
    );
    expect(smtp.to(`letter.${later.slug}@mail.example`).map((mail) => mail.subject)).toEqual([
      `Brief ${later.slug}`,
    ]);
    expect(smtp.to(`letter.${failing.slug}@mail.example`)).toEqual([]);
  }, 300_000);

  it('VX-3: dunning sends a later tenant’s first reminder although a failing tenant comes before it (a bare tenant is no failure: it has no invoices); the run names the failing tenant', async () => {
    const [failing, later] = await failingAndLater('voiceking');
    for (const tenant of [failing, later]) {
      const catalogue = await prepareTenant(kernel, tenant);
      const subjectId = await customer(tenant, `payer.${tenant.slug}@mail.example`);
      await startContract(kernel, tenant, subjectId, {
        startDate: '2025-01-01',
        lines: [{ productId: catalogue.subscription }],
      });
      // Long overdue on any day this test runs: due 3 March 2025.
      await runInvoices(kernel, billingContext(tenant), {
        period: '2025-01',
        issueDate: '2025-02-01',
        callsPurpose: 'call_billing',
      });
    }
    const job = dunningJob({
      kernel,
      mailer: smtp.mailer,
      publicUrl: 'https://jobs.example',
      logger: testLogger,
    });
    expect(await whileTenantFails(failing, () => outcomeOf(() => job.run()))).toBe(
      `dunning failed for tenants: ${failing.slug}`,
    );
    expect(smtp.to(`payer.${later.slug}@mail.example`).map((mail) => mail.subject)).toEqual([
      expect.stringMatching(/^Herinnering: factuur /),
    ]);
    expect(smtp.to(`payer.${failing.slug}@mail.example`)).toEqual([]);
  }, 300_000);

  it('VX-5: the upload job imports a later tenant’s waiting upload although a failing tenant comes before it (a bare tenant is no failure: it has no uploads); the run names the failing tenant', async () => {
    const [failing, later] = await failingAndLater('voxtra');
    const spoolDir = await tempDir();
    const actor: Actor = { kind: 'system', job: 'test' };
    const imports = new Map<number, number>();
    for (const tenant of [failing, later]) {
      const [subjectId] = await registerCustomers(kernel, tenant, 1);
      await assignNumber(
        kernel,
        { tenantId: tenant.tenantId, actor, purpose: TELEPHONY_SERVICE },
        { number: '056 22 33 44', subjectId: subjectId ?? 0, from: new Date('2024-01-01T00:00:00Z') },
      );
      const lines = [0, 1, 2].map((index) =>
        answeredCall(`${tenant.slug}.${index}`, '056223344', '0470123456', `2024-06-04 10:0${index}:00`, 60),
      );
      const { importId } = await acceptUpload(
        kernel,
        tenant.tenantId,
        actor,
        { spoolDir, maxBytes: 1024 * 1024 },
        {
          fileName: 'calls.csv',
          format: 'auto',
          body: Readable.from([`${lines.join('\n')}\n`]),
          declaredBytes: null,
        },
      );
      imports.set(tenant.tenantId, importId);
    }
    const settings = { kernel, connection: bulkConnection(database), spoolDir, batchSize: 100 };
    expect(await whileTenantFails(failing, () => outcomeOf(() => runCdrUploads(settings, testLogger)))).toBe(
      `cdr-uploads failed for tenants: ${failing.slug}`,
    );
    const statusOf = async (tenant: Tenant) =>
      (
        await runAsOwner<{ status: string; calls: number }>(
          database.ownerUrl,
          `select i.status, (select count(*)::int from call_records c where c.tenant_id = i.tenant_id) as calls
             from call_record_imports i where i.tenant_id = $1 and i.import_id = $2`,
          [tenant.tenantId, imports.get(tenant.tenantId)],
        )
      ).rows[0];
    expect(await statusOf(later)).toEqual({ status: 'finished', calls: 3 });
    expect(await statusOf(failing)).toEqual({ status: 'queued', calls: 0 });
    // The failing tenant's file waits for the next run; the later tenant's is gone.
    expect(await readdir(spoolDir)).toHaveLength(1);
  }, 300_000);

  it('the audit checkpoint signs a later tenant’s chain head although the checkpoint write fails for a tenant before it (a bare tenant is no failure: an empty chain is not signed); the run names the failing tenant', async () => {
    const [failing, later] = await failingAndLater('voxtra');
    for (const tenant of [failing, later]) await customer(tenant, `audited.${tenant.slug}@mail.example`);
    const checkpoints = async (tenant: Tenant): Promise<number> =>
      (
        await runAsOwner<{ n: number }>(
          database.ownerUrl,
          'select count(*)::int as n from audit_checkpoints where tenant_id = $1',
          [tenant.tenantId],
        )
      ).rows[0]?.n ?? -1;
    // The checkpoint's write is refused for the failing tenant (its database work, as a lost
    // connection refuses it); the audit's own connection does not go through the kernel's pool.
    await runAsOwner(
      database.ownerUrl,
      `create function refuse_checkpoint() returns trigger language plpgsql as $$
         begin raise exception 'terminating connection' using errcode = '57P01'; end $$;
       create trigger refuse_checkpoint before insert on audit_checkpoints for each row
         when (new.tenant_id = ${String(failing.tenantId)}) execute function refuse_checkpoint()`,
    );
    try {
      const job = auditCheckpointJob(kernel, testLogger);
      expect(await outcomeOf(() => job.run())).toBe(`audit-checkpoint failed for tenants: ${failing.slug}`);
    } finally {
      await runAsOwner(
        database.ownerUrl,
        'drop trigger refuse_checkpoint on audit_checkpoints; drop function refuse_checkpoint()',
      );
    }
    expect(await checkpoints(later)).toBeGreaterThan(0);
    expect(await checkpoints(failing)).toBe(0);
    expect(await checkpoints(bare)).toBe(0);
  }, 300_000);
});
