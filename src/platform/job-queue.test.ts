import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../test/database.js';
import { throughProxy } from '../../test/proxied-kernel.js';
import { startProxy, type TcpProxy } from '../../test/tcp-proxy.js';
import { JOB_SCHEMA, startJobQueue } from './job-queue.js';
import { createLogger } from './logger.js';
import { currentRequestId, runAsRequest } from './request-scope.js';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.close();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('dead runs of recoverable jobs (decisions 0466, 0545)', () => {
  it('a live run longer than the claim grace is never judged dead by the recovery of its own process', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString('utf8'));
          done();
        },
      }),
    });
    const queue = await startJobQueue({
      connectionString: database.ownerUrl,
      logger,
      pollingIntervalSeconds: 0.5,
      recoverIntervalSeconds: 0.2,
      // Long enough for a loaded event loop to hand pg-boss's claim to the handler (decision 0763),
      // far shorter than the run.
      claimGraceSeconds: 2,
    });
    let runs = 0;
    let looked = 0;
    try {
      await queue.register({
        name: 'long-live-run',
        recoverable: true,
        async run() {
          runs += 1;
          // The run outlives the grace by far while the recovery looks every 0.2 s: the run
          // becomes old enough to be judged, and is looked at again and again.
          for (;;) {
            const judged = await runAsOwner<{ n: number }>(
              database.ownerUrl,
              `select count(*)::int as n from ${JOB_SCHEMA}.job
                where name = 'long-live-run' and state = 'active' and started_on < now() - interval '3 seconds'`,
            );
            if ((judged.rows[0]?.n ?? 0) > 0) looked += 1;
            if (looked >= 12) return;
            await sleep(250);
          }
        },
      });
      await queue.runNow('long-live-run');
      await queue.drain('long-live-run', 60_000);
    } finally {
      await queue.stop();
    }
    expect(looked).toBe(12);
    expect(runs).toBe(1);
    const jobs = await runAsOwner<{ state: string; retry_count: number }>(
      database.ownerUrl,
      `select state, retry_count from ${JOB_SCHEMA}.job where name = 'long-live-run'`,
    );
    expect(jobs.rows).toEqual([{ state: 'completed', retry_count: 0 }]);
    expect(lines.filter((line) => line.includes('a run whose process ended was failed'))).toEqual([]);
  }, 90_000);
});

describe('the queue’s own connections (attack S10-9, decision 0642)', () => {
  it('never has two queries at once on one connection: pg’s “already executing a query” warning is not raised while the recovery looks every millisecond', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning.message);
    };
    process.on('warning', onWarning);
    const queue = await startJobQueue({
      connectionString: database.ownerUrl,
      logger: createLogger({ level: 'silent' }),
      pollingIntervalSeconds: 0.5,
      // A look starts before the one before it has its answer: without a queue of their own, the
      // queries meet on the connection.
      recoverIntervalSeconds: 0.001,
    });
    try {
      await queue.register({ name: 'busy-look', recoverable: true, run: () => sleep(300) });
      for (let round = 0; round < 4; round += 1) {
        await queue.runNow('busy-look');
        await queue.drain('busy-look', 30_000);
      }
      await sleep(1000);
    } finally {
      await queue.stop();
      process.off('warning', onWarning);
    }
    expect(warnings.filter((message) => message.includes('already executing a query'))).toEqual([]);
  }, 90_000);
});

describe('a job runs as no request (attack S13, noticed; decision 0728)', () => {
  it('started, registered and asked for inside requests, a job still runs with no request id, so its audit entries carry none', async () => {
    // As if the queue were first started lazily by a request's handler: its loops and timers
    // begin inside that request's scope, and a later request asks for a run.
    const queue = await runAsRequest('request-that-started-it', () =>
      startJobQueue({
        connectionString: database.ownerUrl,
        logger: createLogger({ level: 'silent' }),
        pollingIntervalSeconds: 0.5,
        recoverIntervalSeconds: 0.2,
      }),
    );
    const seen: Array<string | undefined> = [];
    try {
      await runAsRequest('request-that-registered-it', () =>
        queue.register({
          name: 'scope-free',
          run: () => {
            // What validateAuditEvent gives an event that names no request (decision 0728).
            seen.push(currentRequestId());
            return Promise.resolve();
          },
        }),
      );
      await runAsRequest('request-that-asked', () => queue.runNow('scope-free'));
      await queue.drain('scope-free', 30_000);
      await runAsRequest('request-that-asked-again', () => queue.runNow('scope-free'));
      await queue.drain('scope-free', 30_000);
    } finally {
      await queue.stop();
    }
    expect(seen).toEqual([undefined, undefined]);
  }, 90_000);
});

