// A second process for crash tests: the rights requests' deadline reminder of one tenant (VK-27,
// decision 0850) with the environment's KLUIS_TEST_HOOK armed
// (requests.deadline-reminder-queued:kill dies once the day's reminder is claimed and queued).
// Usage: node --import tsx test/children/run-deadline-reminders.ts <tenantId>
import { loadConfig } from '../../src/config.js';
import { openRuntime } from '../../src/main.js';
import { sendDeadlineReminders } from '../../src/modules/requests/index.js';
import { createLogger } from '../../src/platform/logger.js';
import { createMailer } from '../../src/platform/mailer.js';
import { armTestHook } from '../../src/platform/test-hooks.js';

const [tenantArg = ''] = process.argv.slice(2);
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
const result = await sendDeadlineReminders(
  { kernel: runtime.kernel, mailer, dataMap: [], publicUrl: config.http.publicUrl, logger },
  Number(tenantArg),
);
process.stdout.write(`${JSON.stringify(result)}\n`);
await runtime.close();
process.exit(0);
