import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../test/database.js';
import { createTenant } from '../modules/tenants/index.js';
import {
  APP_ROLE,
  COMMIT_NOTING_WRITES,
  createAppDb,
  FinishedTransactionError,
  withTenant,
  withTenantOnFirstStatement,
  type Db,
  type Tx,
} from './db.js';
import type { Database } from './database.js';
import { committedDuring, runAsRequest } from './request-scope.js';

// Decision 0370: a tenant transaction's `begin` and its settings reach the server in one round
// trip; decision 0570: in the same round trip as the transaction's first statement. Everything
// row-level security relies on stays as it was.

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database.close());

/** An app pool of one connection whose statement texts are recorded as they are sent. */
function recordingDb(): { db: Db; pool: pg.Pool; sent: string[]; close: () => Promise<void> } {
  const sent: string[] = [];
  const { db, pool } = createAppDb({
    connectionString: database.ownerUrl,
    assumeAppRole: true,
    logger: testLogger,
    max: 1,
  });
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    // Wraps node-postgres's overloaded query(); records the text of each call.
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const first = args[0];
      if (typeof first === 'string') sent.push(first);
      // A statement with parameters behind the `begin` (db.ts BehindBegin): one round trip.
      else if (typeof (first as { sentText?: unknown }).sentText === 'string')
        sent.push((first as { sentText: string }).sentText);
      return query(...args);
    };
  });
  return { db, pool, sent, close: () => db.destroy() };
}

async function tenantWithRow(slug: string): Promise<number> {
  const tenant = await createTenant(database.db, { slug, name: slug });
  await withTenant(database.db, tenant.tenantId, (tx) =>
    tx
      .insertInto('staff_users')
      .values({
        tenant_id: tenant.tenantId,
        email: `${slug}@example.test`,
        display_name: slug,
        role: 'admin',
        password_hash: 'x',
      })
      .execute(),
  );
  return tenant.tenantId;
}

