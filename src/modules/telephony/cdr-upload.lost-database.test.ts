import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { throughProxy } from '../../../test/proxied-kernel.js';
import { startProxy, type TcpProxy } from '../../../test/tcp-proxy.js';
import { runCdrUploads } from '../../jobs/cdr-upload.job.js';
import type { Actor } from '../../kernel/gate/gate.js';
import { createKernel, type Kernel } from '../../kernel/kernel.js';
import { LocalKeyManagementService } from '../../kernel/keyring/kms.js';
import { systemClock } from '../../platform/clock.js';
import { createAppDb } from '../../platform/db.js';
import type { Tenant } from '../tenants/index.js';
import { listImports } from './cdr-import-log.js';
import { acceptUpload } from './cdr-upload.service.js';
import { assignNumber } from './number.service.js';
import {
  answeredCall,
  bulkConnection,
  registerCustomers,
  TELEPHONY_SERVICE,
  tempDir,
} from './telephony.test-helpers.js';

let database: TestDatabase;
let kernel: Kernel;
const masterKey = randomBytes(32);
const SYSTEM: Actor = { kind: 'system', job: 'test' };

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, systemClock, masterKey);
}, 60_000);
afterAll(async () => database.close());

async function customerTenant(): Promise<Tenant> {
  const tenant = await createPolicyTenant(kernel, 'voxtra');
  const [customer] = await registerCustomers(kernel, tenant, 1);
  await assignNumber(
    kernel,
    { tenantId: tenant.tenantId, actor: SYSTEM, purpose: TELEPHONY_SERVICE },
    { number: '056 22 33 44', subjectId: customer ?? 0, from: new Date('2024-01-01T00:00:00Z') },
  );
  return tenant;
}

/** Nine lines: eight calls of the customer and, on line 4, a stranger's call (rejected). */
function uploadLines(prefix: string): string[] {
  const lines = Array.from({ length: 9 }, (_, index) =>
    answeredCall(`${prefix}.${index}`, '056223344', '0470123456', `2024-06-04 10:0${index}:00`, 60),
  );
  lines[3] = answeredCall(`${prefix}.x`, '056999999', '0470123456', '2024-06-04 10:30:00', 60);
  return lines;
}

async function upload(tenant: Tenant, spoolDir: string, lines: readonly string[]): Promise<number> {
  const { importId } = await acceptUpload(
    kernel,
    tenant.tenantId,
    SYSTEM,
    { spoolDir, maxBytes: 1024 * 1024 },
    {
      fileName: 'cut.csv',
      format: 'auto',
      body: Readable.from([`${lines.join('\n')}\n`]),
      declaredBytes: null,
    },
  );
  return importId;
}

const ownerCount = async (sql: string, params: unknown[]): Promise<number> =>
  (await runAsOwner<{ n: number }>(database.ownerUrl, sql, params)).rows[0]?.n ?? -1;
const storedCalls = (tenant: Tenant): Promise<number> =>
  ownerCount('select count(*)::int as n from call_records where tenant_id = $1', [tenant.tenantId]);
const distinctCalls = (tenant: Tenant): Promise<number> =>
  ownerCount('select count(distinct dedup_key)::int as n from call_records where tenant_id = $1', [
    tenant.tenantId,
  ]);
const keptRejects = (tenant: Tenant, importId: number): Promise<number> =>
  ownerCount(
    'select count(*)::int as n from call_record_import_rejects where tenant_id = $1 and import_id = $2',
    [tenant.tenantId, importId],
  );
const importStatus = async (tenant: Tenant, importId: number): Promise<string | undefined> =>
  (
    await runAsOwner<{ status: string }>(
      database.ownerUrl,
      'select status from call_record_imports where tenant_id = $1 and import_id = $2',
      [tenant.tenantId, importId],
    )
  ).rows[0]?.status;

/**
 * A proxy in front of the database that cuts it (or freezes it: nothing passes, nothing closes)
 * when the bulk connection sends the second batch's count of committed rows: the first batch
 * (3 rows) is committed, the second is not.
 */
async function proxyCutAtSecondBatch(
  how: 'cut' | 'freeze' = 'cut',
): Promise<{ proxy: TcpProxy; url: string }> {
  let counted = 0;
  const proxy: TcpProxy = await startProxy(new URL(database.ownerUrl), {
    watch: (data) => {
      if (!data.includes('"committed_rows" = "committed_rows"') || (counted += 1) !== 2) return;
      if (how === 'cut') void proxy.cut();
      else proxy.freeze();
    },
  });
  return { proxy, url: throughProxy(database.ownerUrl, proxy) };
}

