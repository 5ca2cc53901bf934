import type { Kernel } from '../src/kernel/kernel.js';
import { createAppDb, type AppPoolOptions, type Db } from '../src/platform/db.js';
import { testLogger, type TestDatabase } from './database.js';
import { createTestKernel } from './kernel.js';
import type { TcpProxy } from './tcp-proxy.js';

/** `connectionString` with its server replaced by `proxy` on loopback. */
export function throughProxy(connectionString: string, proxy: TcpProxy): string {
  const url = new URL(connectionString);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  return url.toString();
}

/**
 * A kernel whose data database is reached through `proxy`, so a test can cut or freeze it under
 * the kernel; the key store is reached directly. `db` is the proxied pool, for the test to destroy.
 */
export function createProxiedKernel(
  database: TestDatabase,
  proxy: TcpProxy,
  pool: Partial<Omit<AppPoolOptions, 'connectionString' | 'assumeAppRole' | 'logger'>> = {},
): { db: Db; kernel: Kernel } {
  const { db } = createAppDb({
    max: 4,
    ...pool,
    connectionString: throughProxy(database.ownerUrl, proxy),
    assumeAppRole: true,
    logger: testLogger,
  });
  return { db, kernel: createTestKernel({ ...database, db }) };
}

/** What a proxied-kernel test holds, each possibly unset when its `beforeAll` failed early. */
export interface ProxiedTestParts {
  app?: { close(): Promise<unknown> } | undefined;
  proxied?: Db | undefined;
  proxy?: TcpProxy | undefined;
  database?: TestDatabase | undefined;
}

/**
 * The teardown of a proxied-kernel test, in the order that leaves nothing waiting: the app (its
 * requests end), the proxied pool, the proxy (any connection of a freeze is cut), the database.
 */
export async function closeProxiedKernel(parts: ProxiedTestParts): Promise<void> {
  await parts.app?.close();
  await parts.proxied?.destroy();
  await parts.proxy?.cut().catch(() => undefined);
  await parts.database?.close();
}
