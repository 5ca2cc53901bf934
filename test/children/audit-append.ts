// A second process for the audit crash tests: one audited transaction of a tenant, with the
// environment's KLUIS_TEST_HOOK armed (audit.pending-committed:kill dies after its entry committed
// to audit_pending, audit.chain-before-commit:kill inside the chainer's transaction).
// Usage: node --import tsx test/children/audit-append.ts <tenantId> <requestId>
import { loadConfig } from '../../src/config.js';
import { openRuntime } from '../../src/main.js';
import { createLogger } from '../../src/platform/logger.js';
import { armTestHook } from '../../src/platform/test-hooks.js';

const [tenantArg, requestId] = process.argv.slice(2);
const config = loadConfig();
armTestHook(config.testHook);
const logger = createLogger({ level: 'warn', destination: process.stderr });
const runtime = await openRuntime(config, logger);
await runtime.kernel.transact(Number(tenantArg), ({ audit }) => {
  audit.record({
    actor: { kind: 'staff', id: '17' },
    role: 'billing',
    purpose: 'order_processing',
    action: 'read',
    subjectIds: [],
    categories: ['user.contact.email'],
    records: 1,
    decision: 'allowed',
    requestId: requestId ?? 'crash-child',
  });
  return Promise.resolve();
});
await runtime.close();
process.exit(0);
