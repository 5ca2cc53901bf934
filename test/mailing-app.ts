import { expect } from 'vitest';
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

/** A portal session as a browser keeps it: the cookie header it sends and the forms' CSRF token. */
export interface PortalSession {
  cookie: string;
  csrf: string;
}

/**
 * Signs a person in the way the portal does: asks the login link for `email`, takes the token from
 * the mail that reaches the SMTP sink (the `nth` mail to that address), and hands it to the
 * account's JSON door.
 */
export async function signInByMailedLink(
  testApp: MailingTestApp,
  tenant: Tenant,
  email: string,
  nth = 1,
): Promise<PortalSession> {
  const { app, smtp } = testApp;
  const asked = await app.inject({
    method: 'POST',
    url: `/t/${tenant.slug}/account/link`,
    payload: { email },
  });
  expect(asked.statusCode, asked.body).toBe(202);
  const link =
    /(https?:\/\/\S+\/account\/login\?\S+)/.exec((await smtp.waitFor(email, nth)).text ?? '')?.[1] ?? '';
  const token = new URL(link).searchParams.get('token') ?? '';
  const login = await app.inject({
    method: 'POST',
    url: `/t/${tenant.slug}/account/login`,
    payload: { token },
  });
  expect(login.statusCode, login.body).toBe(200);
  const cookie = login.cookies.map((entry) => `${entry.name}=${entry.value}`).join('; ');
  return { cookie, csrf: login.json<{ csrfToken: string }>().csrfToken };
}
