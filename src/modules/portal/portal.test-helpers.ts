import { crc32, deflateSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import {
  listenForBrowser,
  reservePort,
  startBrowser,
  type BrowserSuite,
  type Page,
} from '../../../test/browser.js';
import { createTestDatabase, type TestDatabase } from '../../../test/database.js';
import { createTestApp } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { startSmtpSink, type SmtpSink } from '../../../test/smtp.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Clock } from '../../platform/clock.js';
import type { Tenant } from '../tenants/index.js';

type SeedName = 'voiceking' | 'voxtra';

/** One browser test file of the portal: database, kernel, app on a real port, SMTP sink, Chromium. */
export interface PortalSuite {
  database: TestDatabase;
  kernel: Kernel;
  app: FastifyInstance;
  smtp: SmtpSink;
  browser: BrowserSuite;
  /** `http://127.0.0.1:<port>`: what the mails link to and the browser opens. */
  baseUrl: string;
  tenants: Record<SeedName, Tenant>;
  /** axe-core (no serious violation), a screenshot, and no console error or CSP refusal. */
  check(page: Page, name: string): Promise<void>;
  /** The text of the first mail to `email` matching `pattern` (mail is sent after the answer). */
  mailMatching(email: string, pattern: RegExp): Promise<string>;
  /**
   * Logs in by the mailed one-time link: fills the login page, opens the link from the mail.
   * `onSent` runs on the "link sent" page (to check or screenshot it).
   */
  logInByMail(
    page: Page,
    tenant: Tenant,
    email: string,
    options?: { lang?: string; onSent?: (page: Page) => Promise<void> },
  ): Promise<void>;
  close(): Promise<void>;
}

export interface PortalSuiteOptions {
  /** Seed-policy tenants to create (each gets a fresh slug). */
  tenants?: readonly SeedName[];
  clock?: Clock;
}

/** Starts what a portal browser test needs; `name` names the screenshot folder. */
export async function startPortalSuite(name: string, options: PortalSuiteOptions = {}): Promise<PortalSuite> {
  const database = await createTestDatabase();
  const kernel = createTestKernel(database, options.clock);
  const smtp = await startSmtpSink();
  const port = await reservePort();
  const app = await createTestApp(kernel, {
    mailer: smtp.mailer,
    publicUrl: `http://127.0.0.1:${port}`,
    answerQuanta: { form: 0, link: 0, login: 0 },
  });
  const baseUrl = await listenForBrowser(app, port);
  const tenants = {} as Record<SeedName, Tenant>;
  for (const seed of options.tenants ?? ['voiceking']) tenants[seed] = await createPolicyTenant(kernel, seed);
  const browser = await startBrowser(name);

  const check = async (page: Page, screenshot: string): Promise<void> => {
    await browser.checkAccessibility(page);
    await browser.screenshot(page, screenshot);
    expect(browser.problemsOf(page)).toEqual([]);
  };

  const mailMatching = async (email: string, pattern: RegExp): Promise<string> => {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const found = smtp.to(email).find((mail) => pattern.test(mail.text ?? ''));
      if (found) return found.text ?? '';
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no mail to ${email} matching ${String(pattern)}`);
  };

  const logInByMail: PortalSuite['logInByMail'] = async (page, tenant, email, login = {}) => {
    await page.goto(`${baseUrl}/t/${tenant.slug}/account${login.lang ? `?lang=${login.lang}` : ''}`);
    await page.getByLabel('Your e-mail address').first().fill(email);
    await page.getByRole('button', { name: 'Send me a login link' }).click();
    await page.waitForURL(/account\?sent=1/);
    await login.onSent?.(page);
    const text = await mailMatching(email, /account\/login\?token=/);
    const link = /(http:\/\/127\.0\.0\.1:\d+\/t\/\S+\/account\/login\?token=\S+)/.exec(text)?.[1] ?? '';
    // The link's page logs in only by its button (decision 0400): a mail scanner's GET does not.
    await page.goto(link);
    await page.locator('form[action$="/account/login-token"] button').click();
    await page.waitForURL(/\/account$/);
  };

  return {
    database,
    kernel,
    app,
    smtp,
    browser,
    baseUrl,
    tenants,
    check,
    mailMatching,
    logInByMail,
    close: async () => {
      await browser.close();
      await app.close();
      await smtp.close();
      await database.close();
    },
  };
}

/**
 * A real PNG for logo tests, made here (zlib and CRC-32 of node:zlib): `width`×`height`, a left
 * block in `left` and the rest in `right` (RGB hex), so a screenshot shows it as a small mark.
 */
export function makeTestPng(width: number, height: number, left = '#e30613', right = '#1d1d1b'): Buffer {
  const rgb = (hex: string): number[] =>
    [1, 3, 5].map((offset) => parseInt(hex.slice(offset, offset + 2), 16));
  const [a, b] = [rgb(left), rgb(right)];
  const rows: number[] = [];
  for (let y = 0; y < height; y += 1) {
    rows.push(0);
    for (let x = 0; x < width; x += 1) rows.push(...(x < width / 3 ? a : b));
  }
  const chunk = (type: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([head, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.from(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
