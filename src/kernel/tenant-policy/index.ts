export { TenantPolicyStore, type TenantPolicy, type InstalledPolicy } from './tenant-policy.service.js';
export type { TenantPolicyTables } from './tenant-policy.tables.js';
export { policiesBehindNewRules, type PolicyBehindNewRules } from './behind-new-rules.js';
