import type { FastifyInstance } from 'fastify';
import type { Kernel } from '../src/kernel/kernel.js';
import type { Tenant } from '../src/modules/tenants/index.js';
import type { Clock } from '../src/platform/clock.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { createTestApp } from './http.js';
import { createPolicyTenant, createTestKernel } from './kernel.js';
import { startSmtpSink, type SmtpSink } from './smtp.js';

/** A database, its kernel, a real SMTP sink, the app that mails through it, and both seed tenants. */
export interface MailingTestApp {
  database: TestDatabase;
  kernel: Kernel;
  smtp: SmtpSink;
  app: FastifyInstance;
  voiceking: Tenant;
  voxtra: Tenant;
  close(): Promise<void>;
}

/**
 * The set-up of tests that go through the public pages and read the mail. Answers are not held to
 * their time quantum here (existence-timing.test.ts is about that).
 */
export async function startMailingTestApp(options: {
  publicUrl: string;
  clock?: Clock;
  rejectRecipient?: (address: string) => boolean;
}): Promise<MailingTestApp> {
  const database = await createTestDatabase();
  const kernel = createTestKernel(database, options.clock);
  const smtp = await startSmtpSink({ rejectRecipient: options.rejectRecipient });
  const app = await createTestApp(kernel, {
    mailer: smtp.mailer,
    publicUrl: options.publicUrl,
    answerQuanta: { form: 0, link: 0, login: 0 },
  });
  const voiceking = await createPolicyTenant(kernel, 'voiceking');
  const voxtra = await createPolicyTenant(kernel, 'voxtra');
  return {
    database,
    kernel,
    smtp,
    app,
    voiceking,
    voxtra,
    close: async () => {
      await app.close();
      await smtp.close();
      await database.close();
    },
  };
}