describe('tenant transactions begin in the round trip of their first statement', () => {
  it('sends the begin and the tenant setting in front of the first statement, as one text, then the commit', async () => {
    const tenantId = await tenantWithRow('begin-one');
    const recording = recordingDb();
    try {
      await sql`select 1`.execute(recording.db); // the connection exists (SET ROLE is sent once per connection)
      recording.sent.length = 0;
      const rows = await withTenant(recording.db, tenantId, (tx) =>
        sql<{ email: string; tenant: string }>`select email, current_setting('app.tenant') as tenant
          from staff_users`.execute(tx),
      );
      expect(rows.rows).toEqual([{ email: 'begin-one@example.test', tenant: String(tenantId) }]);
      expect(recording.sent).toEqual([
        `begin; select set_config('app.tenant', '${tenantId}', true);\nselect email, current_setting('app.tenant') as tenant\n          from staff_users`,
        COMMIT_NOTING_WRITES,
      ]);
    } finally {
      await recording.close();
    }
  });

  it('a first statement with parameters goes behind the begin in the same round trip, and answers its own rows and counts', async () => {
    const tenantId = await tenantWithRow('begin-params');
    await tenantWithRow('begin-params-other');
    const recording = recordingDb();
    try {
      await sql`select 1`.execute(recording.db);
      recording.sent.length = 0;
      const rows = await withTenant(recording.db, tenantId, (tx) =>
        tx
          .selectFrom('staff_users')
          .select(['email', sql<string>`current_setting('app.tenant')`.as('tenant')])
          .where('email', 'like', 'begin-params%')
          .execute(),
      );
      // Only the tenant's own row: row-level security applied to the statement behind the begin.
      expect(rows).toEqual([{ email: 'begin-params@example.test', tenant: String(tenantId) }]);
      expect(recording.sent).toEqual([
        expect.stringMatching(/^begin; select set_config\('app.tenant', '\d+', true\);\nselect "email"/),
        COMMIT_NOTING_WRITES,
      ]);
      recording.sent.length = 0;
      const update = await withTenant(recording.db, tenantId, (tx) =>
        tx
          .updateTable('staff_users')
          .set({ display_name: 'renamed' })
          .where('email', 'like', 'begin-params%')
          .executeTakeFirst(),
      );
      const insert = await withTenant(recording.db, tenantId, (tx) =>
        tx
          .insertInto('staff_users')
          .values({
            tenant_id: tenantId,
            email: 'begin-params-2@example.test',
            display_name: 'two',
            role: 'admin',
            password_hash: 'x',
          })
          .executeTakeFirst(),
      );
      // Counts come from the statement's own result, not from the begin's.
      expect(update.numUpdatedRows).toBe(1n);
      expect(insert.numInsertedOrUpdatedRows).toBe(1n);
      expect(recording.sent).toHaveLength(4);
      expect(recording.sent[0]).toMatch(
        new RegExp(
          `^begin; select set_config\\('app.tenant', '${tenantId}', true\\);\\nupdate "staff_users"`,
        ),
      );
      expect(recording.sent.slice(1)).toEqual([
        COMMIT_NOTING_WRITES,
        expect.stringMatching(/^begin; select set_config.*;\ninsert into "staff_users"/s),
        COMMIT_NOTING_WRITES,
      ]);
      const owner = await runAsOwner<{ email: string; display_name: string }>(
        database.ownerUrl,
        `select email, display_name from staff_users where email like 'begin-params%' order by email`,
      );
      expect(owner.rows).toEqual([
        { email: 'begin-params-2@example.test', display_name: 'two' },
        { email: 'begin-params-other@example.test', display_name: 'begin-params-other' },
        { email: 'begin-params@example.test', display_name: 'renamed' },
      ]);
    } finally {
      await recording.close();
    }
  });

  it('a transaction that sends no statement sends nothing at all', async () => {
    const tenantId = await tenantWithRow('begin-empty');
    const recording = recordingDb();
    try {
      await sql`select 1`.execute(recording.db);
      recording.sent.length = 0;
      expect(await withTenant(recording.db, tenantId, () => Promise.resolve('nothing'))).toBe('nothing');
      await expect(
        withTenant(recording.db, tenantId, () => Promise.reject(new Error('refused before any statement'))),
      ).rejects.toThrow('refused before any statement');
      expect(recording.sent).toEqual([]);
      // The connection is outside any transaction afterwards.
      const after = await sql<{
        tenant: string | null;
      }>`select current_setting('app.tenant', true) as tenant`.execute(recording.db);
      expect(after.rows[0]?.tenant ?? '').toBe('');
    } finally {
      await recording.close();
    }
  });

  it('a commit asks in its own round trip whether the transaction wrote: only one that wrote is noted for the request (decision 0762 amended)', async () => {
    const tenantId = await tenantWithRow('begin-wrote');
    const recording = recordingDb();
    /** Whether the request scope saw a commit after `work`, and the texts sent. */
    const noted = async (work: () => Promise<unknown>): Promise<[boolean, string[]]> => {
      const request = {};
      recording.sent.length = 0;
      await runAsRequest('req-wrote', work, request);
      return [committedDuring(request), [...recording.sent]];
    };
    try {
      await sql`select 1`.execute(recording.db);
      const read = await noted(() => withTenant(recording.db, tenantId, (tx) => sql`select 1`.execute(tx)));
      expect(read).toEqual([false, [expect.stringMatching(/^begin; .*\nselect 1$/s), COMMIT_NOTING_WRITES]]);
      expect(await noted(() => withTenant(recording.db, tenantId, () => Promise.resolve()))).toEqual([
        false,
        [],
      ]);
      const write = await noted(() =>
        withTenant(recording.db, tenantId, (tx) =>
          tx.updateTable('staff_users').set({ display_name: 'wrote' }).execute(),
        ),
      );
      expect(write).toEqual([true, [expect.stringMatching(/update "staff_users"/), COMMIT_NOTING_WRITES]]);
      // A failed statement the work swallowed aborts the transaction: its end saves nothing, as
      // before (the server answers the commit with a rollback), and is not noted.
      const aborted = await noted(() =>
        withTenant(recording.db, tenantId, async (tx) => {
          await tx.updateTable('staff_users').set({ display_name: 'lost' }).execute();
          await sql`select 1 / 0`.execute(tx).catch(() => undefined);
        }),
      );
      expect(aborted[0]).toBe(false);
      expect(aborted[1].slice(-2)).toEqual([COMMIT_NOTING_WRITES, 'commit']);
      const names = await runAsOwner<{ display_name: string }>(
        database.ownerUrl,
        'select display_name from staff_users where tenant_id = $1',
        [tenantId],
      );
      expect(names.rows).toEqual([{ display_name: 'wrote' }]);
    } finally {
      await recording.close();
    }
  });

  it('a failing first statement, with or without parameters, rolls the transaction back and leaves the connection clean', async () => {
    const tenantId = await tenantWithRow('begin-fail');
    const recording = recordingDb();
    try {
      await expect(withTenant(recording.db, tenantId, (tx) => sql`select 1/0`.execute(tx))).rejects.toThrow(
        /division by zero/,
      );
      await expect(
        withTenant(recording.db, tenantId, (tx) => sql`select 1/${0}::int`.execute(tx)),
      ).rejects.toThrow(/division by zero/);
      await expect(
        withTenant(recording.db, tenantId, async (tx) => {
          await tx
            .insertInto('staff_users')
            .values({
              tenant_id: tenantId,
              email: 'begin-fail-2@example.test',
              display_name: 'x',
              role: 'admin',
              password_hash: 'x',
            })
            .execute();
          await sql`select 1/${0}::int`.execute(tx);
        }),
      ).rejects.toThrow(/division by zero/);
      // Outside any transaction now: a statement of its own, no tenant.
      const after = await sql<{
        tenant: string | null;
      }>`select current_setting('app.tenant', true) as tenant`.execute(recording.db);
      expect(after.rows[0]?.tenant ?? '').toBe('');
      const owner = await runAsOwner<{ n: number }>(
        database.ownerUrl,
        `select count(*)::int as n from staff_users where email = 'begin-fail-2@example.test'`,
      );
      expect(owner.rows[0]?.n).toBe(0);
      const again = await withTenant(recording.db, tenantId, (tx) =>
        tx.selectFrom('staff_users').select('email').where('email', '=', 'begin-fail@example.test').execute(),
      );
      expect(again).toEqual([{ email: 'begin-fail@example.test' }]);
    } finally {
      await recording.close();
    }
  });

  it('the setting ends with the transaction, also after a rollback, and the connection stays usable', async () => {
    const tenantId = await tenantWithRow('begin-scope');
    const recording = recordingDb();
    try {
      await expect(
        withTenant(recording.db, tenantId, async (tx) => {
          await sql`select 1`.execute(tx);
          throw new Error('work failed');
        }),
      ).rejects.toThrow('work failed');
      // The same (only) connection, outside any tenant transaction: no tenant, and RLS refuses.
      const after = await sql<{
        tenant: string | null;
        who: string;
      }>`select current_setting('app.tenant', true) as tenant, current_user as who`.execute(recording.db);
      expect(after.rows[0]?.tenant ?? '').toBe('');
      expect(after.rows[0]?.who).toBe(APP_ROLE);
      await expect(sql`select * from staff_users`.execute(recording.db)).rejects.toThrow();
      const again = await withTenant(recording.db, tenantId, (tx) =>
        tx.selectFrom('staff_users').select('email').execute(),
      );
      expect(again).toEqual([{ email: 'begin-scope@example.test' }]);
    } finally {
      await recording.close();
    }
  });

  it('a tenant id that is not a safe integer is refused before anything reaches the server', async () => {
    const recording = recordingDb();
    try {
      for (const bad of [Number.NaN, 1.5, 2 ** 60, Number.POSITIVE_INFINITY]) {
        await expect(withTenant(recording.db, bad, () => Promise.resolve(1))).rejects.toThrow(/safe integer/);
      }
      expect(recording.sent).toEqual([]);
    } finally {
      await recording.close();
    }
  });

  it('isolation, access mode and commit durability go with the same begin', async () => {
    const tenantId = await tenantWithRow('begin-options');
    const recording = recordingDb();
    try {
      const seen = await withTenant(
        recording.db,
        tenantId,
        (tx) =>
          sql<{
            isolation: string;
            readonly: string;
            sync: string;
          }>`select current_setting('transaction_isolation') as isolation,
                    current_setting('transaction_read_only') as readonly,
                    current_setting('synchronous_commit') as sync`.execute(tx),
        { isolationLevel: 'repeatable read', accessMode: 'read only', synchronousCommit: 'off' },
      );
      expect(seen.rows[0]).toEqual({ isolation: 'repeatable read', readonly: 'on', sync: 'off' });
      expect(recording.sent[0]).toMatch(
        `start transaction isolation level repeatable read read only; select set_config('app.tenant', '${tenantId}', true), set_config('synchronous_commit', 'off', true);\nselect current_setting(`,
      );
      await expect(
        withTenant(recording.db, tenantId, (tx) => tx.deleteFrom('staff_users').execute(), {
          accessMode: 'read only',
        }),
      ).rejects.toThrow(/read-only transaction/);
      // synchronous_commit was local to that transaction.
      const after = await sql<{ sync: string }>`select current_setting('synchronous_commit') as sync`.execute(
        recording.db,
      );
      expect(after.rows[0]?.sync).toBe('on');
    } finally {
      await recording.close();
    }
  });

  it('a database made without the app dialect still gets its tenant (two round trips) and RLS holds', async () => {
    const a = await tenantWithRow('begin-plain-a');
    await tenantWithRow('begin-plain-b');
    const pool = new pg.Pool({ connectionString: database.ownerUrl, max: 1 });
    pool.on('connect', (client) => {
      void client.query(`set role ${APP_ROLE}`);
    });
    const plain = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    try {
      const rows = await withTenant(plain, a, (tx) => tx.selectFrom('staff_users').select('email').execute());
      expect(rows).toEqual([{ email: 'begin-plain-a@example.test' }]);
    } finally {
      await plain.destroy();
    }
    const owner = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      `select count(*)::int as n from staff_users where email like 'begin-plain-%'`,
    );
    expect(owner.rows[0]?.n).toBe(2);
  });
});

