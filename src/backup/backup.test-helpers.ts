import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../test/database.js';
import { createKernel, type Kernel } from '../kernel/kernel.js';
import { LocalKeyManagementService } from '../kernel/keyring/kms.js';
import type { KeystoreDatabase } from '../kernel/keyring/keystore.tables.js';
import { systemClock } from '../platform/clock.js';
import { createAppDb } from '../platform/db.js';
import { withDatabase } from '../platform/database-url.js';

/** A test database, its kernel and a scratch folder, with the databases that restores write into. */
export interface BackupWorkspace {
  readonly database: TestDatabase;
  readonly kernel: Kernel;
  readonly dir: string;
  readonly masterKey: Buffer;
  /** The environment of a CLI run against this data database (or another one). */
  env(ownerUrl: string, extra?: Record<string, string>): Record<string, string>;
  /** A new empty database on the test server, dropped at close. */
  emptyDatabase(suffix: string): Promise<string>;
  /** A kernel over another data database with this key store and master key. */
  kernelOn(ownerUrl: string): { kernel: Kernel; close(): Promise<void> };
  close(): Promise<void>;
}

export async function openBackupWorkspace(prefix: string): Promise<BackupWorkspace> {
  const masterKey = randomBytes(32);
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const database = await createTestDatabase();
  const kms = new LocalKeyManagementService(masterKey);
  const kernel = createKernel({ db: database.db, keystore: database.keystore, kms, clock: systemClock });
  const extraDatabases: string[] = [];
  return {
    database,
    kernel,
    dir,
    masterKey,
    env: (ownerUrl, extra = {}) => ({
      DATABASE_URL: ownerUrl,
      KLUIS_KEYSTORE_URL: database.keystoreOwnerUrl,
      KLUIS_MASTER_KEY: masterKey.toString('base64'),
      KLUIS_DATA_DIR: path.join(dir, 'data'),
      ...extra,
    }),
    emptyDatabase: async (suffix) => {
      const name = `${database.name}_${suffix}`;
      await runAsOwner(inject('serverUrl'), `create database ${name}`);
      extraDatabases.push(name);
      return withDatabase(inject('serverUrl'), name);
    },
    kernelOn: (ownerUrl) => {
      const appDb = { connectionString: ownerUrl, assumeAppRole: true, logger: testLogger, max: 2 };
      const { db } = createAppDb(appDb);
      const { db: keystore } = createAppDb<KeystoreDatabase>({
        ...appDb,
        connectionString: database.keystoreOwnerUrl,
      });
      return {
        kernel: createKernel({ db, keystore, kms, clock: systemClock }),
        close: async () => {
          await db.destroy();
          await keystore.destroy();
        },
      };
    },
    close: async () => {
      await database.close();
      for (const name of extraDatabases) {
        await runAsOwner(inject('serverUrl'), `drop database if exists ${name} with (force)`);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
