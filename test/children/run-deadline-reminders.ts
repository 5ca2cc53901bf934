// A second process for crash tests: the rights requests' deadline reminder of one tenant (VK-27,
// decision 0850) with the environment's KLUIS_TEST_HOOK armed
// (requests.deadline-reminder-queued:kill dies once the day's reminder is claimed and queued).
// Usage: node --import tsx test/children/run-deadline-reminders.ts <tenantId>
import { sendDeadlineReminders } from '../../src/modules/requests/index.js';
import { openChildRuntime } from './child-runtime.js';

const [tenantArg = ''] = process.argv.slice(2);
const { config, logger, runtime, mailer } = await openChildRuntime();
const result = await sendDeadlineReminders(
  { kernel: runtime.kernel, mailer, dataMap: [], publicUrl: config.http.publicUrl, logger },
  Number(tenantArg),
);
process.stdout.write(`${JSON.stringify(result)}\n`);
await runtime.close();
process.exit(0);
