import { z } from 'zod';
import { AppError } from '../../platform/errors.js';
import { parseInput } from '../../platform/validation.js';
import type { Db } from '../../platform/db.js';
import { insertTenant, selectTenantBySlug, selectTenants, type TenantRow } from './tenant.repository.js';

export type Tenant = TenantRow;

export const tenantSlugSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{1,62}$/,
    'a slug is 2-63 characters: lowercase letters, digits and dashes, starting with a letter',
  );

export const createTenantInputSchema = z.object({
  slug: tenantSlugSchema,
  name: z.string().trim().min(1).max(200),
});

export type CreateTenantInput = z.infer<typeof createTenantInputSchema>;

export async function createTenant(db: Db, input: CreateTenantInput): Promise<Tenant> {
  const valid = parseInput(createTenantInputSchema, input);
  if (await selectTenantBySlug(db, valid.slug)) {
    throw new AppError('conflict', 'tenant slug taken', {
      publicMessage: `a tenant with slug "${valid.slug}" exists`,
    });
  }
  return insertTenant(db, valid);
}

export async function findTenantBySlug(db: Db, slug: string): Promise<Tenant> {
  const tenant = await selectTenantBySlug(db, slug);
  if (!tenant)
    throw new AppError('tenant_not_found', 'no such tenant', { publicMessage: `no tenant "${slug}"` });
  return tenant;
}

export async function listTenants(db: Db): Promise<Tenant[]> {
  return selectTenants(db);
}

export async function findTenantById(db: Db, tenantId: number): Promise<Tenant> {
  const row = await db
    .selectFrom('tenants')
    .select(['tenant_id', 'slug', 'name', 'created_at'])
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  if (!row) throw new AppError('tenant_not_found', 'no such tenant', { publicMessage: 'no such tenant' });
  return { tenantId: row.tenant_id, slug: row.slug, name: row.name, createdAt: row.created_at };
}
