import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../test/kernel.js';
import type { Tenant } from '../modules/tenants/index.js';
import { systemClock } from '../platform/clock.js';
import { createAppDb } from '../platform/db.js';
import { runInIdempotentScope } from './idempotent-commits.js';
import { LocalKeyManagementService } from './keyring/kms.js';
import { createKernel, type Kernel } from './kernel.js';

// One connection, so each transaction below runs on the connection the one before it used:
// PostgreSQL's per-transaction counts then still hold the earlier transaction's changes.
let database: TestDatabase;
let closeOne: () => Promise<void>;
let kernel: Kernel;
let tenant: Tenant;

beforeAll(async () => {
  database = await createTestDatabase();
  const { db } = createAppDb({
    connectionString: database.ownerUrl,
    assumeAppRole: true,
    logger: testLogger,
    max: 1,
  });
  closeOne = () => db.destroy();
  kernel = createKernel({
    db,
    keystore: database.keystore,
    kms: new LocalKeyManagementService(randomBytes(32)),
    clock: systemClock,
  });
  tenant = await createPolicyTenant(createTestKernel(database), 'voxtra');
});
afterAll(async () => {
  await closeOne();
  await database.close();
});

async function keyState(key: string): Promise<string | undefined> {
  const rows = await runAsOwner<{ state: string }>(
    database.ownerUrl,
    'select state from idempotency_keys where tenant_id = $1 and idempotency_key = $2',
    [tenant.tenantId, key],
  );
  return rows.rows[0]?.state;
}

describe('which commits of an idempotent request spend its key (decision 0522)', () => {
  it('a commit that changes no row leaves the key pending, even right after another transaction on the same connection changed rows; a commit that changes a row marks it committed', async () => {
    const key = 'audit-only-then-change';
    await kernel.plain(tenant.tenantId, (tx) =>
      tx
        .insertInto('idempotency_keys')
        .values({
          tenant_id: tenant.tenantId,
          idempotency_key: key,
          fingerprint: Buffer.alloc(32),
          state: 'pending',
          created_at: new Date(),
        })
        .execute(),
    );
    // Outside the request, on the same connection: a change whose counts are not flushed yet.
    await kernel.plain(tenant.tenantId, (tx) =>
      tx
        .insertInto('mail_settings')
        .values({ tenant_id: tenant.tenantId, from_address: 'a@voxtra.example', updated_at: new Date() })
        .execute(),
    );
    // The request's first transaction changes nothing (a read; an audit entry at most).
    await runInIdempotentScope(tenant.tenantId, key, () =>
      kernel.plain(tenant.tenantId, (tx) => tx.selectFrom('mail_settings').select('from_address').execute()),
    );
    expect(await keyState(key)).toBe('pending');
    await runInIdempotentScope(tenant.tenantId, key, () =>
      kernel.plain(tenant.tenantId, (tx) =>
        tx.updateTable('mail_settings').set({ rate_per_second: 7 }).execute(),
      ),
    );
    expect(await keyState(key)).toBe('committed');
  });
});
