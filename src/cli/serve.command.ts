import type { Command } from 'commander';
import { bootstrapFirstRun, type FirstRunLogin } from '../bootstrap.js';
import { startKluis } from '../main.js';
import { createCliContext, exitWithFailure } from './context.js';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'start Kluis: database (embedded unless DATABASE_URL is set), migrations, first-run setup, HTTP server',
    )
    .action(async () => {
      try {
        const { config, logger } = createCliContext();
        const kluis = await startKluis(config, logger, {
          // A supervisor (systemd, Docker, Kubernetes) restarts a process that exits non-zero.
          onDatabaseLost: (cause) => {
            logger.fatal(
              { err: { message: cause instanceof Error ? cause.message : 'unknown' } },
              'the embedded PostgreSQL server could not be started again; exiting',
            );
            process.exit(70);
          },
        });
        const logins = await bootstrapFirstRun(
          kluis.kernel,
          { policyDir: config.policyDir, demoData: config.createDemoData },
          logger,
        );
        printBanner(kluis.url, logins);
        const stop = (signal: string): void => {
          logger.info({ signal }, 'stopping');
          kluis.stop().then(
            () => process.exit(0),
            (err: unknown) => {
              logger.error({ err }, 'stop failed');
              process.exit(1);
            },
          );
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      } catch (error) {
        exitWithFailure(error);
      }
    });
}

function printBanner(url: string, logins: FirstRunLogin[]): void {
  console.log(`\nKluis is running at ${url}  (API reference: ${url}/api/docs)`);
  if (logins.length === 0) {
    console.log('Press Ctrl-C to stop.\n');
    return;
  }
  console.log('\nFirst run: these staff logins are shown once; change the password at first login.');
  for (const login of logins) {
    console.log(
      `  tenant ${login.tenantSlug.padEnd(10)} ${login.email.padEnd(36)} role ${login.role.padEnd(16)} password ${login.oneTimePassword}`,
    );
  }
  console.log('\nPress Ctrl-C to stop.\n');
}
