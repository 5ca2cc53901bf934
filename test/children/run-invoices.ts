// A second process for crash tests: one invoice run (VX-3) in batches of a given size, with the
// environment's KLUIS_TEST_HOOK armed (invoice-run.after-batch:kill dies once the first batch has
// committed, invoice-run.before-commit:kill inside a batch after its invoices are inserted).
// Usage: node --import tsx test/children/run-invoices.ts <tenantId> <purpose> <period> <issueDate> <batchSize>
import { loadConfig } from '../../src/config.js';
import { openRuntime } from '../../src/main.js';
import { runInvoices } from '../../src/modules/billing/index.js';
import { createLogger } from '../../src/platform/logger.js';
import { armTestHook } from '../../src/platform/test-hooks.js';

const [tenantArg = '', purpose = '', period = '', issueDate = '', batchSize = '5000'] = process.argv.slice(2);
const config = loadConfig();
armTestHook(config.testHook);
const logger = createLogger({ level: 'warn', destination: process.stderr });
const runtime = await openRuntime(config, logger);
await runInvoices(
  runtime.kernel,
  { tenantId: Number(tenantArg), actor: { kind: 'system', job: 'test' }, purpose },
  { period, issueDate, batchSize: Number(batchSize), callsPurpose: 'call_billing' },
);
await runtime.close();
process.exit(0);
