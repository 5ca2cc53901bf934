import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../test/database.js';
import { createStaffUser } from '../modules/staff/index.js';
import { createTenant } from '../modules/tenants/index.js';
import { withTenant } from './db.js';
import { createPolicyTenant, createTestKernel } from '../../test/kernel.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database.close());

/** Tables that are not per-tenant data: the tenant list itself and the migration ledger. */
const GLOBAL_TABLES = new Set(['tenants', 'schema_migrations']);

describe('tenant isolation', () => {
  it('a query for tenant A cannot see tenant B rows even when the SQL forgets WHERE tenant_id', async () => {
    const kernel = createTestKernel(database);
    const a = await createPolicyTenant(kernel, 'voiceking');
    const b = await createPolicyTenant(kernel, 'voxtra');
    const actor = { kind: 'system', job: 'test' } as const;
    await createStaffUser(kernel, a.tenantId, actor, {
      email: 'a@a.example',
      displayName: 'A',
      role: 'admin',
    });
    await createStaffUser(kernel, b.tenantId, actor, {
      email: 'b@b.example',
      displayName: 'B',
      role: 'admin',
    });

    const seenByA = await withTenant(database.db, a.tenantId, (tx) =>
      sql<{ email: string; tenant_id: number }>`select email, tenant_id from staff_users`.execute(tx),
    );
    expect(seenByA.rows).toEqual([{ email: 'a@a.example', tenant_id: a.tenantId }]);

    // The owner connection sees both, proving the rows exist and RLS (not the data) hid them.
    const all = await runAsOwner(database.ownerUrl, 'select count(*)::int as n from staff_users');
    expect(all.rows[0]).toEqual({ n: 2 });
  });

  it('writing a row for another tenant is refused by the database', async () => {
    const a = await createTenant(database.db, { slug: 'tenant-c', name: 'C' });
    const b = await createTenant(database.db, { slug: 'tenant-d', name: 'D' });
    const attempt = withTenant(database.db, a.tenantId, (tx) =>
      tx
        .insertInto('staff_users')
        .values({
          tenant_id: b.tenantId,
          email: 'x@d.example',
          display_name: 'X',
          role: 'admin',
          password_hash: 'x',
        })
        .execute(),
    );
    await expect(attempt).rejects.toThrow(/row-level security/);
  });

  it('without a tenant set, a tenant table query fails instead of returning every row', async () => {
    await expect(sql`select * from staff_users`.execute(database.db)).rejects.toThrow();
  });

  it('the application role cannot bypass row-level security', async () => {
    const role = await runAsOwner<{ rolsuper: boolean; rolbypassrls: boolean }>(
      database.ownerUrl,
      "select rolsuper, rolbypassrls from pg_roles where rolname = 'kluis_app'",
    );
    expect(role.rows[0]).toEqual({ rolsuper: false, rolbypassrls: false });
    const current = await sql<{ current_user: string }>`select current_user`.execute(database.db);
    expect(current.rows[0]?.current_user).toBe('kluis_app');
  });
});

/** The rule of DESIGN.md "Scale" over the live catalogue: tenant_id in every primary key, RLS on. */
async function findTenantKeyProblems(ownerUrl: string): Promise<string[]> {
  const tables = await runAsOwner<{ table_name: string; pk_columns: string[] | null; rls: boolean }>(
    ownerUrl,
    `select c.relname as table_name,
            (select array_agg(a.attname::text) from pg_index i
               join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
              where i.indrelid = c.oid and i.indisprimary) as pk_columns,
            c.relrowsecurity as rls
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
      order by c.relname`,
  );
  const problems: string[] = [];
  for (const table of tables.rows) {
    if (GLOBAL_TABLES.has(table.table_name)) continue;
    if (!table.pk_columns?.includes('tenant_id'))
      problems.push(`${table.table_name}: primary key lacks tenant_id`);
    if (!table.rls) problems.push(`${table.table_name}: row-level security is not enabled`);
  }
  return problems;
}

describe('schema distributable by tenant (DESIGN.md "Scale")', () => {
  it('every table has tenant_id in its primary key and row-level security enabled', async () => {
    expect(await findTenantKeyProblems(database.ownerUrl)).toEqual([]);
  });

  it('every foreign key includes tenant_id on both sides', async () => {
    const keys = await runAsOwner<{
      constraint_name: string;
      local_columns: string[];
      foreign_columns: string[];
    }>(
      database.ownerUrl,
      `select con.conname as constraint_name,
              (select array_agg(a.attname::text) from pg_attribute a
                where a.attrelid = con.conrelid and a.attnum = any(con.conkey)) as local_columns,
              (select array_agg(a.attname::text) from pg_attribute a
                where a.attrelid = con.confrelid and a.attnum = any(con.confkey)) as foreign_columns
         from pg_constraint con join pg_namespace n on n.oid = con.connamespace
        where con.contype = 'f' and n.nspname = 'public'`,
    );
    expect(keys.rows.length).toBeGreaterThan(0);
    const problems = keys.rows
      .filter((key) => !key.local_columns.includes('tenant_id') || !key.foreign_columns.includes('tenant_id'))
      .map((key) => key.constraint_name);
    expect(problems).toEqual([]);
  });

  it('the schema check itself catches a table without tenant_id in its key or without RLS', async () => {
    await runAsOwner(database.ownerUrl, 'create table bad_example (id int primary key, tenant_id int)');
    try {
      expect(await findTenantKeyProblems(database.ownerUrl)).toEqual([
        'bad_example: primary key lacks tenant_id',
        'bad_example: row-level security is not enabled',
      ]);
    } finally {
      await runAsOwner(database.ownerUrl, 'drop table bad_example');
    }
  });
});
