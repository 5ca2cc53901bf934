import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createAppDb, type Db } from '../src/platform/db.js';
import { withDatabase } from '../src/platform/database-url.js';
import { createLogger } from '../src/platform/logger.js';

export const TEMPLATE_DATABASE = 'kluis_template';

export interface TestDatabase {
  name: string;
  /** Owner (superuser) connection: for checks the app itself may not do. */
  ownerUrl: string;
  /** The app's pool, running as the RLS-bound role exactly as in production. */
  db: Db;
  close(): Promise<void>;
}

export const testLogger = createLogger({ level: 'silent' });

/** A fresh database cloned from the migrated template; each test file gets its own. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = inject('serverUrl');
  const name = `kluis_test_${randomBytes(6).toString('hex')}`;
  await runAsOwner(serverUrl, `create database ${name} template ${TEMPLATE_DATABASE}`);
  const ownerUrl = withDatabase(serverUrl, name);
  const { db } = createAppDb({ connectionString: ownerUrl, assumeAppRole: true, logger: testLogger, max: 4 });
  return {
    name,
    ownerUrl,
    db,
    close: async () => {
      await db.destroy();
      await runAsOwner(serverUrl, `drop database if exists ${name} with (force)`);
    },
  };
}

export async function runAsOwner<R extends pg.QueryResultRow = pg.QueryResultRow>(
  connectionString: string,
  text: string,
  values: unknown[] = [],
): Promise<pg.QueryResult<R>> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await client.query<R>(text, values);
  } finally {
    await client.end();
  }
}
