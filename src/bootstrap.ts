import type { Db } from './platform/db.js';
import type { Logger } from './platform/logger.js';
import { createTenant, listTenants } from './modules/tenants/index.js';
import { createStaffUser } from './modules/staff/index.js';

export interface FirstRunLogin {
  tenantSlug: string;
  email: string;
  role: string;
  oneTimePassword: string;
}

/** The demo controllers `npm start` creates on an empty database (their policies ship in policies/). */
export const DEMO_TENANTS = [
  { slug: 'voiceking', name: 'VoiceKing CVBA', adminEmail: 'admin@voiceking.example' },
  { slug: 'voxtra', name: 'Voxtra bvba', adminEmail: 'admin@voxtra.example' },
] as const;

/**
 * On an empty database: creates the demo tenants with an admin each and returns the logins,
 * which the caller prints once. On any later start it does nothing.
 */
export async function bootstrapFirstRun(db: Db, logger: Logger): Promise<FirstRunLogin[]> {
  if ((await listTenants(db)).length > 0) return [];
  const logins: FirstRunLogin[] = [];
  for (const demo of DEMO_TENANTS) {
    const tenant = await createTenant(db, { slug: demo.slug, name: demo.name });
    const admin = await createStaffUser(db, tenant.tenantId, {
      email: demo.adminEmail,
      displayName: `${demo.name} administrator`,
      role: 'admin',
    });
    logins.push({
      tenantSlug: tenant.slug,
      email: admin.email,
      role: admin.role,
      oneTimePassword: admin.oneTimePassword,
    });
    logger.info({ tenant: tenant.slug }, 'first run: tenant and admin created');
  }
  return logins;
}
