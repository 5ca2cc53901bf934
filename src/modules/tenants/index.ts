export {
  createTenant,
  findTenantBySlug,
  findTenantById,
  listTenants,
  tenantSlugSchema,
  type Tenant,
  type CreateTenantInput,
} from './tenant.service.js';
export type { TenantTables } from './tenant.tables.js';
