// A second process for crash tests: one run of the breach-clock job (VK-9, decision 0850) with the
// environment's KLUIS_TEST_HOOK armed (breach-clock.queued:kill dies once the reminders are
// claimed and queued, before they are mailed).
// Usage: node --import tsx test/children/run-breach-clock.ts
import { loadConfig } from '../../src/config.js';
import { breachClockJob } from '../../src/jobs/breach-clock.job.js';
import { openRuntime } from '../../src/main.js';
import { createLogger } from '../../src/platform/logger.js';
import { createMailer } from '../../src/platform/mailer.js';
import { armTestHook } from '../../src/platform/test-hooks.js';

const config = loadConfig();
armTestHook(config.testHook);
const logger = createLogger({ level: 'warn', destination: process.stderr });
const runtime = await openRuntime(config, logger);
const mailer = createMailer({
  smtpUrl: config.mail.smtpUrl,
  delivers: config.mail.delivers,
  from: config.mail.from,
  outboxDir: '/nonexistent',
  logger,
});
await breachClockJob({ kernel: runtime.kernel, mailer, publicUrl: config.http.publicUrl }, logger).run();
await runtime.close();
process.exit(0);
