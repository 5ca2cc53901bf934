import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KLUIS_BIN, ROOT, runCli } from '../../../test/cli.js';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant } from '../../../test/kernel.js';
import { createKernel, type Kernel } from '../../kernel/kernel.js';
import { LocalKeyManagementService } from '../../kernel/keyring/kms.js';
import { systemClock } from '../../platform/clock.js';
import type { Tenant } from '../tenants/index.js';
import { parseCdrStream, type CallRecord } from './cdr.parse.js';
import { generateNumbers, generateTariffCsv, writeAsteriskTraffic } from './fixtures/asterisk-generator.js';
import { assignNumber } from './number.service.js';
import { importTariff } from './tariff.service.js';
import { findCallRecords } from './call-record.service.js';
import { recordParentalConsent } from '../parties/index.js';
import {
  asteriskLine,
  registerCustomers,
  TARIFF_CSV,
  TELEPHONY_SERVICE,
  tempDir,
} from './telephony.test-helpers.js';
import { sharedPath } from '../../../test/shared.js';

const REAL_SAMPLE = sharedPath('cdr-samples', 'asterisk-21col-real.csv');

interface Setup {
  database: TestDatabase;
  kernel: Kernel;
  env: Record<string, string>;
}

const setups: Setup[] = [];
let dir: string;

async function createSetup(): Promise<Setup> {
  const database = await createTestDatabase();
  const masterKey = randomBytes(32);
  const kernel = createKernel({
    db: database.db,
    keystore: database.keystore,
    kms: new LocalKeyManagementService(masterKey),
    clock: systemClock,
  });
  const env = {
    DATABASE_URL: database.ownerUrl,
    KLUIS_KEYSTORE_URL: database.keystoreOwnerUrl,
    KLUIS_MASTER_KEY: masterKey.toString('base64'),
    KLUIS_DATA_DIR: path.join(dir, `data-${database.name}`),
  };
  const setup = { database, kernel, env };
  setups.push(setup);
  return setup;
}

beforeAll(async () => {
  dir = await tempDir();
});
afterAll(async () => {
  for (const setup of setups) await setup.database.close();
});

async function countRows(database: TestDatabase, tenantId: number): Promise<number> {
  const result = await runAsOwner<{ n: number }>(
    database.ownerUrl,
    'select count(*)::int as n from call_records where tenant_id = $1',
    [tenantId],
  );
  return result.rows[0]?.n ?? 0;
}

function parseSummary(stdout: string): {
  lines: number;
  imported: number;
  rejected: number;
  duplicates: number;
} {
  const match = /(\d+) lines read: (\d+) imported, (\d+) rejected, (\d+) skipped as duplicates/.exec(stdout);
  if (!match) throw new Error(`no summary in: ${stdout}`);
  return {
    lines: Number(match[1]),
    imported: Number(match[2]),
    rejected: Number(match[3]),
    duplicates: Number(match[4]),
  };
}

