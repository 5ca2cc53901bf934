// A second process for crash tests: the mailing sender run by the job queue (pg-boss), as a
// server runs it, with the environment's KLUIS_TEST_HOOK armed (mailing.after-send-N:kill dies
// after the SMTP server took the Nth mail, leaving the queue's run `active`; decision 0587).
// Usage: node --import tsx test/children/run-mailing-queue.ts <outboxDir>
import { mailingSenderJob, MAILING_SENDER_JOB } from '../../src/jobs/mailing-sender.job.js';
import { DATA_MAP } from '../../src/modules/data-map.js';
import { startJobQueue } from '../../src/platform/job-queue.js';
import { openChildRuntime } from './child-runtime.js';

const [outboxDir = ''] = process.argv.slice(2);
const { config, logger, runtime, mailer } = await openChildRuntime(outboxDir);
const queue = await startJobQueue({
  connectionString: runtime.database.ownerUrl,
  logger,
  pollingIntervalSeconds: 1,
});
await queue.register(
  mailingSenderJob({
    kernel: runtime.kernel,
    mailer,
    publicUrl: config.http.publicUrl,
    dataMap: DATA_MAP,
    logger,
  }),
);
await queue.runNow(MAILING_SENDER_JOB);
await queue.drain(MAILING_SENDER_JOB, 60_000);
await queue.stop();
await runtime.close();
process.exit(0);
