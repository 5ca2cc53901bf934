import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { chainPendingAudit, createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { systemClock } from '../../platform/clock.js';
import { createPerson, getPerson, type UseCaseContext } from '../../modules/parties/index.js';
import type { Tenant } from '../../modules/tenants/index.js';
import { createAppDb, isDatabaseUnavailable, withTenant, type Db } from '../../platform/db.js';
import { NamedStatementOutdated, NAMED_STATEMENTS_PER_CONNECTION } from '../../platform/named-statements.js';
import type { Kernel } from '../kernel.js';
import { subjectStatesWithRows } from '../subjects/subject.repository.js';

// Decision 0770: the gated statement goes to the server as a named statement of its connection,
// parsed and planned once per connection and text; KLUIS_PREPARED_STATEMENTS=false (the pool's
// namedStatements) sends it unnamed, as before.

let database: TestDatabase;
/** One connection each, so that pg_prepared_statements shows what the reads left on it. */
let named: { db: Db; kernel: Kernel };
let unnamed: { db: Db; kernel: Kernel };
let tenant: Tenant;
let context: UseCaseContext;

beforeAll(async () => {
  database = await createTestDatabase();
  const masterKey = randomBytes(32);
  const open = (namedStatements: boolean): { db: Db; kernel: Kernel } => {
    const { db } = createAppDb({
      connectionString: database.ownerUrl,
      assumeAppRole: true,
      logger: testLogger,
      max: 1,
      namedStatements,
    });
    return { db, kernel: createTestKernel({ ...database, db }, systemClock, masterKey) };
  };
  named = open(true);
  unnamed = open(false);
  tenant = await createPolicyTenant(named.kernel, 'voiceking');
  context = {
    tenantId: tenant.tenantId,
    actor: { kind: 'staff', staffId: 1, role: 'billing' },
    purpose: 'order_processing',
  };
});
afterAll(async () => {
  await named.db.destroy();
  await unnamed.db.destroy();
  await database.close();
});

async function newCustomer(familyName: string): Promise<number> {
  const person = await createPerson(
    named.kernel,
    { ...context, actor: { kind: 'staff', staffId: 1, role: 'sales' } },
    {
      subjectType: 'customer',
      familyName,
      givenName: 'An',
      email: `${familyName.toLowerCase()}@example.be`,
      phone: '0470 12 34 56',
    },
  );
  return person.subjectId;
}

/** The named statements of the pool's one connection: name, text, plans made. */
async function preparedOn(
  db: Db,
): Promise<Array<{ name: string; statement: string; generic_plans: number }>> {
  const { rows } = await withTenant(db, tenant.tenantId, (tx) =>
    sql<{
      name: string;
      statement: string;
      generic_plans: number;
    }>`select name, statement, generic_plans from pg_prepared_statements order by name`.execute(tx),
  );
  return rows;
}

/** The chained audit entries about a subject, without what differs between two entries (seq, time). */
async function entriesAbout(subjectId: number): Promise<Array<Record<string, unknown>>> {
  await chainPendingAudit(named.kernel, tenant.tenantId);
  const pseudonym = await named.kernel.keys.pseudonym(tenant.tenantId, subjectId);
  const { rows } = await runAsOwner(
    database.ownerUrl,
    `select actor_kind, actor_id, role, purpose, action, categories, records, decision, reason
       from audit_log where tenant_id = $1 and subject_pseudonyms @> array[$2]::text[] order by seq`,
    [tenant.tenantId, pseudonym],
  );
  return rows;
}

describe('the gated statement as a named statement (decision 0770)', () => {
  it('a read through the prepared path gives the same person and the same audit entry as the unprepared path, also once the server keeps a generic plan', async () => {
    const subjectId = await newCustomer('Prepared');
    const before = (await entriesAbout(subjectId)).length;
    // PostgreSQL plans a named statement's first five runs for their values, then keeps a generic plan.
    for (let read = 0; read < 8; read += 1) {
      const prepared = await getPerson(named.kernel, context, subjectId);
      const unprepared = await getPerson(unnamed.kernel, context, subjectId);
      expect(prepared).toEqual(unprepared);
      expect(prepared.familyName).toBe('Prepared');
    }
    const entries = (await entriesAbout(subjectId)).slice(before);
    expect(entries).toHaveLength(16);
    const [first] = entries;
    expect(first).toMatchObject({ decision: 'allowed', action: 'read', purpose: 'order_processing' });
    for (const entry of entries) expect(entry).toEqual(first);

    const statements = (await preparedOn(named.db)).filter((s) =>
      s.statement.includes('with g as materialized'),
    );
    expect(statements).toHaveLength(1);
    expect(statements[0]?.name).toMatch(/^kluis_[0-9a-f]{32}$/);
    expect(statements[0]?.generic_plans).toBeGreaterThan(0);
  });

  it('the option off sends no named statement: the connection holds none after gated reads', async () => {
    const subjectId = await newCustomer('Unnamed');
    for (let read = 0; read < 3; read += 1) await getPerson(unnamed.kernel, context, subjectId);
    expect(await preparedOn(unnamed.db)).toEqual([]);
  });

  it('two shapes never share a name: each column set is its own statement and answers only its own columns', async () => {
    const subjectId = await newCustomer('Shapes');
    const guard = { subjectTypes: ['customer'], noMarketingObjection: false, today: '2026-12-01' };
    const readShape = (column: 'family_name' | 'given_name', afterAnotherStatement = false) =>
      withTenant(named.db, tenant.tenantId, async (tx) => {
        // Not the transaction's first statement: it goes without the `begin` in front of it.
        if (afterAnotherStatement) await sql`select 1`.execute(tx);
        const rows = tx
          .selectFrom('people as p')
          .select(['p.subject_id', `p.${column}`])
          .where('p.subject_id', '=', subjectId);
        const read = await subjectStatesWithRows<Record<string, unknown>>(
          tx,
          [subjectId],
          'order_processing',
          guard,
          rows,
        );
        return read.rows ?? [];
      });
    for (let round = 0; round < 7; round += 1) {
      const family = await readShape('family_name', round % 2 === 1);
      const given = await readShape('given_name', round % 2 === 0);
      expect(Object.keys(family[0] ?? {}).sort()).toEqual(['family_name', 'subject_id']);
      expect(Object.keys(given[0] ?? {}).sort()).toEqual(['given_name', 'subject_id']);
    }
    const shapes = (await preparedOn(named.db)).filter((s) => s.statement.includes('"p"."subject_id" = $'));
    expect(shapes).toHaveLength(2);
    expect(new Set(shapes.map((s) => s.name)).size).toBe(2);
    expect(shapes.some((s) => s.statement.includes('"p"."family_name"'))).toBe(true);
    expect(shapes.some((s) => s.statement.includes('"p"."given_name"'))).toBe(true);
  });

  it(`a connection keeps at most ${NAMED_STATEMENTS_PER_CONNECTION} named statements: older shapes are closed on the server, and read again correctly`, async () => {
    const subjectId = await newCustomer('Bounded');
    const guard = { subjectTypes: ['customer'], noMarketingObjection: false, today: '2026-12-01' };
    const readShape = (shape: number) =>
      withTenant(named.db, tenant.tenantId, async (tx) => {
        const rows = tx
          .selectFrom('people as p')
          .select(['p.subject_id', sql<number>`${sql.lit(shape)}::int`.as('shape')])
          .where('p.subject_id', '=', subjectId);
        const read = await subjectStatesWithRows<{ shape: number }>(
          tx,
          [subjectId],
          'order_processing',
          guard,
          rows,
        );
        return read.rows?.[0]?.shape;
      });
    const shapes = NAMED_STATEMENTS_PER_CONNECTION + 5;
    for (let round = 0; round < 2; round += 1)
      for (let shape = 0; shape < shapes; shape += 1) expect(await readShape(shape)).toBe(shape);
    const held = await preparedOn(named.db);
    expect(held.length).toBeLessThanOrEqual(NAMED_STATEMENTS_PER_CONNECTION);
    expect(held.some((s) => s.statement.includes(`${shapes - 1}::int`))).toBe(true);
  });

  it('a column added under a live named statement: the read fails as the database being briefly unavailable (503 database_unavailable), never with other columns, and the next read prepares it again and answers', async () => {
    const subjectId = await newCustomer('Altered');
    for (let read = 0; read < 7; read += 1) await getPerson(named.kernel, context, subjectId);
    // Upgrades stop every server first (decision 0740): this is a schema changed under a live one.
    await runAsOwner(database.ownerUrl, 'alter table people add column gate3_added text');
    try {
      // PostgreSQL refuses a named statement whose result columns changed (0A000) rather than answer them.
      const failed = await getPerson(named.kernel, context, subjectId).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failed).toBeInstanceOf(NamedStatementOutdated);
      expect(isDatabaseUnavailable(failed)).toBe(true);
      const again = await getPerson(named.kernel, context, subjectId);
      expect(again.familyName).toBe('Altered');
      expect(again).toEqual(await getPerson(unnamed.kernel, context, subjectId));
    } finally {
      await runAsOwner(database.ownerUrl, 'alter table people drop column gate3_added');
    }
  });
});
