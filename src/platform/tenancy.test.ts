import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../test/database.js';
import { createStaffUser } from '../modules/staff/index.js';
import { createTenant } from '../modules/tenants/index.js';
import { AppRoleError, createAppDb, withTenant } from './db.js';
import { createPolicyTenant, createTestKernel } from '../../test/kernel.js';
import { JOB_SCHEMA, startJobQueue } from './job-queue.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
  // The job queue's schema exists in every real installation: the checks below must see it.
  const queue = await startJobQueue({ connectionString: database.ownerUrl, logger: testLogger });
  await queue.stop();
});
afterAll(async () => database.close());

/** Tables that are not per-tenant data: the tenant list, the first run's plan of it, the migration ledger. */
const GLOBAL_TABLES = new Set(['tenants', 'first_run_plan', 'schema_migrations']);

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

/**
 * Every schema but PostgreSQL's own and the job queue's (pg-boss infrastructure without tenant
 * data, decision 0070): a table added to any other schema is held to the tenant rules.
 */
const CHECKED_SCHEMAS = `n.nspname not in ('pg_catalog', 'information_schema', '${JOB_SCHEMA}') and n.nspname not like 'pg\\_%'`;

/**
 * The rule of DESIGN.md "Scale" over the live catalogue: tenant_id in every primary key, RLS
 * enabled and forced (so it binds the tables' owner too). Partitions are reached only through
 * their parent: the application role must hold no privilege on them.
 */
async function findTenantKeyProblems(ownerUrl: string): Promise<string[]> {
  const tables = await runAsOwner<{
    table_name: string;
    pk_columns: string[] | null;
    rls: boolean;
    forced: boolean;
    is_partition: boolean;
    app_reaches: boolean;
  }>(
    ownerUrl,
    `select c.relname as table_name,
            (select array_agg(a.attname::text) from pg_index i
               join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
              where i.indrelid = c.oid and i.indisprimary) as pk_columns,
            c.relrowsecurity as rls,
            c.relforcerowsecurity as forced,
            c.relispartition as is_partition,
            has_table_privilege('kluis_app', c.oid, 'select, insert, update, delete') as app_reaches
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where ${CHECKED_SCHEMAS} and c.relkind in ('r', 'p')
      order by c.relname`,
  );
  const problems: string[] = [];
  for (const table of tables.rows) {
    if (GLOBAL_TABLES.has(table.table_name)) continue;
    if (table.is_partition) {
      if (table.app_reaches)
        problems.push(`${table.table_name}: partition reachable by the application role`);
      continue;
    }
    if (!table.pk_columns?.includes('tenant_id'))
      problems.push(`${table.table_name}: primary key lacks tenant_id`);
    if (!table.rls) problems.push(`${table.table_name}: row-level security is not enabled`);
    if (!table.forced) problems.push(`${table.table_name}: row-level security is not forced`);
  }
  return problems;
}

