// A second process for decision 0620: a job queue worker whose job is running when the test takes
// the database away (it closes the proxy in front of it). When the job then ends, pg-boss 10.4.2
// calls `complete` without awaiting it: an unhandled rejection. The process is guarded as
// `kluis serve` guards itself. Reads commands from stdin: `release` ends the job, `ping` answers
// `pong` on stdout. Writes `running` on stdout once the job runs.
// Usage: DATABASE_URL=<through the proxy> node --import tsx test/children/job-loses-database.ts
import { createInterface } from 'node:readline';
import { startJobQueue } from '../../src/platform/job-queue.js';
import { createLogger } from '../../src/platform/logger.js';
import { guardProcess } from '../../src/platform/process-guard.js';

const HELD_JOB = 'held-by-the-test';
const logger = createLogger({ level: 'info', destination: process.stderr });
guardProcess(logger);

let release = (): void => undefined;
const released = new Promise<void>((resolve) => (release = resolve));
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'release') release();
  if (line === 'ping') process.stdout.write('pong\n');
});

const queue = await startJobQueue({
  connectionString: process.env.DATABASE_URL ?? '',
  logger,
  pollingIntervalSeconds: 1,
});
await queue.register({
  name: HELD_JOB,
  run: async () => {
    process.stdout.write('running\n');
    await released;
  },
});
await queue.runNow(HELD_JOB);
