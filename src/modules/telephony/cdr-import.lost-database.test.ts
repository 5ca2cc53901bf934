import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { startProxy } from '../../../test/tcp-proxy.js';
import type { Kernel } from '../../kernel/kernel.js';
import { assignNumber } from './number.service.js';
import { importCdrFile } from './cdr-import.service.js';
import { listImports } from './cdr-import-log.js';
import { importTariff } from './tariff.service.js';
import {
  asteriskLine,
  bulkConnection,
  dumpCallRecords,
  registerCustomers,
  TARIFF_CSV,
  TELEPHONY_SERVICE,
  tempDir,
  writeLines,
} from './telephony.test-helpers.js';

let database: TestDatabase;
let kernel: Kernel;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
});
afterAll(async () => database.close());

const call = (sequence: number): string =>
  asteriskLine({
    src: '056223344',
    dst: '0470123456',
    start: `2024-05-20 09:${String(sequence).padStart(2, '0')}:00`,
    answer: `2024-05-20 09:${String(sequence).padStart(2, '0')}:04`,
    end: `2024-05-20 09:${String(sequence).padStart(2, '0')}:14`,
    duration: 14,
    billsec: 10,
    uniqueId: `1716188400.${sequence}`,
    sequence,
  });

describe('CDR import and a lost database (attack S10-2, decision 0626)', () => {
  it('the bulk connection lost mid-import: the import fails cleanly with no uncaught exception, and a retry imports every line once', async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const [customer] = await registerCustomers(kernel, tenant, 1);
    await assignNumber(
      kernel,
      { tenantId: tenant.tenantId, actor: { kind: 'system', job: 'test' }, purpose: TELEPHONY_SERVICE },
      { number: '056 22 33 44', subjectId: customer ?? 0, from: new Date('2024-01-01T00:00:00Z') },
    );
    await importTariff(kernel, tenant.tenantId, TARIFF_CSV);
    // Line 4 is broken: its rejection is the moment the database goes away, between batches.
    const lines = [call(1), call(2), call(3), '"","broken"', call(5), call(6), call(7), call(8)];
    const file = await writeLines(await tempDir(), 'lost.csv', lines);

    const proxy = await startProxy(new URL(database.ownerUrl));
    const throughProxy = new URL(database.ownerUrl);
    throughProxy.hostname = '127.0.0.1';
    throughProxy.port = String(proxy.port);
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => void uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      await expect(
        importCdrFile(
          { kernel, connection: { ...bulkConnection(database), connectionString: throughProxy.toString() } },
          { tenantId: tenant.tenantId, file, batchSize: 1, onReject: () => void proxy.cut() },
        ),
      ).rejects.toThrow();
      // An 'error' emitted late by a dying socket would surface after the import settled.
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      process.off('uncaughtException', onUncaught);
      await proxy.cut().catch(() => undefined);
    }
    expect(uncaught).toEqual([]);
    // The import log names the cause (attack S10-5), not a bare "error".
    const logged = await listImports(kernel, tenant.tenantId, { kind: 'system', job: 'test' }, { limit: 1 });
    expect(logged.items[0]).toMatchObject({ status: 'failed', errorCode: 'database_unavailable' });

    const retry = await importCdrFile(
      { kernel, connection: bulkConnection(database) },
      { tenantId: tenant.tenantId, file, batchSize: 1 },
    );
    expect(retry).toMatchObject({ linesRead: 8, rejected: 1 });
    const stored = await dumpCallRecords(database.ownerUrl, tenant.tenantId);
    expect(stored).toHaveLength(7);
    expect(new Set(stored).size).toBe(7);
  }, 120_000);
});
