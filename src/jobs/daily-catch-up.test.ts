import { describe, expect, it } from 'vitest';
import type { JobDefinition, JobQueue } from '../platform/job-queue.js';
import { createLogger } from '../platform/logger.js';
import { registerJobs, type JobDeps } from './index.js';

describe('the daily jobs catch up a run missed while no server ran (decision 1236)', () => {
  it('every job scheduled once a day is registered with catchUp; the jobs of every few minutes are not', async () => {
    const registered: JobDefinition[] = [];
    const queue: JobQueue = {
      register: (job) => {
        registered.push(job);
        return Promise.resolve();
      },
      runNow: () => Promise.resolve(),
      drain: () => Promise.resolve(),
      stop: () => Promise.resolve({ cut: [] }),
    };
    // The definitions only: nothing runs, so the services behind them are never reached.
    const deps = {
      requests: {},
      events: {},
      logger: createLogger({ level: 'silent' }),
    } as unknown as JobDeps;
    await registerJobs(queue, deps);
    const daily = registered.filter((job) => job.cron !== undefined && /^\d+ \d+ \* \* \*$/.test(job.cron));
    expect(daily.map((job) => job.name).sort()).toEqual([
      'cdr-purge',
      'deferred-erasures',
      'dunning',
      'number-end',
      'retention-sweep',
    ]);
    for (const job of daily) expect(job.catchUp, job.name).toBe(true);
    for (const job of registered.filter((candidate) => !daily.includes(candidate)))
      expect(job.catchUp, job.name).toBeUndefined();
  });
});
