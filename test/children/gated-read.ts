// A second process for the audit crash tests (decision 0455): one gated read of a person, then
// the process dies (SIGKILL, as a power cut would) as soon as the read has returned, before the
// chain run that links the read's pending entry (it waits for the head the test holds).
// Usage: node --import tsx test/children/gated-read.ts <tenantId> <subjectId> <requestId>
import { loadConfig } from '../../src/config.js';
import { openRuntime } from '../../src/main.js';
import { getPerson } from '../../src/modules/parties/index.js';
import { createLogger } from '../../src/platform/logger.js';

const [tenantArg, subjectArg, requestId] = process.argv.slice(2);
const config = loadConfig();
const logger = createLogger({ level: 'warn', destination: process.stderr });
const runtime = await openRuntime(config, logger);
const person = await getPerson(
  runtime.kernel,
  {
    tenantId: Number(tenantArg),
    actor: { kind: 'staff', staffId: 17, role: 'billing' },
    purpose: 'order_processing',
    requestId: requestId ?? 'crash-child',
  },
  Number(subjectArg),
);
process.stderr.write(`read returned: ${person.familyName}\n`);
process.kill(process.pid, 'SIGKILL');
