import type { EmbeddedServer } from './embedded-postgres.js';
import type { Logger } from './logger.js';

/**
 * What Kluis does about a database that went away, as /health reports it:
 * - `restarting-embedded-server`: the embedded server this process runs died; it is started again;
 * - `exiting`: restarting failed; the process exits non-zero for its supervisor to restart it;
 * - `reconnecting`: an external (or shared) server: the pool reconnects once it answers again.
 */
export type DatabaseRecovery = 'restarting-embedded-server' | 'exiting' | 'reconnecting';

export interface DatabaseWatchdog {
  recovery(): DatabaseRecovery;
  stop(): void;
}

export interface WatchdogOptions {
  embedded: EmbeddedServer | undefined;
  logger: Logger;
  /** Called once when the embedded server cannot be started again. */
  onGiveUp: (cause: unknown) => void;
  intervalMs?: number;
  attempts?: number;
}

export function watchDatabase(options: WatchdogOptions): DatabaseWatchdog {
  const { embedded, logger } = options;
  const intervalMs = options.intervalMs ?? 1000;
  const attempts = options.attempts ?? 15;
  let restarting = false;
  let gaveUp = false;
  const restart = async (): Promise<void> => {
    if (!embedded) return;
    restarting = true;
    logger.error('the embedded PostgreSQL server stopped unexpectedly; starting it again');
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      try {
        await embedded.restart();
        restarting = false;
        return;
      } catch (error) {
        lastError = error;
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    }
    gaveUp = true;
    options.onGiveUp(lastError);
  };
  const timer =
    embedded?.owned === true
      ? setInterval(() => {
          if (restarting || gaveUp || embedded.isRunning()) return;
          void restart();
        }, intervalMs)
      : undefined;
  timer?.unref();
  return {
    recovery: () => {
      if (gaveUp) return 'exiting';
      if (embedded?.owned === true && (restarting || !embedded.isRunning()))
        return 'restarting-embedded-server';
      return 'reconnecting';
    },
    stop: () => clearInterval(timer),
  };
}
