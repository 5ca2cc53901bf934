// A second process for crash tests: fulfils one erasure request as a staff member, with the
// environment's KLUIS_TEST_HOOK armed (e.g. erasure.committed:kill dies right after the commit).
// Usage: node --import tsx test/children/fulfil-erasure.ts <tenantId> <requestId>
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { openRuntime } from '../../src/main.js';
import { DATA_MAP } from '../../src/modules/data-map.js';
import { fulfilByStaff } from '../../src/modules/requests/index.js';
import { createLogger } from '../../src/platform/logger.js';
import { createMailer } from '../../src/platform/mailer.js';
import { armTestHook } from '../../src/platform/test-hooks.js';

const [tenantArg, requestId] = process.argv.slice(2);
const config = loadConfig();
armTestHook(config.testHook);
const logger = createLogger({ level: 'warn', destination: process.stderr });
const runtime = await openRuntime(config, logger);
const mailer = createMailer({
  smtpUrl: config.mail.smtpUrl,
  delivers: config.mail.delivers,
  from: config.mail.from,
  outboxDir: path.join(config.dataDir, 'outbox'),
  logger,
});
const outcome = await fulfilByStaff(
  { kernel: runtime.kernel, mailer, dataMap: DATA_MAP, publicUrl: 'http://localhost', logger },
  { tenantId: Number(tenantArg), actor: { kind: 'staff', staffId: 1, role: 'privacy_officer' } },
  requestId ?? '',
  // A person without an e-mail address on file is answered by post (decision 1250); ignored otherwise.
  { letterPosted: true },
);
process.stdout.write(`${JSON.stringify(outcome)}\n`);
await runtime.close();
process.exit(0);