// Decision 0780: withTenant and withTenantOnFirstStatement are one tenant transaction (no Kysely
// transaction around it); every way it ends rolls back what did not commit and gives the pooled
// connection back.
describe('statements a work sends at once (decision 0793)', () => {
  it('go to the server one after the other in the order sent, each with its own answer, and node-postgres warns of nothing', async () => {
    const tenantId = await tenantWithRow('at-once');
    const { db, sent, close } = recordingDb();
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning.message);
    };
    process.on('warning', onWarning);
    try {
      const answers = await withTenant(db, tenantId, (tx) =>
        Promise.all([
          sql<{ n: number }>`select 1::int as n`.execute(tx),
          sql<{ n: number }>`select ${2}::int as n`.execute(tx),
          sql<{ email: string }>`select email from staff_users`.execute(tx),
        ]),
      );
      expect(answers.map((answer) => answer.rows)).toEqual([
        [{ n: 1 }],
        [{ n: 2 }],
        [{ email: 'at-once@example.test' }],
      ]);
      // The first goes behind the begin; the others follow it, in order.
      expect(sent.filter((text) => text.includes('select') && text !== COMMIT_NOTING_WRITES)).toHaveLength(3);
      expect(sent.findIndex((text) => text.includes('select 1::int'))).toBeLessThan(
        sent.findIndex((text) => text.includes('$1::int')),
      );
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((message) => message.includes('already executing a query'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await close();
    }
  });

  it('after a failed one still go in turn, each with its own error, and the connection serves the next transaction', async () => {
    const tenantId = await tenantWithRow('at-once-failed');
    const { db, pool, close } = recordingDb();
    try {
      let settled: Array<PromiseSettledResult<unknown>> = [];
      const failed = withTenant(db, tenantId, async (tx) => {
        settled = await Promise.allSettled([
          sql`select 1 / 0`.execute(tx),
          sql`select ${2}::int as n`.execute(tx),
          sql`select email from staff_users`.execute(tx),
        ]);
        throw new Error('the work failed');
      });
      await expect(failed).rejects.toThrow('the work failed');
      // Division by zero; then the transaction is aborted for the two behind it (decision 0795).
      expect(settled.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect(
        settled.map((outcome) => ((outcome as PromiseRejectedResult).reason as { code?: string }).code),
      ).toEqual(['22012', '25P02', '25P02']);
      // The pool's one connection is free and its next statement goes at once.
      const rows = await withTenant(db, tenantId, (tx) =>
        sql<{ email: string }>`select email from staff_users`.execute(tx),
      );
      expect(rows.rows).toEqual([{ email: 'at-once-failed@example.test' }]);
      expect({ total: pool.totalCount, idle: pool.idleCount }).toEqual({ total: 1, idle: 1 });
    } finally {
      await close();
    }
  });
});

describe('a tenant transaction gives its connection back on every path', () => {
  const staffRow = (tenantId: number, email: string) => ({
    tenant_id: tenantId,
    email,
    display_name: 'x',
    role: 'admin' as const,
    password_hash: 'x',
  });

  async function staffCount(email: string): Promise<number> {
    const owner = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      `select count(*)::int as n from staff_users where email = '${email}'`,
    );
    return owner.rows[0]?.n ?? -1;
  }

  /** The pool's one connection is back, idle, and nobody waits for it. */
  function expectReleased(pool: pg.Pool): void {
    expect({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }).toEqual({
      total: 1,
      idle: 1,
      waiting: 0,
    });
  }

  it('an error in the middle of the work, or in its end, rolls back what it wrote and releases the connection', async () => {
    const tenantId = await tenantWithRow('txn-middle');
    const one = recordingDb();
    try {
      await sql`select 1`.execute(one.db);
      one.sent.length = 0;
      await expect(
        withTenant(one.db, tenantId, async (tx) => {
          await tx
            .insertInto('staff_users')
            .values(staffRow(tenantId, 'txn-middle-1@example.test'))
            .execute();
          throw new Error('work failed in the middle');
        }),
      ).rejects.toThrow('work failed in the middle');
      expect(one.sent.at(-1)).toBe('rollback');
      expect(await staffCount('txn-middle-1@example.test')).toBe(0);
      expectReleased(one.pool);

      const ends = { within: () => Promise.reject(new Error('end failed')), alone: () => Promise.resolve() };
      await expect(
        withTenantOnFirstStatement(
          one.db,
          tenantId,
          async (tx) => {
            await tx
              .insertInto('staff_users')
              .values(staffRow(tenantId, 'txn-middle-2@example.test'))
              .execute();
          },
          ends,
        ),
      ).rejects.toThrow('end failed');
      expect(one.sent.at(-1)).toBe('rollback');
      expect(await staffCount('txn-middle-2@example.test')).toBe(0);
      expectReleased(one.pool);

      await expect(
        withTenantOnFirstStatement(
          one.db,
          tenantId,
          async (tx) => {
            await tx
              .insertInto('staff_users')
              .values(staffRow(tenantId, 'txn-middle-3@example.test'))
              .execute();
            await sql`select 1/0`.execute(tx);
          },
          ends,
        ),
      ).rejects.toThrow(/division by zero/);
      expect(await staffCount('txn-middle-3@example.test')).toBe(0);
      expectReleased(one.pool);

      // A work that throws before its first statement took no connection and sent nothing.
      one.sent.length = 0;
      await expect(
        withTenantOnFirstStatement(one.db, tenantId, () => Promise.reject(new Error('before')), ends),
      ).rejects.toThrow('before');
      expect(one.sent).toEqual([]);
      expectReleased(one.pool);

      // The one connection still serves a tenant transaction that commits.
      await withTenant(one.db, tenantId, (tx) =>
        tx.insertInto('staff_users').values(staffRow(tenantId, 'txn-middle-4@example.test')).execute(),
      );
      expect(await staffCount('txn-middle-4@example.test')).toBe(1);
      expectReleased(one.pool);
    } finally {
      await one.close();
    }
  });

  it("withTenant's tx refuses a statement sent after its work returned; the transaction committed without it", async () => {
    const tenantId = await tenantWithRow('txn-late');
    const one = recordingDb();
    try {
      let kept: Tx | undefined;
      await withTenant(one.db, tenantId, async (tx) => {
        kept = tx;
        await tx.insertInto('staff_users').values(staffRow(tenantId, 'txn-late-1@example.test')).execute();
      });
      if (!kept) throw new Error('no tx');
      await expect(
        kept.insertInto('staff_users').values(staffRow(tenantId, 'txn-late-2@example.test')).execute(),
      ).rejects.toThrow(FinishedTransactionError);
      expect(await staffCount('txn-late-1@example.test')).toBe(1);
      expect(await staffCount('txn-late-2@example.test')).toBe(0);
      expectReleased(one.pool);
    } finally {
      await one.close();
    }
  });
});
