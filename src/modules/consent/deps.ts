import type { TableDataMap } from '../../kernel/datamap/datamap.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Logger } from '../../platform/logger.js';
import type { Mailer } from '../../platform/mailer.js';

/** What the newsletter and mailing services need from the composition root. */
export interface ConsentDeps {
  kernel: Kernel;
  mailer: Mailer;
  /** Base URL of the links in mails (unsubscribe, confirmation, tracking); https in production. */
  publicUrl: string;
  /** Erasure of expired sign-ups walks the data map. */
  dataMap: readonly TableDataMap[];
  logger: Logger;
  /** Asks the job queue to run the sender now (the server); without it the next tick does. */
  wakeSender?: () => Promise<void>;
}
