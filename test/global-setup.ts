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

let server: EmbeddedServer | undefined;
let dataDir: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  // CLI tests run bin/kluis.js, which runs dist/ when it is current: build it first (incremental).
  // A failed build leaves no stamp, and bin/kluis.js then runs the sources through tsx.
  spawnSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'ignore' });
  const logger = createLogger({ level: 'warn', destination: process.stderr });
  let serverUrl = process.env.KLUIS_TEST_DATABASE_URL;
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
  project.provide('serverUrl', serverUrl);
}

export async function teardown(): Promise<void> {
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}
