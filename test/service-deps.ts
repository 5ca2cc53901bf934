import { DATA_MAP } from '../src/modules/data-map.js';
import type { RequestsDeps } from '../src/modules/requests/index.js';
import type { Kernel } from '../src/kernel/kernel.js';
import { createMailer } from '../src/platform/mailer.js';
import { testLogger } from './database.js';

/**
 * What the rights-request services need beside the kernel, as a server gives it, for tests that
 * call them directly: mail written to `outboxDir` (a folder that does not exist where none is read).
 */
export function requestsDeps(kernel: Kernel, outboxDir = '/nonexistent'): RequestsDeps {
  return {
    kernel,
    mailer: createMailer({ smtpUrl: undefined, from: 'privacy@kluis.test', outboxDir, logger: testLogger }),
    dataMap: DATA_MAP,
    publicUrl: 'http://localhost',
    logger: testLogger,
  };
}
