import { describe, expect, it } from 'vitest';
import { stopWithinLimits, type StopPlan } from './bounded-stop.js';
import { createLogger } from './logger.js';

/** A logger whose lines are kept. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: 'info',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return { lines, logger };
}

const never = (): Promise<void> => new Promise<void>(() => undefined);

/** A plan whose steps note themselves in `steps`; `overrides` replace some. */
function plan(steps: string[], overrides: Partial<StopPlan> = {}): StopPlan {
  const step = (name: string) => () => {
    steps.push(name);
    return Promise.resolve();
  };
  return {
    closeHttp: step('closeHttp'),
    stopJobs: step('stopJobs'),
    databaseAnswers: () => Promise.resolve(true),
    checkpoint: step('checkpoint'),
    closePools: step('closePools'),
    stopServer: step('stopServer'),
    abandonServer: () => steps.push('abandonServer'),
    ...overrides,
  };
}

const LIMITS = { totalMs: 400, silentGraceMs: 100 };

describe('a bounded stop (decision 0785)', () => {
  it('a clean stop runs every step in order, logs nothing and is clean', async () => {
    const { lines, logger } = capturingLogger();
    const steps: string[] = [];
    expect(await stopWithinLimits(plan(steps), logger, LIMITS)).toEqual({ clean: true });
    expect(steps).toEqual(['closeHttp', 'stopJobs', 'checkpoint', 'closePools', 'stopServer']);
    expect(lines).toEqual([]);
  });

  it('a silent database: the checkpoint is skipped, the stop gives up after the grace, signals the server and says so in one line', async () => {
    const { lines, logger } = capturingLogger();
    const steps: string[] = [];
    const outcome = await stopWithinLimits(
      plan(steps, { databaseAnswers: () => Promise.resolve(false), closePools: never }),
      logger,
      { totalMs: 60_000, silentGraceMs: 100 },
    );
    expect(outcome).toEqual({ clean: false });
    expect(steps).toEqual(['closeHttp', 'stopJobs', 'abandonServer']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 50,
      checkpoint: 'skipped',
      database: 'silent',
      waitingFor: 'database connections',
      msg: 'stop not clean: the database did not answer; the audit checkpoint was skipped (the next start takes it); the stop gave up waiting for database connections',
    });
  });

  it('a silent database and nothing hanging: every other step runs, the stop is not clean', async () => {
    const { lines, logger } = capturingLogger();
    const steps: string[] = [];
    const outcome = await stopWithinLimits(
      plan(steps, { databaseAnswers: () => Promise.resolve(false) }),
      logger,
      LIMITS,
    );
    expect(outcome).toEqual({ clean: false });
    expect(steps).toEqual(['closeHttp', 'stopJobs', 'closePools', 'stopServer']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ checkpoint: 'skipped', database: 'silent' });
    expect(lines[0]).not.toHaveProperty('waitingFor');
  });

  it('a database that answers and HTTP requests that never end: the stop gives up at its total limit and says what was still running', async () => {
    const { lines, logger } = capturingLogger();
    const steps: string[] = [];
    const outcome = await stopWithinLimits(
      plan(steps, { closeHttp: never, httpInFlight: () => ({ requests: 1, connections: 2 }) }),
      logger,
      LIMITS,
    );
    expect(outcome).toEqual({ clean: false });
    expect(steps).toEqual(['abandonServer']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      checkpoint: 'not reached',
      database: 'answered',
      waitingFor: 'HTTP requests',
      httpRequests: 1,
      httpConnections: 2,
      limitMs: 400,
      msg: 'stop not clean: the audit checkpoint was not reached (the next start takes it); the stop gave up waiting for HTTP requests (1 running, 2 connections open)',
    });
  });

  it('a job that never ends: the stop gives up waiting for jobs, not for requests (decision 0811)', async () => {
    const { lines, logger } = capturingLogger();
    const steps: string[] = [];
    const outcome = await stopWithinLimits(plan(steps, { stopJobs: never }), logger, LIMITS);
    expect(outcome).toEqual({ clean: false });
    expect(steps).toEqual(['closeHttp', 'abandonServer']);
    expect(lines[0]).toMatchObject({ waitingFor: 'jobs', checkpoint: 'not reached' });
    expect(lines[0]).not.toHaveProperty('httpRequests');
  });

  it('a job the queue cut after its grace: every step runs, the checkpoint is taken, but the stop is not clean and names the job (decision 0836)', async () => {
    const { lines, logger } = capturingLogger();
    const steps: string[] = [];
    const outcome = await stopWithinLimits(
      plan(steps, {
        stopJobs: () => {
          steps.push('stopJobs');
          return Promise.resolve({ cut: ['cdr-uploads'] });
        },
      }),
      logger,
      LIMITS,
    );
    expect(outcome).toEqual({ clean: false });
    expect(steps).toEqual(['closeHttp', 'stopJobs', 'checkpoint', 'closePools', 'stopServer']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 50,
      checkpoint: 'taken',
      jobsCut: ['cdr-uploads'],
      msg: "stop not clean: the job cdr-uploads was still running when the job queue's grace ended and cut (the next start goes on with it)",
    });
    expect(lines[0]).not.toHaveProperty('waitingFor');
  });

  it('a checkpoint that fails: the rest of the stop runs, the stop is not clean', async () => {
    const { lines, logger } = capturingLogger();
    const steps: string[] = [];
    const outcome = await stopWithinLimits(
      plan(steps, { checkpoint: () => Promise.reject(new Error('no')) }),
      logger,
      LIMITS,
    );
    expect(outcome).toEqual({ clean: false });
    expect(steps).toEqual(['closeHttp', 'stopJobs', 'closePools', 'stopServer']);
    expect(lines[0]).toMatchObject({ checkpoint: 'failed', database: 'answered' });
  });
});
