// A second process for crash tests: one pass of the call-record upload job (decision 0360), with
// the environment's KLUIS_TEST_HOOK armed (cdr-upload.batch-written:kill dies after a batch).
// Usage: node --import tsx test/children/run-cdr-uploads.ts <spoolDir> <batchSize>
import { loadConfig } from '../../src/config.js';
import { runCdrUploads } from '../../src/jobs/cdr-upload.job.js';
import { openRuntime } from '../../src/main.js';
import { createLogger } from '../../src/platform/logger.js';
import { armTestHook } from '../../src/platform/test-hooks.js';

const [spoolDir = '', batchSize = '50000'] = process.argv.slice(2);
const config = loadConfig();
armTestHook(config.testHook);
const logger = createLogger({ level: 'warn', destination: process.stderr });
const runtime = await openRuntime(config, logger);
await runCdrUploads(
  {
    kernel: runtime.kernel,
    spoolDir,
    batchSize: Number(batchSize),
    connection: {
      connectionString: config.appDatabaseUrl ?? runtime.database.ownerUrl,
      assumeAppRole: config.appDatabaseUrl === undefined,
    },
  },
  logger,
);
await runtime.close();
process.exit(0);
