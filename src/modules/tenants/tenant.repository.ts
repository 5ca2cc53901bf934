import type { Db } from '../../platform/db.js';

export interface TenantRow {
  tenantId: number;
  slug: string;
  name: string;
  createdAt: Date;
}

export async function insertTenant(db: Db, input: { slug: string; name: string }): Promise<TenantRow> {
  const row = await db
    .insertInto('tenants')
    .values({ slug: input.slug, name: input.name })
    .returning(['tenant_id', 'slug', 'name', 'created_at'])
    .executeTakeFirstOrThrow();
  return { tenantId: row.tenant_id, slug: row.slug, name: row.name, createdAt: row.created_at };
}

export async function selectTenantBySlug(db: Db, slug: string): Promise<TenantRow | undefined> {
  const row = await db
    .selectFrom('tenants')
    .select(['tenant_id', 'slug', 'name', 'created_at'])
    .where('slug', '=', slug)
    .executeTakeFirst();
  return row && { tenantId: row.tenant_id, slug: row.slug, name: row.name, createdAt: row.created_at };
}

export async function selectTenants(db: Db): Promise<TenantRow[]> {
  const rows = await db
    .selectFrom('tenants')
    .select(['tenant_id', 'slug', 'name', 'created_at'])
    .orderBy('tenant_id')
    .execute();
  return rows.map((row) => ({
    tenantId: row.tenant_id,
    slug: row.slug,
    name: row.name,
    createdAt: row.created_at,
  }));
}
