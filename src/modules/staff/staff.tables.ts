import type { ColumnType, Generated } from 'kysely';

export interface StaffUsersTable {
  tenant_id: number;
  staff_id: Generated<number>;
  subject_id: number | null;
  email: string;
  display_name: string;
  role: string;
  password_hash: string;
  must_change_password: Generated<boolean>;
  status: Generated<'active' | 'disabled'>;
  created_at: ColumnType<Date, never, never>;
}

export interface StaffTables {
  staff_users: StaffUsersTable;
}
