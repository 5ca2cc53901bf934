import type { Command } from 'commander';
import { bootstrapFirstRun, formatLogin, type FirstRunResult } from '../bootstrap.js';
import { describeStartFailure, startKluis, StartupError, type RunningKluis } from '../main.js';
import { UNCLEAN_STOP_EXIT_CODE } from '../platform/bounded-stop.js';
import { signalOwnedServersToStop } from '../platform/embedded-postgres.js';
import { guardProcess } from '../platform/process-guard.js';
import { createCliContext, exitWithFailure } from './context.js';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'start Kluis: database (embedded unless DATABASE_URL is set), migrations, first-run setup, HTTP server',
    )
    .action(async () => {
      let kluis: RunningKluis | undefined;
      try {
        const { config, logger } = createCliContext();
        // Nothing ends the server without a log line, nor leaves its embedded PostgreSQL running
        // (decision 0620).
        guardProcess(logger, { beforeExit: signalOwnedServersToStop });
        const started = await startKluis(config, logger, {
          // A supervisor (systemd, Docker, Kubernetes) restarts a process that exits non-zero.
          onDatabaseLost: (cause) => {
            logger.fatal(
              { err: { message: cause instanceof Error ? cause.message : 'unknown' } },
              'the embedded PostgreSQL server could not be started again; exiting',
            );
            process.exit(70);
          },
        });
        kluis = started;
        let stopping = false;
        const stop = (signal: string): void => {
          // A second signal (Ctrl-C after `docker stop`, two SIGTERMs) is said and changes nothing:
          // the first stop is bounded (decision 0785) and ends the process (attack S15-1).
          if (stopping) {
            logger.warn({ signal }, 'already stopping: the stop ends within its limit');
            return;
          }
          stopping = true;
          logger.info({ signal }, 'stopping');
          started.stop().then(
            (outcome) => process.exit(outcome.clean ? 0 : UNCLEAN_STOP_EXIT_CODE),
            (err: unknown) => {
              logger.error({ err }, 'stop failed');
              process.exit(1);
            },
          );
        };
        // Kept after the first signal, so a second never reaches the embedded server's own handler.
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        // Listening, but /health says "starting" (503) until the first-run setup is done.
        console.log(`\nKluis is starting at ${started.url}`);
        let firstRun: FirstRunResult;
        try {
          firstRun = await bootstrapFirstRun(
            started.kernel,
            { policyDir: config.policyDir, demoData: config.createDemoData, dataDir: config.dataDir },
            logger,
          );
        } catch (cause) {
          throw new StartupError(`the first-run setup failed: ${describeStartFailure(cause)}`, { cause });
        }
        started.markReady();
        printBanner(started.url, firstRun);
      } catch (error) {
        // A start that failed once listening stops what it started (the HTTP server, the job
        // queue, the embedded PostgreSQL) before it exits: no server outlives it.
        await kluis?.stop().catch(() => undefined);
        exitWithFailure(error);
      }
    });
}

function printBanner(url: string, firstRun: FirstRunResult): void {
  console.log(`\nKluis is running at ${url}  (API reference: ${url}/api/docs)`);
  if (firstRun.pending.length > 0 && !firstRun.issuedNow) {
    console.log(`${firstRun.pending.length} first-run login(s) not yet handed over: see ${firstRun.file}`);
  }
  if (firstRun.issuedNow) {
    console.log(
      `\nFirst run: staff logins not yet handed over (also in ${firstRun.file}, readable only by you;\neach line disappears once its password is changed at first login):`,
    );
    for (const login of firstRun.pending) console.log(`  ${formatLogin(login)}`);
  }
  console.log('\nPress Ctrl-C to stop.\n');
}
