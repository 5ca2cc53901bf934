import type { TenantTables } from '../modules/tenants/tenant.tables.js';
import type { StaffTables } from '../modules/staff/staff.tables.js';

/** The typed shape of the whole database, composed from each module's own tables. */
export interface Database extends TenantTables, StaffTables {}