describe('stopping the queue waits for the server to close its pool’s connections (decision 0763)', () => {
  it('stop() has not resolved while the server has not closed pg-boss’s connections, and resolves once they are closed', async () => {
    let frozen = false;
    // The first goodbye (Terminate, 'X') any connection of the queue sends freezes the server:
    // from then on nothing passes either way, as a backend not yet scheduled to read it.
    const proxy: TcpProxy = await startProxy(new URL(database.ownerUrl), {
      watch: (data) => {
        if (!frozen && data[0] === 0x58 && data.length === 5) {
          frozen = true;
          proxy.freeze();
        }
      },
    });
    const queue = await startJobQueue({
      connectionString: throughProxy(database.ownerUrl, proxy),
      logger: createLogger({ level: 'silent' }),
      pollingIntervalSeconds: 0.5,
    });
    try {
      await queue.register({ name: 'before-stop', run: () => Promise.resolve() });
      await queue.runNow('before-stop');
      await queue.drain('before-stop', 30_000);
      let stopped = false;
      const stopping = queue.stop().then(() => {
        stopped = true;
      });
      await sleep(1000);
      expect(frozen).toBe(true);
      expect(stopped).toBe(false);
      await proxy.cut();
      await stopping;
      expect(stopped).toBe(true);
    } finally {
      await proxy.cut();
    }
  }, 90_000);
});

describe('a stop tells the running jobs (decision 0836)', () => {
  /** A logger whose lines are kept, parsed. */
  function capturing() {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
          done();
        },
      }),
    });
    return { lines, logger };
  }

  it('a short run that ignores the signal and ends within the grace is recorded completed before the pool ends: no unhandled rejection, no error line', async () => {
    const { lines, logger } = capturing();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const queue = await startJobQueue({
        connectionString: database.ownerUrl,
        logger,
        pollingIntervalSeconds: 0.5,
        stopGraceMs: 5000,
      });
      let started = false;
      let ended = false;
      await queue.register({
        name: 'stop-short',
        async run() {
          started = true;
          // Does not look at the signal: ends on its own, during the stop's grace.
          await sleep(700);
          ended = true;
        },
      });
      await queue.runNow('stop-short');
      for (let waited = 0; !started; waited += 20) {
        if (waited > 30_000) throw new Error('the job did not start');
        await sleep(20);
      }
      expect(await queue.stop()).toEqual({ cut: [] });
      expect(ended).toBe(true);
      await sleep(200);
      const rows = await runAsOwner<{ state: string }>(
        database.ownerUrl,
        `select state from ${JOB_SCHEMA}.job where name = 'stop-short'`,
      );
      expect(rows.rows).toEqual([{ state: 'completed' }]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    expect(lines.filter((line) => Number(line.level) >= 40)).toEqual([]);
  }, 60_000);

  it('a run claimed by a fetch still on the wire when the stop began is not started after the stop: it is given back to the queue (retry), no error line, no unhandled rejection', async () => {
    const { lines, logger } = capturing();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    const owner = new pg.Client({ connectionString: database.ownerUrl });
    await owner.connect();
    try {
      const queue = await startJobQueue({
        connectionString: database.ownerUrl,
        logger,
        pollingIntervalSeconds: 0.5,
        stopGraceMs: 1000,
      });
      let ran = false;
      await queue.register({
        name: 'stop-late-claim',
        run: () => {
          ran = true;
          return Promise.resolve();
        },
      });
      // The worker's next fetch waits on the table while the run is written: it is on the wire.
      await owner.query('begin');
      await owner.query(`lock table ${JOB_SCHEMA}.job in access exclusive mode`);
      await owner.query(`insert into ${JOB_SCHEMA}.job (name, data) values ('stop-late-claim', '{}')`);
      const fetchWaits = async (): Promise<string> => {
        const waiting = await runAsOwner<{ n: number }>(
          database.ownerUrl,
          `select count(*)::int as n from pg_stat_activity
            where application_name = 'kluis-jobs' and wait_event_type = 'Lock'`,
        );
        return String((waiting.rows[0]?.n ?? 0) > 0);
      };
      for (let waited = 0; (await fetchWaits()) !== 'true'; waited += 100) {
        if (waited > 30_000) throw new Error('no fetch waited on the lock');
        await sleep(100);
      }
      const stopping = queue.stop();
      // The stop is under way (the grace has nothing to wait for) when the fetch claims the run.
      await sleep(1500);
      await owner.query('commit');
      expect(await stopping).toEqual({ cut: [] });
      await sleep(500);
      expect(ran).toBe(false);
      const rows = await runAsOwner<{ state: string }>(
        database.ownerUrl,
        `select state from ${JOB_SCHEMA}.job where name = 'stop-late-claim'`,
      );
      expect(rows.rows).toEqual([{ state: 'retry' }]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await owner.end();
    }
    expect(unhandled).toEqual([]);
    expect(lines.filter((line) => Number(line.level) >= 40)).toEqual([]);
  }, 60_000);

  it('a run that ends when told is waited for and cut by nothing; a run that goes on past the grace is named as cut, and its failure under the closed pools is no error line', async () => {
    const { lines, logger } = capturing();
    const queue = await startJobQueue({
      connectionString: database.ownerUrl,
      logger,
      pollingIntervalSeconds: 0.5,
      stopGraceMs: 1000,
    });
    let politeStarted = false;
    let politeEnded = false;
    let stubbornStarted = false;
    let releaseStubborn: (error: Error) => void = () => undefined;
    await queue.register({
      name: 'stop-polite',
      async run(stopping) {
        politeStarted = true;
        while (!stopping?.aborted) await sleep(20);
        politeEnded = true;
      },
    });
    await queue.register({
      name: 'stop-stubborn',
      run: () => {
        stubbornStarted = true;
        // Ignores the signal; fails only later, as a run does when the pools close under it.
        return new Promise<void>((_resolve, reject) => {
          releaseStubborn = reject;
        });
      },
    });
    await queue.runNow('stop-polite');
    await queue.runNow('stop-stubborn');
    for (let waited = 0; !(politeStarted && stubbornStarted); waited += 50) {
      if (waited > 30_000) throw new Error('the jobs did not start');
      await sleep(50);
    }
    const stopped = await queue.stop();
    expect(politeEnded).toBe(true);
    expect(stopped).toEqual({ cut: ['stop-stubborn'] });
    releaseStubborn(new Error('Cannot use a pool after calling end on the pool'));
    await sleep(50);
    expect(lines.filter((line) => Number(line.level) >= 50)).toEqual([]);
    const ended = lines.find((line) => line.job === 'stop-stubborn');
    expect(ended?.level).toBe(40);
    expect(String(ended?.msg)).toMatch(/ended by the stop/);
  }, 60_000);
});

