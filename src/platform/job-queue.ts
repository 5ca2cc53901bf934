import pg from 'pg';
import PgBoss from 'pg-boss';
import cronParser from 'cron-parser';
import { endWhenClosed } from './db.js';
import { describeUnexpected } from './errors.js';
import { jobFailureLog } from './job-failure-log.js';
import { JobStopped } from './job-stop.js';
import type { Logger } from './logger.js';
import { outsideRequest } from './request-scope.js';
import { namedConnectionString, type ServerApplicationName } from './server-sessions.js';

/**
 * pg-boss's own tables live in this schema of the data database. They are infrastructure, not
 * tenant data: no tenant_id, no row-level security, reached only through the owner connection
 * (docs/decisions/0070). Job payloads carry no personal data.
 */
export const JOB_SCHEMA = 'kluis_jobs';

export { JobStopped };

/** One kind of scheduled work: what runs, and when (cron, UTC, minute granularity). */
export interface JobDefinition {
  name: string;
  /** Cron expression; omitted for jobs that only run when sent (`runNow`). */
  cron?: string;
  /**
   * Must be idempotent: the queue delivers at least once (a crashed worker's job is retried).
   * `stopping` is aborted when the process stops: a long run ends at its next batch boundary
   * (its work left to the next run) instead of being cut by the closing pools (decision 0836).
   */
  run(stopping?: AbortSignal): Promise<void>;
  /**
   * The run guards its own work with advisory locks (a second run beside a live one only skips
   * what the first holds). A run whose process died is then failed within a minute instead of
   * blocking the stately queue until its 15-minute expiry (decision 0466).
   */
  recoverable?: boolean;
  /**
   * A daily run missed while no server ran (pg-boss sends a schedule only within its own minute)
   * is run at the next start, once, if the schedule already existed then (decision 1236).
   */
  catchUp?: boolean;
}

export interface JobQueue {
  /** Creates the queue, its schedule (if any) and a worker in this process. */
  register(job: JobDefinition): Promise<void>;
  /** Enqueues one run now; at most one waits per job, however many processes ask. */
  runNow(name: string): Promise<void>;
  /** Resolves once no job of this name waits or runs (tests, shutdown ordering). */
  drain(name: string, timeoutMs?: number): Promise<void>;
  /**
   * Tells the running jobs to stop, waits for them within the grace (`stopGraceMs`), then ends the
   * queue's connections. Says which jobs still ran when the grace was over (decision 0836).
   */
  stop(): Promise<JobQueueStop>;
}

/** What a stop of the queue left behind. */
export interface JobQueueStop {
  /** The jobs whose run this process was still running when the grace was over: they are cut. */
  cut: string[];
}

/**
 * How long a stop waits for running jobs once told (pg-boss's graceful stop, decision 0785): the
 * jobs that honour `stopping` end within a batch; one still running then is cut (decision 0836).
 */
export const JOB_STOP_GRACE_MS = 20_000;

/** How long a stop waits after the grace for pg-boss's queries on the wire (a fetch, a run's end). */
const LAND_WAIT_MS = 5_000;

export interface JobQueueOptions {
  /** The owner connection: pg-boss creates and migrates its own schema. */
  connectionString: string;
  logger: Logger;
  /** How often idle workers look for work; seconds. */
  pollingIntervalSeconds?: number;
  /** How often dead runs of recoverable jobs are looked for; seconds (decision 0466). */
  recoverIntervalSeconds?: number;
  /** A run younger than this is not judged (pg-boss may have claimed it and not yet called us); seconds, for tests. */
  claimGraceSeconds?: number;
  /** How long stop() waits for the server to close the queue's pool's connections; ms, for tests (decision 0763). */
  closeWaitMs?: number;
  /** How long stop() waits for running jobs; ms, for tests (JOB_STOP_GRACE_MS). */
  stopGraceMs?: number;
}

/** A live run holds this session lock (keyed by the job's id) for as long as its handler runs. */
const RUN_LOCK = "hashtextextended('kluis.job.' || $1::text, 0)";
/** A run younger than this is not judged: pg-boss may have claimed it and not yet called us. */
const CLAIM_GRACE_SECONDS = 10;

/**
 * The PostgreSQL-backed job queue (pg-boss, DESIGN.md "Jobs"): every process registers the same
 * jobs, and the queue hands each run to exactly one worker across all processes (rows claimed with
 * SKIP LOCKED, `stately` queues: at most one run waiting and one running per job).
 */
export function startJobQueue(options: JobQueueOptions): Promise<JobQueue> {
  // pg-boss's loops and timers, and this queue's own, keep the scope they were created in: none.
  return outsideRequest(() => startQueue(options));
}

