// A second process for decision 0620: guarded as `kluis serve` guards itself, it starts an
// embedded PostgreSQL as `kluis serve` does (persistent: its own process group, which no signal to
// this process reaches), writes `started` on stdout, then throws where nothing catches it.
// Usage: KLUIS_DATA_DIR=<folder> node --import tsx test/children/uncaught-with-embedded-server.ts
import { signalOwnedServersToStop, startEmbeddedPostgres } from '../../src/platform/embedded-postgres.js';
import { createLogger } from '../../src/platform/logger.js';
import { guardProcess } from '../../src/platform/process-guard.js';

const logger = createLogger({ level: 'info', destination: process.stderr });
guardProcess(logger, { beforeExit: signalOwnedServersToStop });
await startEmbeddedPostgres({ dataDir: process.env.KLUIS_DATA_DIR ?? '', preferredPort: 0, logger });
process.stdout.write('started\n');
setImmediate(() => {
  throw new Error('a bug nothing caught');
});
