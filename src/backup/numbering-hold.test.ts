import { createWriteStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { runAsOwner, type TestDatabase } from '../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../test/http.js';
import { createPolicyTenant } from '../../test/kernel.js';
import type { Kernel } from '../kernel/kernel.js';
import { createCreditNote, runInvoices } from '../modules/billing/index.js';
import {
  billingContext,
  billingPurpose,
  createCustomer,
  prepareTenant,
  startContract,
} from '../modules/billing/billing.test-helpers.js';
import type { Tenant } from '../modules/tenants/index.js';
import { isAppError } from '../platform/errors.js';
import { openBackupWorkspace, type BackupWorkspace } from './backup.test-helpers.js';
import { openArchive } from './restore.js';

let space: BackupWorkspace;
let database: TestDatabase;
let kernel: Kernel;
let tenant: Tenant;
let env: Record<string, string>;
let dir: string;
/** The data backup of June (set by the attack test). */
let older = '';

beforeAll(async () => {
  space = await openBackupWorkspace('kluis-numbering-');
  ({ database, kernel, dir } = space);
  env = space.env(database.ownerUrl);
  tenant = await createPolicyTenant(kernel, 'voxtra');
  const catalogue = await prepareTenant(kernel, tenant);
  for (const name of ['Claes', 'Maes', 'Jacobs']) {
    const id = await createCustomer(kernel, tenant, { familyName: name });
    await startContract(kernel, tenant, id, {
      startDate: '2026-01-01',
      lines: [{ productId: catalogue.subscription }],
    });
  }
});
afterAll(async () => space.close());

/** `kluis invoices run` of a month of 2026, issued on the first of the next. */
function runArgs(month: number): string[] {
  const pad = (n: number) => String(n).padStart(2, '0');
  return [
    'invoices',
    'run',
    '--tenant',
    tenant.slug,
    '--period',
    `2026-${pad(month)}`,
    '--issue-date',
    `2026-${pad(month + 1)}-01`,
    '--calls-purpose',
    'call_billing',
  ];
}

async function numbers(url: string): Promise<string[]> {
  const result = await runAsOwner<{ invoice_number: string }>(
    url,
    'select invoice_number from invoices where tenant_id = $1 order by invoice_number',
    [tenant.tenantId],
  );
  return result.rows.map((row) => row.invoice_number);
}

/** What a refused attempt must leave as it was: documents, lines, counters, holds and the audit log. */
async function state(url: string): Promise<unknown> {
  const result = await runAsOwner(
    url,
    `select (select count(*)::int from invoices where tenant_id = $1) as invoices,
            (select count(*)::int from invoice_lines where tenant_id = $1) as lines,
            (select coalesce(json_agg(json_build_array(series, year, last_number) order by series, year), '[]')
               from invoice_counters where tenant_id = $1) as counters,
            (select count(*)::int from invoice_numbering_holds where tenant_id = $1) as holds,
            (select count(*)::int from audit_log where tenant_id = $1) as audit`,
    [tenant.tenantId],
  );
  return result.rows[0];
}

async function holds(url = database.ownerUrl): Promise<number> {
  const result = await runAsOwner<{ n: number }>(
    url,
    'select count(*)::int as n from invoice_numbering_holds',
  );
  return result.rows[0]?.n ?? -1;
}

async function invoiceId(url: string, invoiceNumber: string): Promise<number> {
  const result = await runAsOwner<{ invoice_id: number }>(
    url,
    'select invoice_id from invoices where tenant_id = $1 and invoice_number = $2',
    [tenant.tenantId, invoiceNumber],
  );
  const id = result.rows[0]?.invoice_id;
  if (id === undefined) throw new Error(`no invoice ${invoiceNumber}`);
  return Number(id);
}

function inject(app: FastifyInstance, session: StaffSession, url: string, payload: unknown) {
  return app.inject({
    method: 'POST',
    url,
    headers: {
      cookie: session.cookie,
      'x-csrf-token': session.csrfToken,
      'x-kluis-purpose': billingPurpose(tenant),
    },
    payload: payload as string,
  });
}

describe('invoice numbering after a data restore (VX-3, decision 1320)', () => {
  it('VX-3: a fresh install (no restore) is never held: nothing is held after migrating, and the first run numbers from 1', async () => {
    expect(await holds()).toBe(0);
    const june = await runCli(runArgs(6), env, 120_000);
    expect(june.stderr).toBe('');
    expect(june.code).toBe(0);
    expect(june.stdout).toContain('2026-06: 3 invoices (F2026-000001 … F2026-000003)');
    expect(await holds()).toBe(0);
  });

  it('VX-3 attack S27-6: after a restore of an older data backup the invoice run (CLI and HTTP) and credit notes are refused 409 invoice_numbering_held with nothing written, until `kluis invoices resume-numbering --last-issued` sets the counters past the numbers already sent; no number is issued twice', async () => {
    // June is billed (F2026-000001…3, the first test): the older data backup. Then July and a
    // credit note, sent to customers, and the backup of that (the installation as it ran at 07:48).
    older = await backupData('older');
    const july = await runCli(runArgs(7), env, 120_000);
    expect(july.code).toBe(0);
    expect(july.stdout).toContain('2026-07: 3 invoices (F2026-000004 … F2026-000006)');
    const credit = await createCreditNote(
      kernel,
      billingContext(tenant),
      await invoiceId(database.ownerUrl, 'F2026-000004'),
      { reasonCode: 'goodwill', amountExclVatCents: 100 },
    );
    expect(credit.invoiceNumber).toBe('C2026-000001');
    const newer = await backupData('newer');
    const sent = await numbers(database.ownerUrl);
    expect(sent).toEqual([
      'C2026-000001',
      'F2026-000001',
      'F2026-000002',
      'F2026-000003',
      'F2026-000004',
      'F2026-000005',
      'F2026-000006',
    ]);

    // The live installation: the newer backup, resumed as it was (nothing issued since).
    const live = await space.emptyDatabase('s27_6');
    const liveEnv = space.env(live);
    const first = await runCli(['restore', '--data', newer], liveEnv, 120_000);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(await holds(live)).toBe(1);
    const asRestored = await runCli(
      ['invoices', 'resume-numbering', '--tenant', tenant.slug, '--none-since-backup'],
      liveEnv,
      120_000,
    );
    expect(asRestored.stderr).toBe('');
    expect(asRestored.code).toBe(0);
    expect(asRestored.stdout).toContain('resumed');
    expect(asRestored.stdout).toContain('counters as restored');
    expect(await holds(live)).toBe(0);
    expect(await numbers(live)).toEqual(sent);

    // The README's restore of the OLDER data over it, with the key store in use.
    const restored = await runCli(['restore', '--force', '--data', older], liveEnv, 120_000);
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    const held = restored.stdout.split('\n').filter((line) => line.startsWith('invoice numbering held'));
    expect(held).toHaveLength(1);
    expect(held[0]).toContain(`tenant ${tenant.slug}: the data are those of a backup made at `);
    expect(held[0]).toContain(`kluis invoices resume-numbering --tenant ${tenant.slug} --last-issued`);
    expect(await numbers(live)).toEqual(['F2026-000001', 'F2026-000002', 'F2026-000003']);
    expect(await holds(live)).toBe(1);
    const liveKernel = space.kernelOn(live);
    try {
      await refusedThenResumed(live, liveEnv, liveKernel.kernel, sent);
    } finally {
      await liveKernel.close();
    }
  });

  it('VX-3: a data archive made before the holds existed (no migration 1320) is restored with its schema brought forward in the same transaction, and holds numbering all the same', async () => {
    expect(older).not.toBe('');
    const beforeHolds = await archiveWithoutHolds(older);
    const target = await space.emptyDatabase('pre_1320');
    const targetEnv = space.env(target);
    const restored = await runCli(['restore', '--data', beforeHolds], targetEnv, 120_000);
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(/^invoice numbering held for tenant /m);
    expect(await holds(target)).toBe(1);
    const run = await runCli(runArgs(7), targetEnv, 120_000);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('invoice numbering is held (invoice_numbering_held)');
    expect(await numbers(target)).toEqual(['F2026-000001', 'F2026-000002', 'F2026-000003']);
  });
});

/** A copy of a data archive as Kluis wrote it before migration 1320: no holds table, no 1320. */
async function archiveWithoutHolds(file: string): Promise<string> {
  const archive = await openArchive(file);
  const copy = path.join(dir, 'before-1320.zip');
  try {
    const zip = new yazl.ZipFile();
    const written = pipeline(zip.outputStream, createWriteStream(copy));
    const tables = archive.manifest.tables.filter((table) => table.name !== 'invoice_numbering_holds');
    expect(tables).toHaveLength(archive.manifest.tables.length - 1);
    for (const entry of tables) {
      const chunks: Buffer[] = [];
      for await (const chunk of await archive.open(entry.entry)) chunks.push(chunk as Buffer);
      zip.addBuffer(Buffer.concat(chunks), entry.entry);
    }
    const migrations = archive.manifest.migrations.filter((migration) => migration.version !== 1320);
    const manifest = {
      ...archive.manifest,
      tables,
      migrations,
      migrationLevel: Math.max(...migrations.map((migration) => migration.version)),
    };
    zip.addBuffer(Buffer.from(JSON.stringify(manifest)), 'manifest.json');
    zip.end();
    await written;
  } finally {
    archive.close();
  }
  return copy;
}

async function backupData(name: string): Promise<string> {
  const out = path.join(dir, name);
  const backup = await runCli(['backup', '--only', 'data', '--out', out], env, 120_000);
  expect(backup.stderr).toBe('');
  expect(backup.code).toBe(0);
  const archives = await readdir(out);
  expect(archives).toHaveLength(1);
  return path.join(out, archives[0] ?? '');
}

/** After the older restore: every way to take a number refused, then resumed past the numbers sent. */
async function refusedThenResumed(
  live: string,
  liveEnv: Record<string, string>,
  kernel: Kernel,
  sent: readonly string[],
): Promise<void> {
  // The CLI run is refused, and says why and what to do.
  const before = await state(live);
  const cliRun = await runCli(runArgs(7), liveEnv, 120_000);
  expect(cliRun.code).toBe(1);
  expect(cliRun.stdout).toBe('');
  expect(cliRun.stderr).toContain('invoice numbering is held (invoice_numbering_held)');
  expect(cliRun.stderr).toContain('the data were restored from a backup made at ');
  expect(cliRun.stderr).toContain(`kluis invoices resume-numbering --tenant ${tenant.slug}`);
  expect(await state(live)).toEqual(before);

  // The service the API calls: the same refusal, for a run and for a credit note.
  for (const attempt of [
    () => runInvoices(kernel, billingContext(tenant), { period: '2026-07', callsPurpose: 'call_billing' }),
    async () =>
      createCreditNote(kernel, billingContext(tenant), await invoiceId(live, 'F2026-000001'), {
        reasonCode: 'goodwill',
      }),
  ]) {
    const refusal = await attempt().then(
      () => null,
      (error: unknown) => error,
    );
    expect(isAppError(refusal) && refusal.code).toBe('conflict');
    expect(isAppError(refusal) && refusal.details).toMatchObject({ reason: 'invoice_numbering_held' });
  }
  expect(await state(live)).toEqual(before);

  // Over HTTP: 409 with the stable reason, for the run and a credit note; nothing written.
  const app = await createTestApp(kernel);
  try {
    const clerk = await loginAs(app, kernel, tenant, 'billing');
    const beforeHttp = await state(live);
    const httpRun = await inject(app, clerk, '/api/v1/invoice-runs', {
      period: '2026-07',
      callsPurpose: 'call_billing',
    });
    expect(httpRun.statusCode).toBe(409);
    expect(httpRun.json()).toMatchObject({ code: 'conflict', details: { reason: 'invoice_numbering_held' } });
    expect(httpRun.json<{ detail: string }>().detail).toContain('kluis invoices resume-numbering');
    const httpCredit = await inject(
      app,
      clerk,
      `/api/v1/invoices/${await invoiceId(live, 'F2026-000001')}/credit-notes`,
      { reasonCode: 'goodwill', amountExclVatCents: 100 },
    );
    expect(httpCredit.statusCode).toBe(409);
    expect(httpCredit.json()).toMatchObject({
      code: 'conflict',
      details: { reason: 'invoice_numbering_held' },
    });
    expect(await state(live)).toEqual(beforeHttp);
  } finally {
    await app.close();
  }

  // Resume: one of the two ways is required; then the counters go to the last numbers sent.
  const neither = await runCli(['invoices', 'resume-numbering', '--tenant', tenant.slug], liveEnv, 120_000);
  expect(neither.code).toBe(1);
  expect(neither.stderr).toContain('give --last-issued <number>');
  expect(await holds(live)).toBe(1);
  const resumed = await runCli(
    [
      'invoices',
      'resume-numbering',
      '--tenant',
      tenant.slug,
      '--last-issued',
      'F2026-000006',
      '--last-issued',
      'C2026-000001',
    ],
    liveEnv,
    120_000,
  );
  expect(resumed.stderr).toBe('');
  expect(resumed.code).toBe(0);
  expect(resumed.stdout).toContain(`invoice numbering of ${tenant.slug} resumed`);
  expect(resumed.stdout).toContain('F2026: 3 -> 6; next F2026-000007');
  expect(resumed.stdout).toContain('C2026: 0 -> 1; next C2026-000002');
  expect(await holds(live)).toBe(0);
  const audit = await runAsOwner<{ actor_kind: string; actor_id: string; reason: string }>(
    live,
    `select actor_kind, actor_id, reason from audit_log
        where tenant_id = $1 and action = 'billing.numbering.resume'`,
    [tenant.tenantId],
  );
  expect(audit.rows).toEqual([
    {
      actor_kind: 'system',
      actor_id: 'cli',
      reason: 'numbering resumed after a data restore: last issued given for F2026, C2026',
    },
  ]);

  // July again, and a credit note: after the numbers already sent, none of them twice.
  const again = await runCli(runArgs(7), liveEnv, 120_000);
  expect(again.stderr).toBe('');
  expect(again.code).toBe(0);
  expect(again.stdout).toContain('2026-07: 3 invoices (F2026-000007 … F2026-000009)');
  const secondCredit = await createCreditNote(
    kernel,
    billingContext(tenant),
    await invoiceId(live, 'F2026-000007'),
    { reasonCode: 'goodwill', amountExclVatCents: 100 },
  );
  expect(secondCredit.invoiceNumber).toBe('C2026-000002');
  const now = await numbers(live);
  const restoredOnly = ['F2026-000001', 'F2026-000002', 'F2026-000003'];
  expect(now.filter((number) => !restoredOnly.includes(number) && sent.includes(number))).toEqual([]);

  // Lifted once: a second resume says there is nothing to resume.
  const twice = await runCli(
    ['invoices', 'resume-numbering', '--tenant', tenant.slug, '--none-since-backup'],
    liveEnv,
    120_000,
  );
  expect(twice.code).toBe(1);
  expect(twice.stderr).toContain('invoice numbering of this tenant is not held; nothing changed');
}