async function startQueue(options: JobQueueOptions): Promise<JobQueue> {
  const { logger } = options;
  // pg-boss's queries go through a pool of ours, ended as the app's pools are: stop() resolves
  // once the server has closed its connections, so a server stopped next terminates none of them
  // (decision 0763; pg-boss's own pool resolved its end() when it had only asked, decision 0735).
  const pool = new pg.Pool({
    connectionString: namedConnectionString(options.connectionString, 'kluis-jobs'),
    max: 3,
  });
  pool.on('error', (error: Error) => {
    logger.warn({ err: describeUnexpected(error) }, 'job queue error');
  });
  const endPool = endWhenClosed(pool, logger, options.closeWaitMs);
  /** pg-boss's queries on the wire (a worker's fetch, a run's end): a stop lets them land first. */
  const onTheWire = new Set<Promise<unknown>>();
  // Set by the stop just before the pool ends.
  let closed = false;
  // Awaited, so that an error's async stack still names pg-boss's caller (Manager.complete, …).
  const executeSql = async (text: string, values?: unknown[]): Promise<pg.QueryResult> => {
    // A run that ends after the stop: pg-boss records it (complete, fail) without awaiting, so a
    // refusal of the ended pool would be an unhandled rejection. It cannot land anyway; the run
    // stays active and the next process gives it back (expiry, recovery).
    if (closed) return { command: '', rowCount: 0, oid: 0, rows: [], fields: [] };
    const query = pool.query(text, values);
    onTheWire.add(query);
    try {
      return await query;
    } finally {
      onTheWire.delete(query);
    }
  };
  const boss = new PgBoss({
    db: { executeSql },
    schema: JOB_SCHEMA,
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
  try {
    await boss.start();
  } catch (error) {
    await endPool().catch(() => undefined);
    throw error;
  }
  const polling = options.pollingIntervalSeconds ?? 2;
  const names = new Set<string>();
  const recoverable = new Set<string>();
  const failures = jobFailureLog(logger);

  /** Takes each opened connection (for `stop`). */
  const opened: (() => Promise<pg.Client> | null)[] = [];
  /** The ids of the recoverable runs this process is running now: never judged here (decision 0545). */
  const running = new Set<string>();
  /** Every run of this process in progress, by job name (a stop says which it cut, decision 0836). */
  const inProgress = new Map<object, string>();
  /** Aborted when the queue stops: the jobs' stop signal. */
  const stopping = new AbortController();
  /** Set once the stop has ended the queue's pool. */

  /** One query on one of the queue's own connections, after every query asked of it before. */
  type SerialQuery = <R extends pg.QueryResultRow>(
    text: string,
    values: unknown[],
  ) => Promise<pg.QueryResult<R>>;

  /**
   * A lazily opened connection of this process, re-opened after it is lost. Two are kept apart:
   * `locks` holds the run locks of this process's recoverable runs (when the process dies,
   * PostgreSQL ends the session and the locks go with it); `checks` holds none and only tries
   * them. Advisory locks are re-entrant within a session, so a try on `locks` would take the
   * lock of this process's own live run and judge that run dead (attack S8-2, decision 0545).
   *
   * Its queries run one after another (decision 0642): concurrent runs and overlapping looks ask
   * at the same moment, and pg warns (pg 9 will refuse) when a client is asked while it is busy.
   */
  const connection = (applicationName: ServerApplicationName, lostMessage: string): SerialQuery => {
    let open: Promise<pg.Client> | null = null;
    let last: Promise<unknown> = Promise.resolve();
    const get = (): Promise<pg.Client> => {
      open ??= (async () => {
        const client = new pg.Client({
          connectionString: namedConnectionString(options.connectionString, applicationName),
        });
        client.on('error', (error: Error) => {
          logger.warn({ err: describeUnexpected(error) }, lostMessage);
          open = null;
        });
        await client.connect();
        return client;
      })().catch((error: unknown) => {
        open = null;
        throw error;
      });
      return open;
    };
    opened.push(() => {
      const client = open;
      open = null;
      return client;
    });
    return (text, values) => {
      const answer = last.then(async () => (await get()).query(text, values));
      last = answer.catch(() => undefined);
      return answer;
    };
  };
  // The locks went with the session; the next run opens a new one. A live run may then be failed
  // by another process's look: harmless for recoverable jobs (their work is locked).
  const locks = connection('kluis-job-locks', 'job lock connection lost');
  const checks = connection('kluis-job-checks', 'job check connection lost');

  /**
   * Fails the `active` runs of recoverable jobs whose run lock is free: nobody runs them (their
   * process is gone), so the stately queue may start the next run at once. Runs of this process
   * are skipped outright, and the lock is tried from `checks`, which holds no run lock.
   */
  const recoverDeadRuns = async (): Promise<void> => {
    if (recoverable.size === 0) return;
    const active = await checks<{ id: string; name: string }>(
      `select id::text, name from ${JOB_SCHEMA}.job
        where name = any($1::text[]) and state = 'active'
          and started_on < now() - make_interval(secs => $2)`,
      [[...recoverable], options.claimGraceSeconds ?? CLAIM_GRACE_SECONDS],
    );
    for (const job of active.rows) {
      if (running.has(job.id)) continue;
      const free = await checks<{ ok: boolean }>(`select pg_try_advisory_lock(${RUN_LOCK}) as ok`, [job.id]);
      if (free.rows[0]?.ok !== true) continue;
      try {
        // Its end is recorded under the lock (runOnce): one that ended since the look is not dead.
        const still = await checks(`select 1 from ${JOB_SCHEMA}.job where id = $1 and state = 'active'`, [
          job.id,
        ]);
        if (still.rowCount === 0) continue;
        await boss.fail(job.name, job.id, { message: 'its process ended during the run' });
        logger.warn(
          { job: job.name, jobId: job.id },
          'a run whose process ended was failed; the next run starts',
        );
      } finally {
        await checks(`select pg_advisory_unlock(${RUN_LOCK})`, [job.id]);
      }
    }
  };
  const recoverSafely = (): Promise<void> =>
    recoverDeadRuns().catch((error: unknown) => {
      logger.warn({ err: describeUnexpected(error) }, 'looking for dead job runs failed');
    });
  const recoverTimer = setInterval(() => void recoverSafely(), (options.recoverIntervalSeconds ?? 30) * 1000);
  recoverTimer.unref();

  /** Runs `work` holding the job's run lock (recoverable jobs only). */
  const underRunLock = async <T>(jobId: string, work: () => Promise<T>): Promise<T> => {
    running.add(jobId);
    try {
      await locks(`select pg_advisory_lock(${RUN_LOCK})`, [jobId]);
      try {
        return await work();
      } finally {
        await locks(`select pg_advisory_unlock(${RUN_LOCK})`, [jobId]).catch(() => undefined);
      }
    } finally {
      running.delete(jobId);
    }
  };

  /**
   * Waits (until `deadline`) for pg-boss's queries on the wire to land, and for what their answers
   * set off: a fetch that claimed a run as the stop began hands it to runJob, which gives it back,
   * and that `fail` lands too, before the pool ends.
   */
  const landQueries = async (deadline: number): Promise<void> => {
    for (let quiet = 0; quiet < 2 && Date.now() < deadline;) {
      if (onTheWire.size === 0) {
        quiet += 1;
      } else {
        quiet = 0;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled([...onTheWire]),
          new Promise((resolve) => {
            timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
          }),
        ]);
        clearTimeout(timer);
      }
      // The answers' continuations (pg-boss's worker, our runJob) run before the next look.
      await new Promise((resolve) => setImmediate(resolve));
    }
  };

  /**
   * Runs `job` once; what it threw, unless the stop ended it (decision 0836). A recoverable run's
   * end is recorded while its lock is held and its id is among `running`: recorded after, by
   * pg-boss, a look in between found it active, unlocked and not ours, and failed a finished run
   * (the next run would repeat it). `settled` says pg-boss has nothing left to record.
   */
  const runOnce = async (
    job: JobDefinition,
    claimed: { id: string } | undefined,
  ): Promise<{ error?: unknown; settled: boolean }> => {
    const run = {};
    inProgress.set(run, job.name);
    try {
      if (job.recoverable !== true || !claimed) return await attempt(job);
      return await underRunLock(claimed.id, async () => {
        const outcome = await attempt(job);
        if (closed) return outcome;
        if ('error' in outcome) await boss.fail(job.name, claimed.id, outcome.error as object);
        else await boss.complete(job.name, claimed.id);
        return { ...outcome, settled: true };
      });
    } finally {
      inProgress.delete(run);
    }
  };

  /** Runs `job`'s work; what it threw, unless the stop ended it. */
  const attempt = async (job: JobDefinition): Promise<{ error?: unknown; settled: false }> => {
    try {
      await job.run(stopping.signal);
    } catch (error) {
      if (!stopping.signal.aborted) {
        failures.failed(job.name, error);
        return { error, settled: false };
      }
      // Ended by the stop (JobStopped), or cut by it (the pools closed under it): the stop's own
      // line names a cut job, and the next run goes on with its work.
      if (!(error instanceof JobStopped))
        logger.warn(
          { job: job.name, err: describeUnexpected(error) },
          'job run ended by the stop; the next run goes on with its work',
        );
      return { settled: false };
    }
    failures.succeeded(job.name);
    return { settled: false };
  };

  /**
   * Whether the installation's data existed before `due`: a schedule made at this start is a
   * restored installation's (job state is not in a backup, its tenants are) as well as a first
   * install's, and only the first missed nothing (attack S25-7). A database without the tenants
   * table (the queue's own tests) is a first install.
   */
  const installedBefore = async (due: Date): Promise<boolean> => {
    try {
      const result = await executeSql(
        'select exists (select 1 from public.tenants where created_at < $1) as before',
        [due],
      );
      return (result.rows[0] as { before: boolean } | undefined)?.before === true;
    } catch (error) {
      if ((error as { code?: string }).code === '42P01') return false;
      throw error;
    }
  };

  /**
   * Sends a run of `name` now when its last scheduled time passed with no run sent since, while
   * its schedule already existed, or the installation's data did (a restore): the server was down
   * at that minute (decision 1236). A run
   * still waiting or running counts as sent; the stately queue keeps a second send from doubling.
   */
  const catchUpMissedRun = async (name: string, cron: string): Promise<void> => {
    const due = cronParser.parseExpression(cron, { tz: 'UTC', currentDate: new Date() }).prev().toDate();
    const result = await executeSql(
      `select s.created_on < $2 as scheduled,
              exists (select 1 from ${JOB_SCHEMA}.job where name = $1 and created_on >= $2)
           or exists (select 1 from ${JOB_SCHEMA}.archive where name = $1 and created_on >= $2) as sent
         from ${JOB_SCHEMA}.schedule s where s.name = $1`,
      [name, due],
    );
    const row = result.rows[0] as { scheduled: boolean; sent: boolean } | undefined;
    if (!row || row.sent) return;
    if (!row.scheduled && !(await installedBefore(due))) return;
    logger.info(
      { job: name, missed: due.toISOString() },
      'scheduled run missed while no server ran: run now',
    );
    await boss.send(name, {});
  };

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
      if (job.cron !== undefined) {
        await boss.schedule(job.name, job.cron, {}, { tz: 'UTC' });
        if (job.catchUp === true) await catchUpMissedRun(job.name, job.cron);
      }
      if (job.recoverable === true) {
        recoverable.add(job.name);
        // Before this process's worker starts: a run left by a dead process must not block it.
        await recoverSafely();
      }
      // A worker registered inside a request (a job first wanted there) would otherwise run every
      // job as that request: its entries would name it for good (decision 0761).
      const runJob = (claimed: { id: string } | undefined): Promise<void> =>
        outsideRequest(async () => {
          // Claimed by a worker's fetch that was on the wire when the stop began: not started under
          // the closing pools. Failed now, pg-boss retries it in the next process; once the pool
          // has ended it can only be left (like a cut run, below).
          if (stopping.signal.aborted) {
            if (closed) return new Promise<void>(() => undefined);
            throw new JobStopped(`${job.name}: claimed as the stop began`);
          }
          const outcome = await runOnce(job, claimed);
          // A run that outlived the stop's grace: pg-boss failed it already and would now record
          // its end on the ended pool (an unhandled rejection). It is left unsettled (decision 0836).
          if (closed) return new Promise<void>(() => undefined);
          if (!outcome.settled && 'error' in outcome) throw outcome.error;
        });
      await outsideRequest(() =>
        boss.work(job.name, { pollingIntervalSeconds: polling, batchSize: 1 }, ([claimed]) =>
          runJob(claimed),
        ),
      );
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
      clearInterval(recoverTimer);
      stopping.abort();
      await boss.stop({ graceful: true, wait: true, timeout: options.stopGraceMs ?? JOB_STOP_GRACE_MS });
      // pg-boss's wait may end before our handler does (it failed the run): still running is cut.
      const cut = [...new Set(inProgress.values())].sort();
      if (cut.length > 0)
        logger.warn({ jobs: cut }, 'jobs still running after the stop grace are cut; the next run goes on');
      await landQueries(Date.now() + LAND_WAIT_MS);
      closed = true;
      await endPool();
      for (const take of opened) {
        const client = await take()?.catch(() => null);
        await client?.end().catch(() => undefined);
      }
      return { cut };
    },
  };
}