describe('schema distributable by tenant (DESIGN.md "Scale")', () => {
  it('every table has tenant_id in its primary key and row-level security enabled and forced', async () => {
    expect(await findTenantKeyProblems(database.ownerUrl)).toEqual([]);
  });

  it('the key store tables have row-level security enabled and forced', async () => {
    const tables = await runAsOwner<{ relname: string; rls: boolean; forced: boolean }>(
      database.keystoreOwnerUrl,
      `select c.relname, c.relrowsecurity as rls, c.relforcerowsecurity as forced
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'p') and c.relname <> 'schema_migrations'
        order by c.relname`,
    );
    expect(tables.rows).toEqual([
      { relname: 'audit_anchors', rls: true, forced: true },
      { relname: 'audit_setbacks', rls: true, forced: true },
      { relname: 'category_erasure_journal', rls: true, forced: true },
      { relname: 'data_keys', rls: true, forced: true },
      { relname: 'erasure_journal', rls: true, forced: true },
      { relname: 'tenant_keks', rls: true, forced: true },
    ]);
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
        where con.contype = 'f' and ${CHECKED_SCHEMAS}`,
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
        'bad_example: row-level security is not forced',
      ]);
    } finally {
      await runAsOwner(database.ownerUrl, 'drop table bad_example');
    }
  });

  it('only the job queue schema is exempt: its tables exist, and a tenant-less table in any other schema is caught', async () => {
    const queueTables = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      `select count(*)::int as n from pg_tables where schemaname = '${JOB_SCHEMA}'`,
    );
    expect(queueTables.rows[0]?.n).toBeGreaterThan(0);
    await runAsOwner(
      database.ownerUrl,
      'create schema elsewhere; create table elsewhere.sneaky (id int primary key)',
    );
    try {
      expect(await findTenantKeyProblems(database.ownerUrl)).toEqual([
        'sneaky: primary key lacks tenant_id',
        'sneaky: row-level security is not enabled',
        'sneaky: row-level security is not forced',
      ]);
    } finally {
      await runAsOwner(database.ownerUrl, 'drop schema elsewhere cascade');
    }
  });
});

/** A login role of the test server (roles are cluster-wide: unique name, dropped afterwards). */
async function withLoginRole<T>(
  attributes: string,
  work: (role: { name: string; url: string }) => Promise<T>,
): Promise<T> {
  const name = `kluis_t_${randomBytes(5).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  await runAsOwner(database.ownerUrl, `create role ${name} login ${attributes} password '${password}'`);
  const url = new URL(database.ownerUrl);
  url.username = name;
  url.password = password;
  try {
    return await work({ name, url: url.toString() });
  } finally {
    await runAsOwner(database.ownerUrl, `reassign owned by ${name} to current_user`);
    await runAsOwner(database.ownerUrl, `drop owned by ${name}`);
    await runAsOwner(database.ownerUrl, `drop role ${name}`);
  }
}

/** Two tenants with one staff account each; returns their ids. */
async function twoTenantsWithStaff(): Promise<{ a: number; b: number }> {
  const kernel = createTestKernel(database);
  const a = await createPolicyTenant(kernel, 'voiceking');
  const b = await createPolicyTenant(kernel, 'voxtra');
  const actor = { kind: 'system', job: 'test' } as const;
  for (const [tenant, email] of [
    [a, 'owner-a@a.example'],
    [b, 'owner-b@b.example'],
  ] as const) {
    await createStaffUser(kernel, tenant.tenantId, actor, { email, displayName: 'X', role: 'admin' });
  }
  return { a: a.tenantId, b: b.tenantId };
}

describe('tenant isolation fails closed (issue 10)', () => {
  it('row-level security binds the owner of a table too (FORCE): the owner sees only the tenant it names', async () => {
    const { a } = await twoTenantsWithStaff();
    await withLoginRole('nosuperuser nobypassrls', async (role) => {
      await runAsOwner(database.ownerUrl, `alter table staff_users owner to ${role.name}`);
      try {
        const client = new pg.Client({ connectionString: role.url });
        await client.connect();
        try {
          await client.query('begin');
          await client.query(`select set_config('app.tenant', $1, true)`, [String(a)]);
          const seen = await client.query<{ tenant_id: number }>(
            'select distinct tenant_id from staff_users',
          );
          expect(seen.rows).toEqual([{ tenant_id: a }]);
          await client.query('rollback');
          // Outside a transaction naming a tenant the policy's cast fails: an error, never all rows.
          await expect(client.query('select count(*) from staff_users')).rejects.toThrow();
        } finally {
          await client.end();
        }
      } finally {
        await runAsOwner(database.ownerUrl, 'alter table staff_users owner to current_user');
      }
    });
  });

  it('a connection that cannot take the application role is closed and the operation fails: no fallback to the login', async () => {
    const { a, b } = await twoTenantsWithStaff();
    // A login that would see every tenant if it ever ran a query as itself.
    await withLoginRole('nosuperuser bypassrls', async (role) => {
      await runAsOwner(database.ownerUrl, `grant kluis_app to ${role.name}`);
      await runAsOwner(database.ownerUrl, `grant select on all tables in schema public to ${role.name}`);

      const member = createAppDb({
        connectionString: role.url,
        assumeAppRole: true,
        logger: testLogger,
        max: 2,
      });
      const asMember = await withTenant(member.db, a, (tx) =>
        sql<{
          who: string;
          tenant_id: number;
        }>`select current_user as who, tenant_id from staff_users`.execute(tx),
      );
      expect(asMember.rows.map((row) => row.who)).toEqual(['kluis_app']);
      expect(new Set(asMember.rows.map((row) => row.tenant_id))).toEqual(new Set([a]));
      await member.db.destroy();

      await runAsOwner(database.ownerUrl, `revoke kluis_app from ${role.name}`);
      const revoked = createAppDb({
        connectionString: role.url,
        assumeAppRole: true,
        logger: testLogger,
        max: 2,
      });
      try {
        const attempt = withTenant(revoked.db, a, (tx) =>
          sql<{ tenant_id: number }>`select tenant_id from staff_users`.execute(tx),
        );
        await expect(attempt).rejects.toBeInstanceOf(AppRoleError);
        // Every later operation fails the same way; the refused connections are gone, none idles.
        await expect(
          sql`select tenant_id from staff_users where tenant_id = ${b}`.execute(revoked.db),
        ).rejects.toBeInstanceOf(AppRoleError);
        expect(revoked.pool.totalCount).toBe(0);
      } finally {
        await revoked.db.destroy();
      }
    });
  });
});
