import { inject } from 'vitest';
import { runAsOwner, testLogger, type TestDatabase } from '../../test/database.js';
import { createKernel, type Kernel } from '../kernel/kernel.js';
import { LocalKeyManagementService } from '../kernel/keyring/kms.js';
import type { KeystoreDatabase } from '../kernel/keyring/keystore.tables.js';
import { systemClock } from '../platform/clock.js';
import { createAppDb } from '../platform/db.js';
import { withDatabase } from '../platform/database-url.js';
import { openCliWorkspace } from '../../test/cli-workspace.js';

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
  /** A kernel over another data database with this key store (or another) and master key. */
  kernelOn(ownerUrl: string, keystoreOwnerUrl?: string): { kernel: Kernel; close(): Promise<void> };
  close(): Promise<void>;
}

export async function openBackupWorkspace(
  prefix: string,
  options: { masterKey?: Buffer } = {},
): Promise<BackupWorkspace> {
  const base = await openCliWorkspace(prefix, options);
  const { database, masterKey } = base;
  const kms = new LocalKeyManagementService(masterKey);
  const extraDatabases: string[] = [];
  return {
    database,
    kernel: base.kernel,
    dir: base.dir,
    masterKey,
    env: (ownerUrl, extra) => base.envFor(ownerUrl, extra),
    emptyDatabase: async (suffix) => {
      const name = `${database.name}_${suffix}`;
      await runAsOwner(inject('serverUrl'), `create database ${name}`);
      extraDatabases.push(name);
      return withDatabase(inject('serverUrl'), name);
    },
    kernelOn: (ownerUrl, keystoreOwnerUrl = database.keystoreOwnerUrl) => {
      const appDb = { connectionString: ownerUrl, assumeAppRole: true, logger: testLogger, max: 2 };
      const { db } = createAppDb(appDb);
      const { db: keystore } = createAppDb<KeystoreDatabase>({
        ...appDb,
        connectionString: keystoreOwnerUrl,
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
      await base.close();
      for (const name of extraDatabases) {
        await runAsOwner(inject('serverUrl'), `drop database if exists ${name} with (force)`);
      }
    },
  };
}
