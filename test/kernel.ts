import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fixedClock, systemClock, type Clock } from '../src/platform/clock.js';
import { createKernel, kernelCore, type Kernel } from '../src/kernel/kernel.js';
import { LocalKeyManagementService } from '../src/kernel/keyring/kms.js';
import { createTenant, type Tenant } from '../src/modules/tenants/index.js';
import { ROOT } from './cli.js';
import type { TestDatabase } from './database.js';

export { fixedClock };

/** A kernel on a test database with its own master key (random unless a child process shares it). */
export function createTestKernel(
  database: TestDatabase,
  clock: Clock = systemClock,
  masterKey: Buffer = randomBytes(32),
): Kernel {
  return createKernel({
    db: database.db,
    keystore: database.keystore,
    kms: new LocalKeyManagementService(masterKey),
    clock,
  });
}

export type SeedPolicy = 'voiceking' | 'voxtra';

/** A fresh tenant (unique slug) with one of the seed policies installed. */
export async function createPolicyTenant(kernel: Kernel, policy: SeedPolicy): Promise<Tenant> {
  const slug = `${policy}-${randomBytes(4).toString('hex')}`;
  const tenant = await createTenant(kernelCore(kernel).db, { slug, name: policy });
  const file = path.join(ROOT, 'policies', `${policy}.yaml`);
  await kernel.policies.install(tenant.tenantId, await readFile(file, 'utf8'), `policies/${policy}.yaml`);
  return tenant;
}
