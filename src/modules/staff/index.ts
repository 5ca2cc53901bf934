export {
  createStaffUser,
  countStaffUsers,
  hashPassword,
  STAFF_PURPOSE,
  type CreatedStaffUser,
  type CreateStaffInput,
} from './staff.service.js';
export type { StaffTables } from './staff.tables.js';
export { staffDataMap } from './datamap.js';