/** The upload ended as if never cut: every line once, its reject kept, its spool file gone. */
async function expectFinishedOnce(tenant: Tenant, importId: number, spoolDir: string): Promise<void> {
  const listed = await listImports(kernel, tenant.tenantId, SYSTEM, { limit: 1, importId });
  expect(listed.items[0]).toMatchObject({
    status: 'finished',
    errorCode: null,
    linesRead: 9,
    imported: 8,
    duplicates: 0,
    rejected: 1,
  });
  expect(await storedCalls(tenant)).toBe(8);
  expect(await distinctCalls(tenant)).toBe(8);
  expect(await keptRejects(tenant, importId)).toBe(1);
  expect(await readdir(spoolDir)).toEqual([]);
}

/**
 * The cut run left the first batch's 3 calls and the import queued with its spool file (not failed
 * as database_unavailable: the log could be written); the next run ends it as if never cut.
 */
async function expectQueuedThenFinishedOnce(
  tenant: Tenant,
  importId: number,
  spoolDir: string,
): Promise<void> {
  expect(await storedCalls(tenant)).toBe(3);
  expect(await importStatus(tenant, importId)).toBe('queued');
  expect(await readdir(spoolDir)).toHaveLength(1);

  await runCdrUploads({ kernel, connection: bulkConnection(database), spoolDir, batchSize: 3 }, testLogger);
  await expectFinishedOnce(tenant, importId, spoolDir);
}

describe('an uploaded import whose database is lost half-way (attack S11-5, decision 0675)', () => {
  it('VX-5: the bulk connection lost after the first batch: the import goes back to queued with its spool file, and the next run ends it finished with every line imported once', async () => {
    const tenant = await customerTenant();
    const spoolDir = await tempDir();
    const importId = await upload(tenant, spoolDir, uploadLines('b'));
    const { proxy, url } = await proxyCutAtSecondBatch();
    try {
      await expect(
        runCdrUploads(
          {
            kernel,
            connection: { ...bulkConnection(database), connectionString: url },
            spoolDir,
            batchSize: 3,
          },
          testLogger,
        ),
      ).rejects.toThrow(/cdr-uploads failed for tenants/);
    } finally {
      await proxy.cut();
    }
    await expectQueuedThenFinishedOnce(tenant, importId, spoolDir);
  }, 120_000);

  it('VX-5: the whole database lost after the first batch (nothing can be recorded): the spool file stays, and once the database is back the next run ends the import finished with every line imported once', async () => {
    const tenant = await customerTenant();
    const spoolDir = await tempDir();
    const importId = await upload(tenant, spoolDir, uploadLines('w'));
    const { proxy, url } = await proxyCutAtSecondBatch();
    // The kernel's pool goes through the proxy too: the failure cannot be put on record.
    const { db } = createAppDb({ connectionString: url, assumeAppRole: true, logger: testLogger, max: 4 });
    const cutKernel = createKernel({
      db,
      keystore: database.keystore,
      kms: new LocalKeyManagementService(masterKey),
      clock: systemClock,
    });
    const settings = {
      kernel: cutKernel,
      connection: { ...bulkConnection(database), connectionString: url },
      spoolDir,
      batchSize: 3,
    };
    try {
      await expect(runCdrUploads(settings, testLogger)).rejects.toThrow(/cdr-uploads failed for tenants/);
      expect(await storedCalls(tenant)).toBe(3);
      // As the attack found it: still running. Before the fix the spool was gone here, and the
      // next run failed the import as upload_lost with five calls never imported.
      expect(await importStatus(tenant, importId)).toBe('running');
      expect(await readdir(spoolDir)).toHaveLength(1);

      await proxy.restore();
      await runCdrUploads(settings, testLogger);
    } finally {
      await proxy.cut();
      await db.destroy();
    }
    await expectFinishedOnce(tenant, importId, spoolDir);
  }, 120_000);

  it('VX-5 (decision 0703): the database stops answering after the first batch without closing its connections: the run ends once the connection was silent for its limit, the import goes back to queued with its spool file, and the next run ends it finished with every line imported once', async () => {
    const tenant = await customerTenant();
    const spoolDir = await tempDir();
    const importId = await upload(tenant, spoolDir, uploadLines('f'));
    const { proxy, url } = await proxyCutAtSecondBatch('freeze');
    try {
      await expect(
        runCdrUploads(
          {
            kernel,
            connection: { ...bulkConnection(database), connectionString: url, silenceMs: 1000 },
            spoolDir,
            batchSize: 3,
          },
          testLogger,
        ),
      ).rejects.toThrow(/cdr-uploads failed for tenants/);
    } finally {
      // The frozen sessions end (the server rolls back what they held), as when the database returns.
      await proxy.cut();
    }
    await expectQueuedThenFinishedOnce(tenant, importId, spoolDir);
  }, 120_000);
});
