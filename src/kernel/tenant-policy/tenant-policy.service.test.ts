import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, installLaterVoiceKingVersion } from '../../../test/kernel.js';
import { createKernel, type Kernel } from '../kernel.js';
import { LocalKeyManagementService } from '../keyring/kms.js';
import { systemClock } from '../../platform/clock.js';
import { randomBytes } from 'node:crypto';

let database: TestDatabase;
let kernel: Kernel;

beforeAll(async () => {
  database = await createTestDatabase();
  // No cache: every read goes to the table, as a request does once the short cache has expired.
  kernel = createKernel({
    db: database.db,
    keystore: database.keystore,
    kms: new LocalKeyManagementService(randomBytes(32)),
    clock: systemClock,
    policyCacheMs: 0,
  });
}, 60_000);
afterAll(async () => {
  await database.close();
});

describe('TenantPolicyStore#current', () => {
  it('reads the version in force each time, parsing its source only when it is a new one (decision 0660)', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    const first = await kernel.policies.current(tenant.tenantId);
    const again = await kernel.policies.current(tenant.tenantId);
    expect(again.versionNo).toBe(1);
    // The same version: its parsed policy is reused, not parsed again.
    expect(again.policy).toBe(first.policy);
    await installLaterVoiceKingVersion(kernel, tenant, 'voiceking-2026.3.yaml');
    const later = await kernel.policies.current(tenant.tenantId);
    expect(later).toMatchObject({ versionNo: 2, statementVersion: '2026.3' });
    expect(later.policy).not.toBe(first.policy);
    expect(later.policy.statement.version).toBe('2026.3');
    // Another tenant on the same seed has its own version in force.
    const other = await createPolicyTenant(kernel, 'voiceking');
    expect((await kernel.policies.current(other.tenantId)).policy.statement.version).toBe('2026.2');
  });
});
