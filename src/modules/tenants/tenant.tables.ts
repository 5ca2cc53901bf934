import type { ColumnType, Generated } from 'kysely';

export interface TenantsTable {
  tenant_id: Generated<number>;
  slug: string;
  name: string;
  created_at: ColumnType<Date, never, never>;
}

export interface TenantTables {
  tenants: TenantsTable;
}
