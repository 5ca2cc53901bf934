import { sql } from 'kysely';
import { withTenant } from '../src/platform/db.js';
import { createTenant } from '../src/modules/tenants/index.js';
import { medianMs, ownerQuery, type BenchDatabase, type Figure } from './harness.js';

const ROWS_PER_TENANT = 50_000;

/**
 * Cost of row-level security: reading one tenant's rows through the app role (RLS policy,
 * tenant set per transaction) against the same read by the owner with a plain WHERE (no RLS).
 */
export async function benchTenantIsolation(bench: BenchDatabase): Promise<Figure[]> {
  const a = await createTenant(bench.db, { slug: 'bench-a', name: 'A' });
  const b = await createTenant(bench.db, { slug: 'bench-b', name: 'B' });
  for (const tenant of [a, b]) {
    await ownerQuery(
      bench.ownerUrl,
      `insert into staff_users (tenant_id, email, display_name, role, password_hash)
       select $1::int, 'user' || g || '@t' || $1::int || '.example', 'User ' || g, 'sales', 'x' from generate_series(1, $2) g`,
      [tenant.tenantId, ROWS_PER_TENANT],
    );
  }
  await ownerQuery(bench.ownerUrl, 'analyze staff_users');
  const { Client } = await import('pg');
  const owner = new Client({ connectionString: bench.ownerUrl });
  await owner.connect();
  const bare = await medianMs(15, async () => {
    await owner.query('select email, display_name from staff_users where tenant_id = $1', [a.tenantId]);
  });
  await owner.end();
  const isolated = await medianMs(15, async () => {
    await withTenant(bench.db, a.tenantId, (tx) =>
      sql`select email, display_name from staff_users`.execute(tx),
    );
  });
  return [
    {
      scenario: 'tenant-isolation',
      metric: `read ${ROWS_PER_TENANT} rows of one tenant under RLS`,
      value: isolated,
      unit: 'ms',
      baseline: {
        what: 'same read by the owner with WHERE tenant_id (no RLS, no transaction)',
        value: bare,
        unit: 'ms',
      },
      ratio: bare / isolated,
      note: 'ratio = baseline time / our time (1.0 = no overhead)',
    },
  ];
}
