// A second process for decision 0620: guarded as `kluis serve` guards itself, it starts an
// embedded PostgreSQL as `kluis serve` does (persistent: its own process group, which no signal to
// this process reaches), writes `started <postmaster pid>` on stdout, then throws where nothing catches it.
// Usage: KLUIS_DATA_DIR=<folder> node --import tsx test/children/uncaught-with-embedded-server.ts
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { signalOwnedServersToStop, startEmbeddedPostgres } from '../../src/platform/embedded-postgres.js';
import { createLogger } from '../../src/platform/logger.js';
import { guardProcess } from '../../src/platform/process-guard.js';

const logger = createLogger({ level: 'info', destination: process.stderr });
guardProcess(logger, { beforeExit: signalOwnedServersToStop });
const dataDir = process.env.KLUIS_DATA_DIR ?? '';
await startEmbeddedPostgres({ dataDir, preferredPort: 0, logger });
// The postmaster's pid, read before the throw: the shutdown removes its file soon after.
const postmaster = (await readFile(path.join(dataDir, 'pg/postmaster.pid'), 'utf8')).split('\n')[0];
process.stdout.write(`started ${postmaster}\n`);
setImmediate(() => {
  throw new Error('a bug nothing caught');
});
