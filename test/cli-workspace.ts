import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createKernel, type Kernel } from '../src/kernel/kernel.js';
import { LocalKeyManagementService } from '../src/kernel/keyring/kms.js';
import { systemClock } from '../src/platform/clock.js';
import { createTestDatabase, type TestDatabase } from './database.js';

/**
 * What a test that runs `kluis` against its own database needs: the database, a kernel in this
 * process with the same master key (to set up and to check), a scratch folder, and the child's
 * environment.
 */
export interface CliWorkspace {
  readonly database: TestDatabase;
  readonly kernel: Kernel;
  readonly dir: string;
  readonly masterKey: Buffer;
  /** The environment of a CLI child against this database. */
  readonly env: Record<string, string>;
  /** The same against another data database, with extra variables. */
  envFor(ownerUrl: string, extra?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

export async function openCliWorkspace(
  prefix: string,
  options: { masterKey?: Buffer } = {},
): Promise<CliWorkspace> {
  const masterKey = options.masterKey ?? randomBytes(32);
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const database = await createTestDatabase();
  const kms = new LocalKeyManagementService(masterKey);
  const kernel = createKernel({ db: database.db, keystore: database.keystore, kms, clock: systemClock });
  const envFor = (ownerUrl: string, extra: Record<string, string> = {}): Record<string, string> => ({
    DATABASE_URL: ownerUrl,
    KLUIS_KEYSTORE_URL: database.keystoreOwnerUrl,
    KLUIS_MASTER_KEY: masterKey.toString('base64'),
    KLUIS_DATA_DIR: path.join(dir, 'data'),
    ...extra,
  });
  return {
    database,
    kernel,
    dir,
    masterKey,
    env: envFor(database.ownerUrl),
    envFor,
    close: async () => {
      await database.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
