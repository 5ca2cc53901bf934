// What every crash-test child opens first: the configuration from its environment, the test hook
// it names armed, a warn-level logger on stderr, the runtime, and the mailer the server would build.
import { loadConfig } from '../../src/config.js';
import { openRuntime } from '../../src/main.js';
import { createLogger } from '../../src/platform/logger.js';
import { createMailer } from '../../src/platform/mailer.js';
import { armTestHook } from '../../src/platform/test-hooks.js';

/** `outboxDir`: where mail goes without a relay (children with a relay never write there). */
export async function openChildRuntime(outboxDir = '/nonexistent') {
  const config = loadConfig();
  armTestHook(config.testHook);
  const logger = createLogger({ level: 'warn', destination: process.stderr });
  const runtime = await openRuntime(config, logger);
  const mailer = createMailer({
    smtpUrl: config.mail.smtpUrl,
    delivers: config.mail.delivers,
    from: config.mail.from,
    outboxDir,
    logger,
  });
  return { config, logger, runtime, mailer };
}
