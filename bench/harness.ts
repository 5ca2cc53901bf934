import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createAppDb, type Db } from '../src/platform/db.js';
import { withDatabase } from '../src/platform/database-url.js';
import { startEmbeddedPostgres } from '../src/platform/embedded-postgres.js';
import { createLogger } from '../src/platform/logger.js';
import { migrate } from '../src/platform/migrate.js';

export const benchLogger = createLogger({ level: 'warn', destination: process.stderr });

export interface BenchDatabase {
  ownerUrl: string;
  db: Db;
  close(): Promise<void>;
}

/** A throwaway, migrated database on its own embedded server (or KLUIS_BENCH_DATABASE_URL's server). */
export async function startBenchDatabase(): Promise<BenchDatabase> {
  const external = process.env.KLUIS_BENCH_DATABASE_URL;
  let stopServer = async (): Promise<void> => {};
  let serverUrl: string;
  if (external) {
    serverUrl = external;
  } else {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'kluis-bench-'));
    const server = await startEmbeddedPostgres({ dataDir, preferredPort: 0, logger: benchLogger, persistent: false });
    serverUrl = server.url('postgres');
    stopServer = async () => {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  }
  const name = `kluis_bench_${Date.now()}`;
  await ownerQuery(serverUrl, `create database ${name}`);
  const ownerUrl = withDatabase(serverUrl, name);
  await migrate(ownerUrl, benchLogger);
  const { db } = createAppDb({ connectionString: ownerUrl, assumeAppRole: true, logger: benchLogger });
  return {
    ownerUrl,
    db,
    close: async () => {
      await db.destroy();
      await ownerQuery(serverUrl, `drop database if exists ${name} with (force)`);
      await stopServer();
    },
  };
}

export async function ownerQuery(connectionString: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

/** Median wall time in ms of `repeats` runs, after one warm-up run. */
export async function medianMs(repeats: number, run: () => Promise<void>): Promise<number> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i += 1) {
    const started = process.hrtime.bigint();
    await run();
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

export interface Figure {
  scenario: string;
  metric: string;
  value: number;
  unit: string;
  /** The same work's physical limit measured in the same run, and ours as a ratio of it. */
  baseline?: { what: string; value: number; unit: string };
  ratio?: number;
  note?: string;
}

export async function writeResults(figures: Figure[]): Promise<string> {
  const dir = path.resolve('bench/out');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `bench-${new Date().toISOString().replaceAll(':', '-')}.json`);
  const body = { at: new Date().toISOString(), node: process.version, cpus: os.cpus().length, figures };
  await writeFile(file, `${JSON.stringify(body, null, 2)}\n`);
  await writeFile(path.join(dir, 'latest.json'), `${JSON.stringify(body, null, 2)}\n`);
  return file;
}
