import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fixedClock, systemClock, type Clock } from '../src/platform/clock.js';
import { chainPendingEntries } from '../src/kernel/audit/audit.service.js';
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

/**
 * A later policy version for a VoiceKing tenant: the seed policy as version 2026.3, its statement
 * in force from 2027-01-01, installed from `sourceFile` (the name the versions list shows).
 */
export async function installLaterVoiceKingVersion(
  kernel: Kernel,
  tenant: Tenant,
  sourceFile: string,
): Promise<void> {
  const source = await readFile(path.join(ROOT, 'policies', 'voiceking.yaml'), 'utf8');
  await kernel.policies.install(
    tenant.tenantId,
    source
      .replace(/^  version: '[^']+'$/m, "  version: '2026.3'")
      .replace(/^  effectiveDate: '[^']+'$/m, "  effectiveDate: '2027-01-01'"),
    sourceFile,
  );
}

/**
 * Links the pending audit entries of a tenant (or of every tenant) into the chain, as every
 * reader of the chain does first (decision 0480): a gated read writes its entry to audit_pending
 * and returns before the chain run, so a test that reads audit_log directly calls this first.
 */
export async function chainPendingAudit(kernel: Kernel, tenantId?: number): Promise<void> {
  const { audit } = kernelCore(kernel);
  const tenantIds =
    tenantId === undefined ? (await kernel.tenants.list()).map((t) => t.tenantId) : [tenantId];
  for (const id of tenantIds) await chainPendingEntries(audit, id);
}
