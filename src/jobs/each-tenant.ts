import type { Kernel } from '../kernel/kernel.js';
import type { Tenant } from '../modules/tenants/index.js';
import { describeUnexpected, isAppError } from '../platform/errors.js';
import { JobRunFailure } from '../platform/job-failure-log.js';
import type { Logger } from '../platform/logger.js';

/** What the run's one failure line says of a tenant (decision 0700). */
interface TenantFailure {
  tenant: string;
  tenantId: number;
  /** The AppError's code, the SQLSTATE or system code, else the error's type. */
  code: string;
  /** An unexpected error only (no AppError): its kind, code and stack lines, never its message. */
  err?: Record<string, unknown>;
}

/**
 * Runs one job's work for every tenant in turn (decision 0625). A tenant whose work fails (a bare
 * tenant with no policy yet, say) does not stop the tenants after it. If any failed, the run
 * throws at the end a `JobRunFailure` whose message names their slugs, and whose log fields name
 * each with its error code (decision 0700): the queue logs one line for the run, records it as
 * failed and retries it; the work of each job is claimed or idempotent, so the retry redoes
 * nothing for the tenants that succeeded. Nothing is logged per tenant here (`logger` at debug).
 */
export async function forEachTenant(
  kernel: Kernel,
  logger: Logger,
  job: string,
  work: (tenant: Tenant) => Promise<void>,
  /** A stop: the tenants not yet reached wait for the next run (decision 0836). */
  stopping?: AbortSignal,
): Promise<void> {
  const failed: TenantFailure[] = [];
  for (const tenant of await kernel.tenants.list()) {
    if (stopping?.aborted) break;
    try {
      await work(tenant);
    } catch (error) {
      const failure = describeTenantFailure(tenant, error);
      failed.push(failure);
      logger.debug({ job, ...failure }, 'job failed for this tenant; the other tenants go on');
    }
  }
  if (failed.length === 0) return;
  throw new JobRunFailure(
    `${job} failed for tenants: ${failed.map((failure) => failure.tenant).join(', ')}`,
    { tenants: failed },
    failed.map((failure) => `${failure.tenant}:${failure.code}`).join(','),
  );
}

function describeTenantFailure(tenant: Tenant, error: unknown): TenantFailure {
  const base = { tenant: tenant.slug, tenantId: tenant.tenantId };
  if (isAppError(error)) return { ...base, code: error.code };
  const err = describeUnexpected(error);
  return { ...base, code: typeof err.code === 'string' ? err.code : String(err.type), err };
}
