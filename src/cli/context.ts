import { loadConfig, ConfigError, type Config } from '../config.js';
import { createLogger, type Logger } from '../platform/logger.js';
import { MigrationError } from '../platform/migrate.js';
import { EmbeddedPostgresError } from '../platform/embedded-postgres.js';
import { StartupError } from '../main.js';
import { isAppError } from '../platform/errors.js';
import { armTestHook } from '../platform/test-hooks.js';
import { setProgressMode } from './progress.js';
import { BackupError } from '../backup/archive.js';

export interface CliContext {
  config: Config;
  logger: Logger;
}

/** Config and a logger on stderr, so stdout stays free for command output. */
export function createCliContext(): CliContext {
  const config = loadConfig();
  armTestHook(config.testHook);
  setProgressMode(config.progress);
  const logger = createLogger({ level: config.logLevel, destination: process.stderr });
  return { config, logger };
}

/**
 * Prints one clear line for errors we expect, a generic one otherwise, and exits with 1.
 * Exits explicitly: embedded-postgres installs exit hooks that would otherwise end with 0.
 */
export function exitWithFailure(error: unknown): never {
  printFailure(error);
  process.exit(1);
}

function printFailure(error: unknown): void {
  if (error instanceof ConfigError) {
    console.error(error.message);
    return;
  }
  if (
    error instanceof StartupError ||
    error instanceof MigrationError ||
    error instanceof EmbeddedPostgresError ||
    error instanceof BackupError
  ) {
    console.error(`kluis: ${error.message}`);
    return;
  }
  if (isAppError(error)) {
    console.error(`kluis: ${error.publicMessage ?? error.code} (${error.code})`);
    return;
  }
  console.error('kluis: unexpected error:', error instanceof Error ? error.message : String(error));
}
