import type { Command } from 'commander';
import { openDatabase } from '../main.js';
import { createCliContext, exitWithFailure } from './context.js';

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .action(async () => {
      try {
        const { config, logger } = createCliContext();
        const database = await openDatabase(config, logger);
        await database.close();
        console.log('migrations: up to date');
      } catch (error) {
        exitWithFailure(error);
      }
    });
}
