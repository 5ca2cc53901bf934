// A second process for crash tests: one run of the breach-clock job (VK-9, decision 0850) with the
// environment's KLUIS_TEST_HOOK armed (breach-clock.queued:kill dies once the reminders are
// claimed and queued, before they are mailed).
// Usage: node --import tsx test/children/run-breach-clock.ts
import { breachClockJob } from '../../src/jobs/breach-clock.job.js';
import { openChildRuntime } from './child-runtime.js';

const { config, logger, runtime, mailer } = await openChildRuntime();
await breachClockJob({ kernel: runtime.kernel, mailer, publicUrl: config.http.publicUrl }, logger).run();
await runtime.close();
process.exit(0);
