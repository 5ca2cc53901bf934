import PgBoss from 'pg-boss';
import { describeUnexpected } from './errors.js';
import type { Logger } from './logger.js';

/**
 * pg-boss's own tables live in this schema of the data database. They are infrastructure, not
 * tenant data: no tenant_id, no row-level security, reached only through the owner connection
 * (docs/decisions/0070). Job payloads carry no personal data.
 */
export const JOB_SCHEMA = 'kluis_jobs';

/** One kind of scheduled work: what runs, and when (cron, UTC, minute granularity). */
export interface JobDefinition {
  name: string;
  /** Cron expression; omitted for jobs that only run when sent (`runNow`). */
  cron?: string;
  /** Must be idempotent: the queue delivers at least once (a crashed worker's job is retried). */
  run(): Promise<void>;
}

export interface JobQueue {
  /** Creates the queue, its schedule (if any) and a worker in this process. */
  register(job: JobDefinition): Promise<void>;
  /** Enqueues one run now; at most one waits per job, however many processes ask. */
  runNow(name: string): Promise<void>;
  /** Resolves once no job of this name waits or runs (tests, shutdown ordering). */
  drain(name: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface JobQueueOptions {
  /** The owner connection: pg-boss creates and migrates its own schema. */
  connectionString: string;
  logger: Logger;
  /** How often idle workers look for work; seconds. */
  pollingIntervalSeconds?: number;
}

/**
 * The PostgreSQL-backed job queue (pg-boss, DESIGN.md "Jobs"): every process registers the same
 * jobs, and the queue hands each run to exactly one worker across all processes (rows claimed with
 * SKIP LOCKED, `stately` queues: at most one run waiting and one running per job).
 */
export async function startJobQueue(options: JobQueueOptions): Promise<JobQueue> {
  const { logger } = options;
  const boss = new PgBoss({
    connectionString: options.connectionString,
    schema: JOB_SCHEMA,
    application_name: 'kluis-jobs',
    max: 3,
    // A run that hangs is given back to the queue after 15 minutes.
    expireInMinutes: 15,
    retryLimit: 3,
    retryDelay: 30,
    retentionDays: 7,
    deleteAfterDays: 7,
  });
  boss.on('error', (error: Error) => {
    logger.warn({ err: describeUnexpected(error) }, 'job queue error');
  });
  await boss.start();
  const polling = options.pollingIntervalSeconds ?? 2;
  const names = new Set<string>();
  return {
    async register(job) {
      if (names.has(job.name)) throw new Error(`job ${job.name} registered twice`);
      names.add(job.name);
      // Another process may create the same queue at the same moment: that is fine.
      if (!(await boss.getQueue(job.name))) {
        await boss
          .createQueue(job.name, { name: job.name, policy: 'stately' })
          .catch(async (error: unknown) => {
            if (!(await boss.getQueue(job.name))) throw error;
          });
      }
      if (job.cron !== undefined) await boss.schedule(job.name, job.cron, {}, { tz: 'UTC' });
      await boss.work(job.name, { pollingIntervalSeconds: polling, batchSize: 1 }, async () => {
        try {
          await job.run();
        } catch (error) {
          logger.error({ err: describeUnexpected(error), job: job.name }, 'job failed; it will be retried');
          throw error;
        }
      });
    },
    async runNow(name) {
      // null when a run already waits (stately queue): that run will do the work.
      await boss.send(name, {});
    },
    async drain(name, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const waiting = await boss.getQueueSize(name, { before: 'completed' });
        if (waiting === 0) return;
        if (Date.now() > until) throw new Error(`job ${name} did not finish in ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async stop() {
      await boss.stop({ graceful: true, wait: true, timeout: 20_000 });
    },
  };
}
