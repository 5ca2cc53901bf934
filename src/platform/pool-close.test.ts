import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../test/database.js';
import { throughProxy } from '../../test/proxied-kernel.js';
import { startProxy } from '../../test/tcp-proxy.js';
import { createAppDb, type Db } from './db.js';
import { createLogger } from './logger.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database.close());

/** A logger whose warnings and errors are kept. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: 'warn',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return { lines, logger };
}

/** Makes the pool open `count` connections at once; answers their backends' process ids. */
async function openConnections(db: Db, count: number): Promise<number[]> {
  const answers = await Promise.all(
    Array.from({ length: count }, () =>
      sql<{ pid: number }>`select pg_backend_pid() as pid, pg_sleep(0.2)`.execute(db),
    ),
  );
  return answers.map(({ rows }) => rows[0]?.pid ?? 0);
}

describe('closing the app pool waits for the server to close its connections (decision 0735)', () => {
  it('destroy() has not resolved while the server has not closed the connections, and resolves once they are closed', async () => {
    const proxy = await startProxy(new URL(database.ownerUrl));
    const log = capturingLogger();
    const { db } = createAppDb({
      connectionString: throughProxy(database.ownerUrl, proxy),
      assumeAppRole: true,
      logger: log.logger,
      max: 3,
    });
    try {
      await openConnections(db, 3);
      // The goodbye reaches no server and nothing comes back: the connections stay open.
      proxy.freeze();
      let destroyed = false;
      const destroying = db.destroy().then(() => {
        destroyed = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(destroyed).toBe(false);
      await proxy.cut();
      await destroying;
      expect(destroyed).toBe(true);
      expect(log.lines).toEqual([]);
    } finally {
      await proxy.cut();
    }
  });

  it('a server that does not close them within the wait has them closed from this side, said once', async () => {
    const proxy = await startProxy(new URL(database.ownerUrl));
    const log = capturingLogger();
    const { db } = createAppDb({
      connectionString: throughProxy(database.ownerUrl, proxy),
      assumeAppRole: true,
      logger: log.logger,
      max: 3,
      closeWaitMs: 200,
    });
    try {
      await openConnections(db, 3);
      proxy.freeze();
      await db.destroy();
      expect(log.lines).toEqual([
        expect.objectContaining({
          level: 40,
          connections: 3,
          waitMs: 200,
          msg: 'the database did not close its connections in time: closed from this side',
        }),
      ]);
    } finally {
      await proxy.cut();
    }
  });

  it('once destroy() has resolved, the server holds no session of the pool: stopping it then terminates nothing and nothing is logged', async () => {
    const log = capturingLogger();
    const { db } = createAppDb({
      connectionString: database.ownerUrl,
      assumeAppRole: true,
      logger: log.logger,
      max: 3,
    });
    const pids = await openConnections(db, 3);
    expect(new Set(pids).size).toBe(3);
    await db.destroy();
    // What a fast shutdown does to every session still open (57P01), right after the close.
    const terminated = await runAsOwner<{ terminated: boolean }>(
      database.ownerUrl,
      'select pg_terminate_backend(pid) as terminated from unnest($1::int[]) as pid',
      [pids],
    );
    expect(terminated.rows.map((row) => row.terminated)).toEqual([false, false, false]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(log.lines).toEqual([]);
  });
});
