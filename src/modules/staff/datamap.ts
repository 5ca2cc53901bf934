import type { TableDataMap } from '../../kernel/datamap/datamap.js';

// Staff are people too. Their accounts are declared here and in both policies (subject type
// `staff`, purpose `staff_accounts`); they are erased when the account is removed, not through
// the customers' rights requests.
export const staffDataMap: TableDataMap[] = [
  {
    table: 'staff_users',
    module: 'staff',
    subjectColumn: 'subject_id',
    erasure: { kind: 'delete_rows' },
    personal: {
      email: { category: 'user.contact.email' },
      display_name: { category: 'user.name' },
      password_hash: { category: 'user.authorization.credentials' },
    },
    notPersonal: {
      tenant_id: 'tenant key',
      staff_id: 'internal staff id',
      subject_id: 'internal subject id',
      role: 'policy role key',
      must_change_password: 'account state',
      status: 'account state',
      created_at: 'row bookkeeping',
    },
  },
];