describe('a daily run missed while no server ran (decision 1236)', () => {
  it('is run at the next start, once; a schedule made after the missed minute, or a run sent since it, runs nothing at start; a restored installation whose schedule is new but whose tenants are older runs it (attack S25-7)', async () => {
    const runs: string[] = [];
    const start = async (label: string) => {
      const queue = await startJobQueue({
        connectionString: database.ownerUrl,
        logger: createLogger({ level: 'silent' }),
        pollingIntervalSeconds: 0.5,
      });
      await queue.register({
        name: 'nightly-work',
        cron: '15 1 * * *',
        catchUp: true,
        run: () => {
          runs.push(label);
          return Promise.resolve();
        },
      });
      return queue;
    };
    // A first start makes the schedule: last night's minute came before it, so nothing was missed.
    const first = await start('first');
    await sleep(1_500);
    await first.drain('nightly-work', 30_000);
    await first.stop();
    expect(runs).toEqual([]);

    // The schedule existed for days and no run was sent since the last 01:15 UTC: the server was down.
    await runAsOwner(
      database.ownerUrl,
      `update ${JOB_SCHEMA}.schedule set created_on = now() - interval '3 days' where name = 'nightly-work'`,
    );
    const second = await start('after the missed night');
    await second.drain('nightly-work', 30_000);
    await sleep(1_500);
    await second.drain('nightly-work', 30_000);
    await second.stop();
    expect(runs).toEqual(['after the missed night']);

    // That run is the night's: the next start runs nothing again.
    const third = await start('third');
    await sleep(1_500);
    await third.drain('nightly-work', 30_000);
    await third.stop();
    expect(runs).toEqual(['after the missed night']);

    // A restored installation (attack S25-7): job state is not in a backup, so its first start makes
    // the schedule anew, but its tenants were there before the missed minute: the run is caught up.
    await runAsOwner(
      database.ownerUrl,
      `delete from ${JOB_SCHEMA}.schedule where name = 'nightly-work';
       delete from ${JOB_SCHEMA}.archive where name = 'nightly-work';
       delete from ${JOB_SCHEMA}.job where name = 'nightly-work';
       insert into tenants (slug, name, created_at) values ('restored-s25-7', 'Restored', now() - interval '3 days')`,
    );
    const restored = await start('after a restore');
    await restored.drain('nightly-work', 30_000);
    await sleep(1_500);
    await restored.drain('nightly-work', 30_000);
    await restored.stop();
    expect(runs).toEqual(['after the missed night', 'after a restore']);
  }, 120_000);
});
