import { describeUnexpected } from './errors.js';
import type { Logger } from './logger.js';

/**
 * A run that failed for some of what it works on (a job's tenants, decision 0640): `logFields`
 * name them and their error codes and are safe to log (no messages, no personal data);
 * `signature` is the same for two runs that failed the same way.
 */
export class JobRunFailure extends Error {
  constructor(
    message: string,
    readonly logFields: Record<string, unknown>,
    readonly signature: string,
  ) {
    super(message);
    this.name = 'JobRunFailure';
  }
}

/** While a job fails as it did before, its failure is logged at `error` again only this often. */
export const REPEATED_FAILURE_LOG_MS = 15 * 60 * 1000;

export interface JobFailureLog {
  failed(job: string, error: unknown): void;
  succeeded(job: string): void;
}

interface Failing {
  signature: string;
  since: number;
  loggedAt: number;
  runs: number;
}

/**
 * One line per failed run (decision 0700): at `error` when the job starts failing, fails another
 * way, or has failed the same way for `REPEATED_FAILURE_LOG_MS` since its last error line (then
 * with how many runs failed since when); a run that fails as the one before is otherwise logged at
 * `debug`. A job that succeeds again after failing says so once, at `info`. Per process.
 */
export function jobFailureLog(logger: Logger, now: () => number = Date.now): JobFailureLog {
  const failing = new Map<string, Failing>();
  return {
    failed(job, error) {
      const fields = error instanceof JobRunFailure ? error.logFields : { err: describeUnexpected(error) };
      const signature = error instanceof JobRunFailure ? error.signature : signatureOf(error);
      const at = now();
      const before = failing.get(job);
      if (before?.signature !== signature) {
        failing.set(job, { signature, since: at, loggedAt: at, runs: 1 });
        logger.error({ job, ...fields }, 'job failed; it will be retried');
        return;
      }
      before.runs += 1;
      const repeat = {
        job,
        ...fields,
        failedRuns: before.runs,
        failingSince: new Date(before.since).toISOString(),
      };
      if (at - before.loggedAt < REPEATED_FAILURE_LOG_MS) {
        logger.debug(repeat, 'job failed again as before; it will be retried');
        return;
      }
      before.loggedAt = at;
      logger.error(repeat, 'job still failing as before; it will be retried');
    },
    succeeded(job) {
      const before = failing.get(job);
      if (!before) return;
      failing.delete(job);
      logger.info(
        { job, failedRuns: before.runs, failingSince: new Date(before.since).toISOString() },
        'job succeeded again',
      );
    },
  };
}

/** What a log line says of a job's failure: the failing tenants and codes, or the error's kind. */
export function failureFields(error: unknown): Record<string, unknown> {
  return error instanceof JobRunFailure ? error.logFields : { err: describeUnexpected(error) };
}

/** Two failures are the same when their kind and code are (never their message). */
function signatureOf(error: unknown): string {
  const described = describeUnexpected(error);
  return `${String(described.type)}:${String(described.code)}`;
}