describe('kluis cdr import (VX-5)', () => {
  it('VX-5: the real 21-column Asterisk sample through the CLI: calls from assigned numbers attribute, the rest are rejected with line and reason, counts add up', async () => {
    const { database, kernel, env } = await createSetup();
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const [a, b] = (await registerCustomers(kernel, tenant, 2)) as [number, number];
    const file = path.join(dir, 'asterisk-21col-real.csv');
    await copyFile(REAL_SAMPLE, file);

    // The sample is a Russian PBX: national numbers like 8 924 …, so the import is told the country.
    const assignA = await runCli(
      [
        'numbers',
        'assign',
        '--tenant',
        tenant.slug,
        '--number',
        '89245555937',
        '--country',
        'RU',
        '--subject',
        String(a),
        '--from',
        '2024-01-01',
      ],
      env,
    );
    expect(assignA.stderr).toBe('');
    expect(assignA.stdout).toContain('+79245555937 assigned to subject');
    const assignB = await runCli(
      [
        'numbers',
        'assign',
        '--tenant',
        tenant.slug,
        '--number',
        '+7 983 335 05 45',
        '--subject',
        String(b),
        '--from',
        '2024-01-01',
        '--contract',
        'RU-2',
      ],
      env,
    );
    expect(assignB.code).toBe(0);
    const tariff = path.join(dir, 'ru-tariff.csv');
    await writeFile(
      tariff,
      'prefix,price_per_minute,minimum_seconds,increment_seconds,connection_fee,valid_from,valid_to\n7,0.02,0,60,0,2020-01-01,\n',
    );
    expect((await runCli(['tariff', 'import', '--tenant', tenant.slug, tariff], env)).stdout).toContain(
      'tariff imported: 1 rate(s)',
    );

    const result = await runCli(
      ['cdr', 'import', '--tenant', tenant.slug, '--country', 'RU', '--time-zone', 'UTC', file],
      env,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = parseSummary(result.stdout);

    // What the file says, read independently: lines from the two numbers to a dialled extension.
    const held = new Set(['89245555937', '89833350545']);
    const records: CallRecord[] = [];
    for await (const item of parseCdrStream(createReadStream(file), { timeZone: 'UTC' }))
      if (item.kind === 'record') records.push(item);
    const expected = records.filter((r) => held.has(r.callerRaw) && /^[0-9*#+]+$/.test(r.destinationRaw));
    expect(expected.length).toBeGreaterThan(5);
    expect(summary).toEqual({
      lines: 84,
      imported: expected.length,
      rejected: 84 - expected.length,
      duplicates: 0,
    });
    expect(await countRows(database, tenant.tenantId)).toBe(expected.length);

    const rejectLines = (await readFile(`${file}.rejects.csv`, 'utf8')).trim().split('\n').slice(1);
    expect(rejectLines).toHaveLength(84 - expected.length);
    const reasons = new Set(rejectLines.map((line) => line.split(',')[1]));
    expect(reasons).toEqual(new Set(['not_attributed', 'destination_not_normalisable']));
    expect(result.stdout).toContain(`rejects: ${file}.rejects.csv`);

    const attributed = await runAsOwner<{ subject_id: number; caller_e164: string; n: number }>(
      database.ownerUrl,
      'select subject_id, caller_e164, count(*)::int as n from call_records where tenant_id = $1 group by 1, 2 order by 1',
      [tenant.tenantId],
    );
    expect(attributed.rows.map((row) => [row.subject_id, row.caller_e164])).toEqual([
      [a, '+79245555937'],
      [b, '+79833350545'],
    ]);
    const rated = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      "select count(*)::int as n from call_records where tenant_id = $1 and disposition = 'answered' and is_billable_leg and billable_seconds > 0 and destination like '+%' and cost_micros is null",
      [tenant.tenantId],
    );
    expect(rated.rows[0]?.n).toBe(0);

    const again = await runCli(
      ['cdr', 'import', '--tenant', tenant.slug, '--country', 'RU', '--time-zone', 'UTC', file],
      env,
    );
    expect(parseSummary(again.stdout)).toEqual({
      lines: 84,
      imported: 0,
      rejected: 84 - expected.length,
      duplicates: expected.length,
    });
  });

  it('VX-5: a layout that does not fit is refused with a message and exit code 1', async () => {
    const { kernel, env } = await createSetup();
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const file = path.join(dir, 'not-a-cdr.csv');
    await writeFile(file, 'a,b,c\n1,2,3\n');
    const result = await runCli(['cdr', 'import', '--tenant', tenant.slug, file], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('line 1 has 3 columns');
  });

  it("VX-14: a customer who asked for restriction does not stop the tenant's call-record import: everyone's calls are imported, theirs kept as stored (Art. 18(2)), and reading theirs stays refused (attack S19, decision 0892)", async () => {
    const { database, kernel, env } = await createSetup();
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const [open, restricted] = (await registerCustomers(kernel, tenant, 2)) as [number, number];
    const context = {
      tenantId: tenant.tenantId,
      actor: { kind: 'system' as const, job: 'test' },
      purpose: TELEPHONY_SERVICE,
    };
    await assignNumber(kernel, context, {
      number: '056 22 33 44',
      subjectId: open,
      from: new Date('2024-01-01T00:00:00Z'),
    });
    await assignNumber(kernel, context, {
      number: '056 22 33 55',
      subjectId: restricted,
      from: new Date('2024-01-01T00:00:00Z'),
    });
    await importTariff(kernel, tenant.tenantId, TARIFF_CSV);
    await runAsOwner(
      database.ownerUrl,
      'update data_subjects set restricted_at = now() where tenant_id = $1 and subject_id = $2',
      [tenant.tenantId, restricted],
    );
    const call = (src: string, sequence: number) =>
      asteriskLine({
        src,
        dst: '0470123456',
        start: '2024-05-10 10:00:00',
        answer: '2024-05-10 10:00:05',
        end: '2024-05-10 10:01:10',
        duration: 70,
        billsec: 65,
        uniqueId: `1715328000.${sequence}`,
        sequence,
      });
    const file = path.join(dir, 'restricted-holder.csv');
    await writeFile(file, `${[call('056223344', 1), call('056223355', 2)].join('\n')}\n`);

    const result = await runCli(['cdr', 'import', '--tenant', tenant.slug, file], env);
    expect(result.code, result.stderr).toBe(0);
    expect(parseSummary(result.stdout)).toMatchObject({ lines: 2, imported: 2, rejected: 0 });
    const rows = await runAsOwner<{ subject_id: string; cost_micros: string | null }>(
      database.ownerUrl,
      'select subject_id::text, cost_micros::text from call_records where tenant_id = $1 order by subject_id',
      [tenant.tenantId],
    );
    expect(rows.rows.map((row) => Number(row.subject_id))).toEqual([open, restricted].sort((a, b) => a - b));
    expect(rows.rows.every((row) => row.cost_micros !== null)).toBe(true);

    const billing = {
      tenantId: tenant.tenantId,
      actor: { kind: 'staff' as const, staffId: 1, role: 'billing' },
      purpose: 'call_billing',
    };
    const window = { from: new Date('2024-01-01T00:00:00Z'), to: new Date('2025-01-01T00:00:00Z') };
    await expect(
      findCallRecords(kernel, billing, { ...window, subjectId: restricted }),
    ).rejects.toMatchObject({
      code: 'subject_restricted',
    });
    const trail = await runAsOwner<{ action: string; decision: string }>(
      database.ownerUrl,
      "select action, decision from audit_log where tenant_id = $1 and actor_id = 'cdr-import' order by seq",
      [tenant.tenantId],
    );
    expect(trail.rows).toContainEqual({ action: 'store', decision: 'allowed' });
  });

  it("VK-15: a holder recorded as a minor without a parent's consent after getting the number does not stop the call-record import: everyone's calls are imported, theirs kept as stored and not read until a parent consents (decision 0904)", async () => {
    const { database, kernel, env } = await createSetup();
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const [open, minor] = (await registerCustomers(kernel, tenant, 2)) as [number, number];
    const context = {
      tenantId: tenant.tenantId,
      actor: { kind: 'system' as const, job: 'test' },
      purpose: TELEPHONY_SERVICE,
    };
    await assignNumber(kernel, context, {
      number: '056 22 33 44',
      subjectId: open,
      from: new Date('2024-01-01T00:00:00Z'),
    });
    await assignNumber(kernel, context, {
      number: '056 22 33 66',
      subjectId: minor,
      from: new Date('2024-01-01T00:00:00Z'),
    });
    await importTariff(kernel, tenant.tenantId, TARIFF_CSV);
    // Recorded as a minor (under 16 for years to come) after the number was given; no parent consented.
    await runAsOwner(
      database.ownerUrl,
      "update data_subjects set minor_until = current_date + interval '5 years', parental_consent_at = null where tenant_id = $1 and subject_id = $2",
      [tenant.tenantId, minor],
    );
    const call = (src: string, sequence: number) =>
      asteriskLine({
        src,
        dst: '0470123456',
        start: '2024-05-10 10:00:00',
        answer: '2024-05-10 10:00:05',
        end: '2024-05-10 10:01:10',
        duration: 70,
        billsec: 65,
        uniqueId: `1715328000.${sequence}`,
        sequence,
      });
    const file = path.join(dir, 'minor-holder.csv');
    await writeFile(file, `${[call('056223344', 1), call('056223366', 2)].join('\n')}\n`);

    const result = await runCli(['cdr', 'import', '--tenant', tenant.slug, file], env);
    expect(result.code, result.stderr).toBe(0);
    expect(parseSummary(result.stdout)).toMatchObject({ lines: 2, imported: 2, rejected: 0 });
    const rows = await runAsOwner<{ subject_id: string }>(
      database.ownerUrl,
      'select subject_id::text from call_records where tenant_id = $1 order by subject_id',
      [tenant.tenantId],
    );
    expect(rows.rows.map((row) => Number(row.subject_id))).toEqual([open, minor].sort((a, b) => a - b));

    const billing = {
      tenantId: tenant.tenantId,
      actor: { kind: 'staff' as const, staffId: 1, role: 'billing' },
      purpose: 'call_billing',
    };
    const window = { from: new Date('2024-01-01T00:00:00Z'), to: new Date('2025-01-01T00:00:00Z') };
    await expect(findCallRecords(kernel, billing, { ...window, subjectId: minor })).rejects.toMatchObject({
      code: 'consent_missing',
    });
    const trail = await runAsOwner<{ action: string; decision: string; reason: string | null }>(
      database.ownerUrl,
      "select action, decision, reason from audit_log where tenant_id = $1 and actor_id = 'cdr-import' order by seq",
      [tenant.tenantId],
    );
    expect(trail.rows).toContainEqual({ action: 'store', decision: 'allowed', reason: null });
    expect(trail.rows).toContainEqual(
      expect.objectContaining({ decision: 'denied', reason: 'minor_without_parental_consent' }),
    );

    // A parent consents: the kept calls are the customer's like anyone's.
    await recordParentalConsent(
      kernel,
      {
        tenantId: tenant.tenantId,
        actor: { kind: 'staff', staffId: 1, role: 'sales' },
        purpose: 'age_verification',
      },
      minor,
      { relation: 'parent', verificationMethod: 'id_card_seen_in_shop' },
    );
    await expect(findCallRecords(kernel, billing, { ...window, subjectId: minor })).resolves.toHaveLength(1);
  });

  it("VX-14: a tariff re-rate leaves a restricted customer's calls alone and re-rates everyone else's; `kluis cdr rerate` says how many calls of how many customers it left and why, each refusal audited (decision 0903)", async () => {
    const { database, kernel, env } = await createSetup();
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const [open, restricted] = (await registerCustomers(kernel, tenant, 2)) as [number, number];
    const context = {
      tenantId: tenant.tenantId,
      actor: { kind: 'system' as const, job: 'test' },
      purpose: TELEPHONY_SERVICE,
    };
    await assignNumber(kernel, context, {
      number: '056 22 33 44',
      subjectId: open,
      from: new Date('2024-01-01T00:00:00Z'),
    });
    await assignNumber(kernel, context, {
      number: '056 22 33 55',
      subjectId: restricted,
      from: new Date('2024-01-01T00:00:00Z'),
    });
    await importTariff(kernel, tenant.tenantId, TARIFF_CSV);
    const call = (src: string, sequence: number) =>
      asteriskLine({
        src,
        dst: '0470123456',
        start: '2024-05-10 10:00:00',
        answer: '2024-05-10 10:00:05',
        end: '2024-05-10 10:01:10',
        duration: 70,
        billsec: 65,
        uniqueId: `1715328000.${sequence}`,
        sequence,
      });
    const file = path.join(dir, 'rerate-restricted.csv');
    // The restricted customer's calls sit before and after the other's, so a batch holds both.
    await writeFile(
      file,
      `${[call('056223355', 1), call('056223344', 2), call('056223355', 3), call('056223344', 4)].join('\n')}\n`,
    );
    const imported = await runCli(['cdr', 'import', '--tenant', tenant.slug, file], env);
    expect(imported.code, imported.stderr).toBe(0);
    const costs = async () =>
      new Map(
        (
          await runAsOwner<{ subject_id: string; cost: string }>(
            database.ownerUrl,
            'select subject_id::text, sum(cost_micros)::text as cost from call_records where tenant_id = $1 group by subject_id',
            [tenant.tenantId],
          )
        ).rows.map((row) => [Number(row.subject_id), Number(row.cost)]),
      );
    const before = await costs();
    await runAsOwner(
      database.ownerUrl,
      'update data_subjects set restricted_at = now() where tenant_id = $1 and subject_id = $2',
      [tenant.tenantId, restricted],
    );
    await importTariff(kernel, tenant.tenantId, TARIFF_CSV.replace('3247,0.12,', '3247,0.24,'));

    const result = await runCli(
      ['cdr', 'rerate', '--tenant', tenant.slug, '--from', '2024-05-01', '--to', '2024-06-01'],
      env,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('re-rated 2 call(s): 2 changed');
    expect(result.stdout).toContain(
      'left alone 2 call(s) of 1 customer(s) the gate refused (subject_restricted',
    );
    const after = await costs();
    expect(after.get(restricted)).toBe(before.get(restricted));
    expect(after.get(open)).toBeGreaterThan(before.get(open) ?? Infinity);
    const trail = await runAsOwner<{ decision: string; reason: string | null }>(
      database.ownerUrl,
      `select decision, reason from audit_log
        where tenant_id = $1 and actor_id = 'cdr-rerate' order by seq`,
      [tenant.tenantId],
    );
    expect(trail.rows).toContainEqual(
      expect.objectContaining({ decision: 'denied', reason: 'subject_restricted' }),
    );
    expect(trail.rows).toContainEqual(expect.objectContaining({ decision: 'allowed' }));
  });

  it(
    'VX-5: an import killed with SIGKILL half-way and run again ends with exactly the rows of one clean run',
    { timeout: 240_000 },
    async () => {
      const callers = generateNumbers(300, 101);
      const destinations = generateNumbers(3_000, 202, 0.2);
      const file = path.join(dir, 'large.csv');
      await writeAsteriskTraffic(file, {
        rows: 60_000,
        callers: callers.slice(0, 290),
        destinations,
        start: new Date('2024-04-20T00:00:00Z'),
        days: 20,
      });
      const tariffCsv = generateTariffCsv(500, destinations);

      async function prepare(setup: Setup): Promise<{ tenant: Tenant; subjects: number[] }> {
        const tenant = await createPolicyTenant(setup.kernel, 'voxtra');
        const subjects = await registerCustomers(setup.kernel, tenant, callers.length);
        const context = {
          tenantId: tenant.tenantId,
          actor: { kind: 'system' as const, job: 'test' },
          purpose: TELEPHONY_SERVICE,
        };
        for (const [index, caller] of callers.entries()) {
          await assignNumber(setup.kernel, context, {
            number: caller.e164,
            subjectId: subjects[index] ?? 0,
            from: new Date('2024-01-01T00:00:00Z'),
          });
        }
        await importTariff(setup.kernel, tenant.tenantId, tariffCsv);
        return { tenant, subjects };
      }
      async function dump(setup: Setup, tenant: Tenant, subjects: number[]): Promise<string[]> {
        const position = new Map(subjects.map((id, index) => [id, index]));
        const result = await runAsOwner<Record<string, unknown>>(
          setup.database.ownerUrl,
          'select * from call_records where tenant_id = $1 order by started_at, dedup_key',
          [tenant.tenantId],
        );
        return result.rows.map((row) =>
          JSON.stringify({ ...row, tenant_id: null, subject_id: position.get(Number(row.subject_id)) }),
        );
      }

      const killed = await createSetup();
      const { tenant, subjects } = await prepare(killed);
      const args = ['cdr', 'import', '--tenant', tenant.slug, '--batch-size', '2000', file];
      const child = spawn(process.execPath, [KLUIS_BIN, ...args], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', TZ: 'UTC', KLUIS_LOG_LEVEL: 'warn', ...killed.env },
        stdio: 'ignore',
      });
      const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
      let landed = 0;
      while (landed === 0) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        landed = await countRows(killed.database, tenant.tenantId);
      }
      child.kill('SIGKILL');
      await exited;
      const afterKill = await countRows(killed.database, tenant.tenantId);
      expect(afterKill).toBeGreaterThan(0);

      const rerun = await runCli(args, killed.env, 180_000);
      expect(rerun.code).toBe(0);
      const resumed = parseSummary(rerun.stdout);
      expect(resumed.lines).toBe(60_000);
      expect(resumed.imported + resumed.rejected + resumed.duplicates).toBe(resumed.lines);
      expect(resumed.duplicates).toBe(afterKill);
      // the kill really came half-way: the rerun still had work to do
      expect(resumed.imported).toBeGreaterThan(0);

      const clean = await createSetup();
      const cleanTenant = await prepare(clean);
      const cleanRun = await runCli(
        ['cdr', 'import', '--tenant', cleanTenant.tenant.slug, file],
        clean.env,
        180_000,
      );
      const once = parseSummary(cleanRun.stdout);
      expect(once).toMatchObject({
        lines: 60_000,
        imported: afterKill + resumed.imported,
        rejected: resumed.rejected,
        duplicates: 0,
      });
      // Every generated caller holds its number, so nothing is rejected.
      expect(once.rejected).toBe(0);

      const killedRows = await dump(killed, tenant, subjects);
      const cleanRows = await dump(clean, cleanTenant.tenant, cleanTenant.subjects);
      expect(killedRows.length).toBe(once.imported);
      expect(killedRows).toEqual(cleanRows);
    },
  );
});
