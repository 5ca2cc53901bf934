export {
  createStaffUser,
  issueOneTimePassword,
  countStaffUsers,
  hashPassword,
  listStaff,
  getStaff,
  changeStaff,
  removeStaff,
  resetStaffPassword,
  STAFF_CATEGORIES,
  STAFF_PURPOSE,
  type CreatedStaffUser,
  type CreateStaffInput,
  type StaffChange,
  type StaffView,
} from './staff.service.js';
export { mfaRequiredRoles, roleRequiresMfa, staffAdminRoles } from './staff.policy.js';
export { createApiToken, listApiTokens, revokeApiToken } from './token.service.js';
export { registerStaffRoutes } from './staff.routes.js';
export type { StaffTables } from './staff.tables.js';
export { staffDataMap } from './datamap.js';
export { unlockStaff } from './unlock.service.js';
export { selectStaffContact as readStaffContactUnderGrant } from './account.repository.js';
export { STAFF_LOGIN_LIMITS } from './login-limits.js';
