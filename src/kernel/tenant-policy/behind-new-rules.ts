import type { Kernel } from '../kernel.js';
import { checkNewVersionRules, formatPath } from '../policy/index.js';

export interface PolicyBehindNewRules {
  slug: string;
  versionNo: number;
  /** Each broken rule as `path: message`. */
  issues: string[];
}

/**
 * The tenants whose policy in force was installed before a rule new versions must follow: it
 * stays in force (a running tenant is not taken down at an upgrade, decision 0871), and the server
 * names them at its start so the operator installs a corrected version.
 */
export async function policiesBehindNewRules(kernel: Kernel): Promise<PolicyBehindNewRules[]> {
  const behind: PolicyBehindNewRules[] = [];
  for (const tenant of await kernel.tenants.list()) {
    const inForce = await kernel.policies.current(tenant.tenantId).catch(() => undefined);
    if (!inForce) continue;
    const issues = checkNewVersionRules(inForce.policy).map(
      (issue) => `${formatPath(issue.path)}: ${issue.message}`,
    );
    if (issues.length > 0) behind.push({ slug: tenant.slug, versionNo: inForce.versionNo, issues });
  }
  return behind;
}
