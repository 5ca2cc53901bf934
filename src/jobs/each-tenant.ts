import type { Kernel } from '../kernel/kernel.js';
import type { Tenant } from '../modules/tenants/index.js';
import { describeUnexpected } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';

/**
 * Runs one job's work for every tenant in turn (decision 0625). A tenant whose work fails (a bare
 * tenant with no policy yet, say) is logged with its id, slug and the error's kind, never the
 * error's message, and the tenants after it still run. If any failed, the run throws at the end,
 * naming their slugs, so the queue records the run as failed and retries it; the work of each job
 * is claimed or idempotent, so the retry redoes nothing for the tenants that succeeded.
 */
export async function forEachTenant(
  kernel: Kernel,
  logger: Logger,
  job: string,
  work: (tenant: Tenant) => Promise<void>,
): Promise<void> {
  const failed: string[] = [];
  for (const tenant of await kernel.tenants.list()) {
    try {
      await work(tenant);
    } catch (error) {
      failed.push(tenant.slug);
      logger.error(
        { job, tenantId: tenant.tenantId, tenant: tenant.slug, err: describeUnexpected(error) },
        'job failed for this tenant; the other tenants go on',
      );
    }
  }
  if (failed.length > 0) throw new Error(`${job} failed for tenants: ${failed.join(', ')}`);
}
