import type { ColumnType } from 'kysely';

export interface TenantPoliciesTable {
  tenant_id: number;
  version_no: number;
  statement_version: string;
  effective_date: ColumnType<string, string, never>;
  source_file: string;
  source_yaml: string;
  source_sha256: string;
  loaded_at: ColumnType<Date, Date | undefined, never>;
}

export interface TenantPolicyTables {
  tenant_policies: TenantPoliciesTable;
}
