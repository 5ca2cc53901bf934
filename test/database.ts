import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createAppDb, type Db } from '../src/platform/db.js';
import { withDatabase } from '../src/platform/database-url.js';
import { createLogger } from '../src/platform/logger.js';
import type { KeystoreDatabase, KeystoreDb } from '../src/kernel/keyring/keystore.tables.js';

export const TEMPLATE_DATABASE = 'kluis_template';
export const KEYSTORE_TEMPLATE_DATABASE = 'kluis_keys_template';

export interface TestDatabase {
  name: string;
  /** Owner (superuser) connection: for checks the app itself may not do. */
  ownerUrl: string;
  /** The app's pool, running as the RLS-bound role exactly as in production. */
  db: Db;
  keystoreOwnerUrl: string;
  keystore: KeystoreDb;
  close(): Promise<void>;
}

export const testLogger = createLogger({ level: 'silent' });

/** Fresh data and key-store databases cloned from the migrated templates; one pair per test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = inject('serverUrl');
  const name = `kluis_test_${randomBytes(6).toString('hex')}`;
  await cloneTemplate(serverUrl, name, TEMPLATE_DATABASE);
  await cloneTemplate(serverUrl, `${name}_keys`, KEYSTORE_TEMPLATE_DATABASE);
  const ownerUrl = withDatabase(serverUrl, name);
  const keystoreOwnerUrl = withDatabase(serverUrl, `${name}_keys`);
  const { db } = createAppDb({ connectionString: ownerUrl, assumeAppRole: true, logger: testLogger, max: 6 });
  const { db: keystore } = createAppDb<KeystoreDatabase>({
    connectionString: keystoreOwnerUrl,
    assumeAppRole: true,
    logger: testLogger,
    max: 3,
  });
  return {
    name,
    ownerUrl,
    db,
    keystoreOwnerUrl,
    keystore,
    close: async () => {
      await db.destroy();
      await keystore.destroy();
      await runAsOwner(serverUrl, `drop database if exists ${name} with (force)`);
      await runAsOwner(serverUrl, `drop database if exists ${name}_keys with (force)`);
    },
  };
}

/** CREATE DATABASE … TEMPLATE fails while another session copies the same template: retry briefly. */
async function cloneTemplate(serverUrl: string, name: string, template: string): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await runAsOwner(serverUrl, `create database ${name} template ${template}`);
      return;
    } catch (error) {
      const isBusy = error instanceof Error && /being accessed by other users/.test(error.message);
      if (!isBusy || attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
    }
  }
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
