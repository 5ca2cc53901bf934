import { describeUnexpected } from './errors.js';
import type { Logger } from './logger.js';

/** The exit code of a server that ended itself on an exception nothing caught (as `onDatabaseLost`). */
export const UNCAUGHT_EXIT_CODE = 70;

/** Credentials in a connection string a driver error may quote (`postgres://user:secret@host`). */
const URL_CREDENTIALS = /\/\/[^\s/@]+@/g;

/** An error's message with any connection string's credentials taken out; never its data. */
export function scrubbedMessage(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  return error.message.replace(URL_CREDENTIALS, '//[redacted]@');
}

/**
 * Makes `kluis serve` say, through the structured logger, what Node would otherwise end it for
 * without a log line (decision 0620):
 * - an unhandled rejection is logged and the server keeps serving: the known one is pg-boss 10.4.2
 *   not awaiting `complete`/`fail` while the database is away, and every job is idempotent and
 *   delivered again (a lost completion only delays a rerun); the watchdog brings the database back;
 * - an uncaught exception is logged and the process exits 70 for its supervisor to restart it: a
 *   throw that escaped to the event loop may have left this process's memory half-changed. Just
 *   before, `beforeExit` runs: `kluis serve` asks the embedded PostgreSQL it started to stop, which
 *   would otherwise outlive it (its own process group, decision 0588).
 * Returns a function that removes both handlers (tests).
 */
export function guardProcess(
  logger: Logger,
  {
    exit = (code) => process.exit(code),
    beforeExit = () => undefined,
  }: {
    exit?: (code: number) => void;
    /** Synchronous last words before the exit: `kluis serve` asks its embedded server to stop. */
    beforeExit?: () => void;
  } = {},
): () => void {
  const onRejection = (reason: unknown): void => {
    logger.error(
      { err: { ...describeUnexpected(reason), message: scrubbedMessage(reason) } },
      'unhandled promise rejection; Kluis keeps serving',
    );
  };
  const onException = (error: unknown): void => {
    logger.fatal(
      { err: { ...describeUnexpected(error), message: scrubbedMessage(error) } },
      'uncaught exception; exiting for the supervisor to restart Kluis',
    );
    try {
      beforeExit();
    } finally {
      exit(UNCAUGHT_EXIT_CODE);
    }
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
