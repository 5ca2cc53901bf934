import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres, type EmbeddedServer } from '../src/platform/embedded-postgres.js';
import { createLogger } from '../src/platform/logger.js';
import { withDatabase } from '../src/platform/database-url.js';
import { KEYSTORE_MIGRATIONS_DIR, migrate } from '../src/platform/migrate.js';

/**
 * One throwaway PostgreSQL for the whole run (never ./.kluis), with a migrated template
 * database; each test file clones its own database from it (test/database.ts).
 * With KLUIS_TEST_DATABASE_URL set, an external server is used instead.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TEMPLATE_DATABASE = 'kluis_template';
export const KEYSTORE_TEMPLATE_DATABASE = 'kluis_keys_template';

declare module 'vitest' {
  export interface ProvidedContext {
    serverUrl: string;
  }
}

interface SharedServer {
  users: number;
  ready: Promise<{ serverUrl: string; server?: EmbeddedServer; dataDir?: string }>;
}

/**
 * vitest calls the global setup once per project (decision 0841: two projects, and the root):
 * the first call starts the one server, the others wait for it, and the last teardown stops it.
 * They run in the one main process, so `globalThis` holds it across the projects' module copies.
 */
const SHARED = Symbol.for('kluis.test.server');
type WithShared = typeof globalThis & { [SHARED]?: SharedServer };

export async function setup(project: TestProject): Promise<void> {
  const holder = globalThis as WithShared;
  holder[SHARED] ??= { users: 0, ready: startServer() };
  holder[SHARED].users += 1;
  const { serverUrl } = await holder[SHARED].ready;
  project.provide('serverUrl', serverUrl);
}

async function startServer(): Promise<{ serverUrl: string; server?: EmbeddedServer; dataDir?: string }> {
  // CLI tests run bin/kluis.js, which runs dist/ when it is current: build it first (incremental).
  // A failed build leaves no stamp, and bin/kluis.js then runs the sources through tsx.
  spawnSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'ignore' });
  const logger = createLogger({ level: 'warn', destination: process.stderr });
  let serverUrl = process.env.KLUIS_TEST_DATABASE_URL;
  let server: EmbeddedServer | undefined;
  let dataDir: string | undefined;
  if (!serverUrl) {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'kluis-test-'));
    server = await startEmbeddedPostgres({ dataDir, preferredPort: 0, logger, persistent: false });
    serverUrl = server.url('postgres');
  }
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    for (const template of [TEMPLATE_DATABASE, KEYSTORE_TEMPLATE_DATABASE]) {
      await admin.query(`drop database if exists ${template}`);
      await admin.query(`create database ${template}`);
    }
  } finally {
    await admin.end();
  }
  await migrate(withDatabase(serverUrl, TEMPLATE_DATABASE), logger);
  await migrate(withDatabase(serverUrl, KEYSTORE_TEMPLATE_DATABASE), logger, KEYSTORE_MIGRATIONS_DIR);
  return { serverUrl, ...(server ? { server } : {}), ...(dataDir ? { dataDir } : {}) };
}

export async function teardown(): Promise<void> {
  const holder = globalThis as WithShared;
  const shared = holder[SHARED];
  if (!shared) return;
  shared.users -= 1;
  if (shared.users > 0) return;
  holder[SHARED] = undefined;
  const { server, dataDir } = await shared.ready;
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}
