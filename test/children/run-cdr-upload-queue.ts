// A second process for crash tests: the call-record upload job run by the job queue (pg-boss), as
// a server runs it, with the environment's KLUIS_TEST_HOOK armed (cdr-upload.batch-written:kill
// dies after a batch, leaving the queue's run `active`; decision 0466).
// Usage: node --import tsx test/children/run-cdr-upload-queue.ts <spoolDir> <batchSize>
import { loadConfig } from '../../src/config.js';
import { cdrUploadJob, CDR_UPLOAD_JOB } from '../../src/jobs/cdr-upload.job.js';
import { openRuntime } from '../../src/main.js';
import { startJobQueue } from '../../src/platform/job-queue.js';
import { createLogger } from '../../src/platform/logger.js';
import { armTestHook } from '../../src/platform/test-hooks.js';

const [spoolDir = '', batchSize = '50000'] = process.argv.slice(2);
const config = loadConfig();
armTestHook(config.testHook);
const logger = createLogger({ level: 'warn', destination: process.stderr });
const runtime = await openRuntime(config, logger);
const queue = await startJobQueue({
  connectionString: runtime.database.ownerUrl,
  logger,
  pollingIntervalSeconds: 1,
});
await queue.register(
  cdrUploadJob(
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
  ),
);
await queue.runNow(CDR_UPLOAD_JOB);
await queue.drain(CDR_UPLOAD_JOB, 60_000);
await queue.stop();
await runtime.close();
process.exit(0);
