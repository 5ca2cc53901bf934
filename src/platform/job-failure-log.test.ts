import { describe, expect, it } from 'vitest';
import { JobRunFailure, jobFailureLog, REPEATED_FAILURE_LOG_MS } from './job-failure-log.js';
import { createLogger } from './logger.js';

/** A logger at debug whose lines are kept: level name, message and fields. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const at = (level: number) => lines.filter((line) => line.level === level);
  return { lines, errors: () => at(50), debugs: () => at(20), infos: () => at(30), logger };
}

const bareFailure = (codes: Record<string, string> = { 'bare-1': 'invalid_policy' }) =>
  new JobRunFailure(
    `mailing-sender failed for tenants: ${Object.keys(codes).join(', ')}`,
    { tenants: Object.entries(codes).map(([tenant, code]) => ({ tenant, code })) },
    Object.entries(codes)
      .map(([tenant, code]) => `${tenant}:${code}`)
      .join(','),
  );

describe('a job that keeps failing is logged at a rate an operator can read (decision 0700)', () => {
  it('the first failed run is one error line naming the tenants and their codes; the same failure again is debug until a quarter of an hour has passed, then one error line with how many runs failed', () => {
    let now = Date.parse('2026-11-30T12:00:00Z');
    const log = capturingLogger();
    const failures = jobFailureLog(log.logger, () => now);

    failures.failed('mailing-sender', bareFailure());
    expect(log.errors()).toHaveLength(1);
    expect(log.errors()[0]).toMatchObject({
      job: 'mailing-sender',
      tenants: [{ tenant: 'bare-1', code: 'invalid_policy' }],
      msg: 'job failed; it will be retried',
    });
    // Every 30 s for just under a quarter of an hour (the minute tick and the queue's retries).
    const repeats = REPEATED_FAILURE_LOG_MS / 30_000 - 1;
    for (let run = 0; run < repeats; run += 1) {
      now += 30_000;
      failures.failed('mailing-sender', bareFailure());
    }
    expect(log.errors()).toHaveLength(1);
    expect(log.debugs()).toHaveLength(repeats);
    now += 30_000;
    failures.failed('mailing-sender', bareFailure());
    expect(log.errors()).toHaveLength(2);
    expect(log.errors()[1]).toMatchObject({
      job: 'mailing-sender',
      tenants: [{ tenant: 'bare-1', code: 'invalid_policy' }],
      failedRuns: repeats + 2,
      failingSince: '2026-11-30T12:00:00.000Z',
      msg: 'job still failing as before; it will be retried',
    });
  });

  it('a run that fails another way (another tenant, another code) is an error line at once; a job that succeeds again says so once; another job is logged on its own', () => {
    const now = Date.parse('2026-11-30T12:00:00Z');
    const log = capturingLogger();
    const failures = jobFailureLog(log.logger, () => now);
    failures.failed('mailing-sender', bareFailure());
    failures.failed('breach-clock', bareFailure());
    failures.failed('mailing-sender', bareFailure({ 'bare-1': 'invalid_policy', voxtra: '57P01' }));
    failures.failed('mailing-sender', bareFailure({ 'bare-1': 'invalid_policy', voxtra: '57P01' }));
    expect(log.errors().map((line) => [line.job, (line.tenants as unknown[]).length])).toEqual([
      ['mailing-sender', 1],
      ['breach-clock', 1],
      ['mailing-sender', 2],
    ]);
    failures.succeeded('mailing-sender');
    failures.succeeded('mailing-sender');
    expect(log.infos()).toEqual([
      expect.objectContaining({ job: 'mailing-sender', failedRuns: 2, msg: 'job succeeded again' }),
    ]);
    failures.failed('mailing-sender', bareFailure());
    expect(log.errors()).toHaveLength(4);
  });

  it('an error that is not a tenant failure is logged by its kind and code, never its message, and repeats the same way', () => {
    const log = capturingLogger();
    const failures = jobFailureLog(log.logger, () => 0);
    const lost = () =>
      Object.assign(new Error('password authentication failed for user kluis'), { code: '28P01' });
    failures.failed('cdr-uploads', lost());
    failures.failed('cdr-uploads', lost());
    expect(log.errors()).toHaveLength(1);
    expect(log.errors()[0]?.err).toMatchObject({ type: 'Error', code: '28P01' });
    expect(JSON.stringify(log.lines)).not.toContain('password authentication');
  });
});
