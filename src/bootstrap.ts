import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Kernel } from './kernel/kernel.js';
import { parsePolicy } from './kernel/policy/policy.loader.js';
import type { Logger } from './platform/logger.js';
import { createTenant, listTenants, type Tenant } from './modules/tenants/index.js';
import { createStaffUser } from './modules/staff/index.js';
import { seedDemoData, seedDemoStaff } from './demo/demo-data.js';

export interface FirstRunLogin {
  tenantSlug: string;
  email: string;
  role: string;
  oneTimePassword: string;
}

const BOOTSTRAP_ACTOR = { kind: 'system', job: 'bootstrap' } as const;

/**
 * Creates a tenant from a policy file: name from the policy's controller, slug given or taken
 * from the file name, the policy installed as version 1.
 */
export async function createTenantFromPolicy(kernel: Kernel, file: string, slug?: string): Promise<Tenant> {
  const source = await readFile(file, 'utf8');
  const policy = parsePolicy(source, file);
  const tenant = await createTenant(kernel.db, {
    slug: slug ?? path.basename(file, path.extname(file)),
    name: `${policy.controller.legalName} ${policy.controller.legalForm}`,
  });
  await kernel.policies.install(tenant.tenantId, source, path.relative(process.cwd(), file) || file);
  return tenant;
}

/**
 * On an empty database: one tenant per policy file in the policy folder (the two demo providers
 * `voiceking` and `voxtra`), each with an admin whose one-time password the caller prints once.
 * On any later start it does nothing.
 */
export async function bootstrapFirstRun(
  kernel: Kernel,
  options: { policyDir: string; demoData: boolean },
  logger: Logger,
): Promise<FirstRunLogin[]> {
  if ((await listTenants(kernel.db)).length > 0) return [];
  const policyDir = options.policyDir;
  const files = (await readdir(policyDir)).filter((file) => file.endsWith('.yaml')).sort();
  const logins: FirstRunLogin[] = [];
  for (const file of files) {
    const tenant = await createTenantFromPolicy(kernel, path.join(policyDir, file));
    const admin = await createStaffUser(kernel, tenant.tenantId, BOOTSTRAP_ACTOR, {
      email: `admin@${tenant.slug}.example`,
      displayName: `${tenant.name} administrator`,
      role: 'admin',
    });
    logins.push({
      tenantSlug: tenant.slug,
      email: admin.email,
      role: admin.role,
      oneTimePassword: admin.oneTimePassword,
    });
    logger.info({ tenant: tenant.slug }, 'first run: tenant created from its policy, with an admin');
    if (!options.demoData) continue;
    logins.push(...(await seedDemoStaff(kernel, tenant)));
    const seeded = await seedDemoData(kernel, tenant, tenant.slug, {
      people: 300,
      organisations: 40,
      seed: tenant.tenantId,
    });
    logger.info({ tenant: tenant.slug, ...seeded }, 'first run: demo data created');
  }
  return logins;
}
