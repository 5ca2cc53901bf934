export {
  createStaffUser,
  countStaffUsers,
  hashPassword,
  type CreatedStaffUser,
  type CreateStaffInput,
} from './staff.service.js';
export type { StaffTables } from './staff.tables.js';
