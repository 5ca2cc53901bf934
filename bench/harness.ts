import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createAppDb, type Db } from '../src/platform/db.js';
import { withDatabase } from '../src/platform/database-url.js';
import { startEmbeddedPostgres } from '../src/platform/embedded-postgres.js';
import { createLogger } from '../src/platform/logger.js';
import { KEYSTORE_MIGRATIONS_DIR, migrate } from '../src/platform/migrate.js';
import { randomBytes } from 'node:crypto';
import { systemClock } from '../src/platform/clock.js';
import { createKernel, type Kernel } from '../src/kernel/kernel.js';
import { LocalKeyManagementService } from '../src/kernel/keyring/kms.js';
import type { KeystoreDatabase } from '../src/kernel/keyring/keystore.tables.js';

export const benchLogger = createLogger({ level: 'warn', destination: process.stderr });

export interface BenchDatabase {
  ownerUrl: string;
  db: Db;
  keystoreOwnerUrl: string;
  kernel: Kernel;
  /**
   * A kernel on the same databases and master key with nothing cached (no data key, no policy):
   * what a process sees that has not touched these people in the last minute, as a monthly run.
   */
  freshKernel(): Kernel;
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
    const server = await startEmbeddedPostgres({
      dataDir,
      preferredPort: 0,
      logger: benchLogger,
      persistent: false,
    });
    serverUrl = server.url('postgres');
    stopServer = async () => {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  }
  const name = `kluis_bench_${Date.now()}`;
  await ownerQuery(serverUrl, `create database ${name}`);
  await ownerQuery(serverUrl, `create database ${name}_keys`);
  const ownerUrl = withDatabase(serverUrl, name);
  const keystoreOwnerUrl = withDatabase(serverUrl, `${name}_keys`);
  await migrate(ownerUrl, benchLogger);
  await migrate(keystoreOwnerUrl, benchLogger, KEYSTORE_MIGRATIONS_DIR);
  const { db } = createAppDb({ connectionString: ownerUrl, assumeAppRole: true, logger: benchLogger });
  const { db: keystore } = createAppDb<KeystoreDatabase>({
    connectionString: keystoreOwnerUrl,
    assumeAppRole: true,
    logger: benchLogger,
  });
  const kms = new LocalKeyManagementService(randomBytes(32));
  const kernel = createKernel({ db, keystore, kms, clock: systemClock });
  return {
    ownerUrl,
    db,
    keystoreOwnerUrl,
    kernel,
    freshKernel: () => createKernel({ db, keystore, kms, clock: systemClock }),
    close: async () => {
      await db.destroy();
      await keystore.destroy();
      await ownerQuery(serverUrl, `drop database if exists ${name} with (force)`);
      await ownerQuery(serverUrl, `drop database if exists ${name}_keys with (force)`);
      await stopServer();
    },
  };
}

export async function ownerQuery(
  connectionString: string,
  text: string,
  values: unknown[] = [],
): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

/**
 * Before a long scenario's clock (decision 1310): the set-up's rows vacuumed and analysed, so that
 * the first timed run does not set their hint bits and visibility for the runs after it, and a
 * checkpoint taken, so that the one the set-up's WAL started is finished instead of writing its
 * pages beside whichever run comes next. A role that may not checkpoint (an external server's
 * owner without pg_checkpoint) measures without it, and says so.
 */
export async function settleDatabase(
  connectionString: string,
  options: { vacuum?: boolean } = {},
): Promise<void> {
  if (options.vacuum) await ownerQuery(connectionString, 'vacuum (analyze)');
  try {
    await ownerQuery(connectionString, 'checkpoint');
  } catch (error) {
    if ((error as { code?: string }).code !== '42501') throw error;
    if (!checkpointRefusedSaid)
      console.warn('bench: this role may not CHECKPOINT; timed runs may overlap one');
    checkpointRefusedSaid = true;
  }
}
let checkpointRefusedSaid = false;

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

/**
 * Our work and its baseline measured in turn (baseline, ours, baseline, ours, …) after one warm-up
 * each, so that a load spike on this shared machine hits both alike. Returns each one's median
 * and spread, and the ratio baseline time ÷ our time of each pair (median and min–max).
 */
export async function pairedMs(
  repeats: number,
  ours: () => Promise<void>,
  baseline: () => Promise<void>,
): Promise<{ ours: Timing; baseline: Timing; ratio: Timing }> {
  await baseline();
  await ours();
  const times = { ours: [] as number[], baseline: [] as number[] };
  const clock = async (run: () => Promise<void>): Promise<number> => {
    const started = process.hrtime.bigint();
    await run();
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  for (let i = 0; i < repeats; i += 1) {
    times.baseline.push(await clock(baseline));
    times.ours.push(await clock(ours));
  }
  return {
    ours: timing(times.ours),
    baseline: timing(times.baseline),
    ratio: timing(times.baseline.map((base, i) => base / (times.ours[i] ?? Number.NaN))),
  };
}

export interface Timing {
  median: number;
  min: number;
  max: number;
}

function timing(samples: number[]): Timing {
  const sorted = [...samples].sort((x, y) => x - y);
  return {
    median: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN,
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
  };
}

export interface Figure {
  scenario: string;
  metric: string;
  value: number;
  unit: string;
  /** The same work's physical limit measured in the same run, and ours as a ratio of it. */
  baseline?: { what: string; value: number; unit: string };
  ratio?: number;
  /** The ratio from the fastest and slowest repeats (min–max), where the scenario measured it. */
  ratioRange?: [number, number];
  /** The issue's goal for the ratio, where it states one. */
  goal?: number;
  /** The 1-minute load average at the start and end of its scenario (set by run.ts). */
  load?: [number, number];
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

/** The figures as a Markdown table: ours, the baseline, the ratio (with its spread) and the goal. */
export function resultTable(figures: readonly Figure[]): string {
  const number = (value: number): string =>
    value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
  const lines = [
    '| Figure | Ours | Baseline | Ratio (min–max) | Goal | Load |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const figure of figures) {
    const ratio =
      figure.ratio === undefined
        ? '—'
        : `${figure.ratio.toFixed(2)}${figure.ratioRange ? ` (${figure.ratioRange[0].toFixed(2)}–${figure.ratioRange[1].toFixed(2)})` : ''}`;
    lines.push(
      `| ${figure.scenario}: ${figure.metric} | ${number(figure.value)} ${figure.unit} | ${
        figure.baseline ? `${number(figure.baseline.value)} ${figure.baseline.unit}` : '—'
      } | ${ratio} | ${figure.goal === undefined ? '—' : `≥ ${figure.goal}`} | ${
        figure.load ? `${figure.load[0].toFixed(1)}–${figure.load[1].toFixed(1)}` : '—'
      } |`,
    );
  }
  return lines.join('\n');
}
