/**
 * The staff back office in a real Chromium, for the browser tests of its screens: a staff member
 * made as an admin would, signed in for the first time through the browser (one-time password →
 * QR-code enrolment where the role needs a second factor → own password), and a look at each
 * screen (axe-core, then a screenshot).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { generate } from 'otplib';
import { afterAll, beforeAll, expect } from 'vitest';
import { buildApp, type HttpDependencies } from '../src/http/app.js';
import { WEB_ROOT } from '../src/http/web.js';
import type { Kernel } from '../src/kernel/kernel.js';
import { createStaffUser } from '../src/modules/staff/index.js';
import type { Tenant } from '../src/modules/tenants/index.js';
import { listenForBrowser, startBrowser, type BrowserSuite, type Page } from './browser.js';
import type { Locator } from 'playwright-core';
import { createTestDatabase, testLogger, type TestDatabase } from './database.js';
import { createTestKernel } from './kernel.js';
import type { StaffSession } from './http.js';

export const STAFF_PASSWORD = 'Lange-Zin-Voor-Kluis-2026';

export interface StaffBrowser {
  browser: BrowserSuite;
  kernel: Kernel;
  baseUrl: string;
}

export interface SignedInStaff {
  page: Page;
  email: string;
  staffId: number;
  totpSecret: string | undefined;
}

/** Fails early when the back office was not built (npm install builds it). */
export function assertWebBuilt(): void {
  if (!existsSync(path.join(WEB_ROOT, 'index.html')))
    throw new Error('the back office is not built: run `npm run build` (npm install does it)');
}

// Waits until no finite animation has run for two checks 100 ms apart, at most 2 s: a notification
// mounted just after the first check (its transition starts a frame later) is still waited for.
const SETTLE_TRANSITIONS = `(async () => {
  const running = () => document.getAnimations().filter((animation) =>
    animation.playState === 'running' && animation.effect &&
    animation.effect.getComputedTiming().endTime !== Infinity);
  const until = Date.now() + 2000;
  let quiet = 0;
  while (quiet < 2 && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    quiet = running().length === 0 ? quiet + 1 : 0;
  }
  return true;
})()`;

/** Looks at the screen the way a person would (axe-core) and keeps a picture of it. */
export async function look(browser: BrowserSuite, page: Page, name: string): Promise<void> {
  await page.waitForLoadState('networkidle', { timeout: 5_000 }).catch(() => undefined);
  // A dialog still fading in is not what a person reads (axe measures its half-transparent text):
  // wait for finite transitions to end (a spinner's animation never does).
  await page.evaluate(SETTLE_TRANSITIONS).catch(() => undefined);
  await browser.checkAccessibility(page);
  // From the top: a full-page picture of a scrolled page draws the fixed header in the middle.
  await page.evaluate('window.scrollTo(0, 0)');
  await browser.screenshot(page, name);
}

/** Follows a link of the navigation. */
export async function goTo(page: Page, screen: string): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name: screen, exact: true }).click();
}

/**
 * Picks the purpose a screen acts under from the screen's picker (or the picker inside `within`),
 * by its key (each option of the list holds it as its value; the option shows the policy's label):
 * where several purposes fit, a screen reads nothing until one is chosen (decision 1280).
 */
export async function choosePurpose(page: Page, key: string, within?: Locator): Promise<void> {
  await (within ?? page.getByRole('main')).getByTestId('purpose-picker').first().click();
  await page.locator(`[role="option"][value="${key}"]`).click();
}

/** The last time step used per secret: the server takes a step once and only a later one after it. */
const usedSteps = new Map<string, number>();
const TOTP_PERIOD_S = 30;

/**
 * A code the server takes now: the current step's, or the next step's when the current one was
 * used (the server accepts one step either side, as an authenticator's clock may run ahead), and
 * only when both were used does it wait for the clock to move on.
 */
export async function freshCode(secret: string): Promise<string> {
  for (;;) {
    const step = Math.floor(Date.now() / 1000 / TOTP_PERIOD_S);
    const next = Math.max(step, (usedSteps.get(secret) ?? -1) + 1);
    if (next <= step + 1) {
      usedSteps.set(secret, next);
      return generate({ secret, epoch: next * TOTP_PERIOD_S });
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/**
 * The first sign-in of a staff member with a one-time password, all in the browser (in English):
 * password, the QR-code enrolment and recovery codes where the role needs a second factor, a new
 * password. With `shots`, each step is looked at and saved as `<shots>-<n>-<step>`.
 */
export async function firstSignIn(
  env: StaffBrowser,
  page: Page,
  tenant: Tenant,
  email: string,
  oneTimePassword: string,
  shots?: string,
): Promise<string | undefined> {
  const step = async (name: string) => {
    if (shots) await look(env.browser, page, `${shots}-${name}`);
  };
  await page.goto(`${env.baseUrl}/`);
  await page.getByLabel(/^Organisation/).fill(tenant.slug);
  await page.getByLabel(/^E-mail address/).fill(email);
  await page.getByLabel(/^Password/).fill(oneTimePassword);
  await step('1-sign-in');
  await page.getByRole('button', { name: 'Sign in' }).click();
  let secret: string | undefined;
  const enrolment = page.getByTestId('totp-secret');
  const newPassword = page.getByLabel(/^New password/);
  await enrolment.or(newPassword).first().waitFor();
  if (await enrolment.isVisible()) {
    expect(await page.getByRole('img', { name: 'QR code for your authenticator app' }).count()).toBe(1);
    await step('2-enrol-qr');
    secret = (await enrolment.textContent())?.trim() ?? '';
    await page.getByLabel(/^The code the app shows now/).fill(await freshCode(secret));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByTestId('recovery-codes').waitFor();
    expect(await page.getByTestId('recovery-codes').locator('li').count()).toBe(10);
    await step('3-recovery-codes');
    await page.getByRole('button', { name: 'I have saved these codes' }).click();
  }
  await newPassword.waitFor();
  await step('4-new-password');
  await newPassword.fill(STAFF_PASSWORD);
  await page.getByLabel(/^Repeat the new password/).fill(STAFF_PASSWORD);
  await page.getByRole('button', { name: 'Save the new password' }).click();
  await page.getByRole('heading', { name: 'Start', level: 1 }).waitFor();
  return secret;
}

/** A staff member of a role, created as an admin would, signed in for the first time in a new browser. */
export async function staffSignedIn(env: StaffBrowser, tenant: Tenant, role: string): Promise<SignedInStaff> {
  const email = `${role.replaceAll('_', '-')}-${Math.random().toString(36).slice(2, 8)}@staff.example`;
  const created = await createStaffUser(
    env.kernel,
    tenant.tenantId,
    { kind: 'system', job: 'test' },
    { email, displayName: `Test ${role}`, role },
  );
  const page = await env.browser.newPage({ locale: 'en-GB' });
  const totpSecret = await firstSignIn(env, page, tenant, email, created.oneTimePassword);
  return { page, email, staffId: created.staffId, totpSecret };
}

/** A page in `locale` signed in with an API session (its cookie and CSRF token handed to the browser). */
export async function pageWithSession(
  env: StaffBrowser,
  session: StaffSession,
  locale: string,
): Promise<Page> {
  const page = await env.browser.newPage({ locale });
  const [name = '', value = ''] = session.cookie.split(';')[0]?.split('=') ?? [];
  await page.context().addCookies([{ name, value, url: env.baseUrl }]);
  // Only the top document: a sandboxed frame (an invoice's) may not touch storage.
  await page.addInitScript(
    `if (window === window.top) sessionStorage.setItem('kluis.csrf', ${JSON.stringify(session.csrfToken)})`,
  );
  return page;
}

/** No console error, uncaught exception or CSP refusal on the page so far. */
export function expectNoPageProblems(env: StaffBrowser, page: Page): void {
  expect(env.browser.problemsOf(page)).toEqual([]);
}

/**
 * The URLs of the page's requests that contain `part`, collected from now on: to check that a
 * screen asks nothing of a route its user may not use.
 */
export function requestsTo(page: Page, part: string): string[] {
  const asked: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes(part)) asked.push(request.url());
  });
  return asked;
}

/** What a browser suite of the back office runs against: its own database, kernel, app and Chromium. */
export interface BackOffice extends StaffBrowser {
  database: TestDatabase;
  app: FastifyInstance;
}

export interface BackOfficeOptions {
  /** The kernel over the new database; by default `createTestKernel(database)`. */
  kernel?: (database: TestDatabase) => Kernel;
  /** More of the app's dependencies (mailer, public URL …) beside the kernel and the built web root. */
  app?: (kernel: Kernel) => Partial<HttpDependencies>;
}

/**
 * For a browser suite's `beforeAll`: checks the back office is built, makes a database and a kernel,
 * serves the app with the built web root on a loopback port and starts Chromium (screenshots under
 * `suite`). What was opened before a failure is closed again; `closeBackOffice` closes the rest.
 */
export async function startBackOffice(suite: string, options: BackOfficeOptions = {}): Promise<BackOffice> {
  assertWebBuilt();
  const database = await createTestDatabase();
  let app: FastifyInstance | undefined;
  try {
    const kernel = options.kernel?.(database) ?? createTestKernel(database);
    app = await buildApp({
      kernel,
      logger: testLogger,
      version: 'test',
      webRoot: WEB_ROOT,
      ...options.app?.(kernel),
    });
    const baseUrl = await listenForBrowser(app);
    const browser = await startBrowser(suite);
    return { database, kernel, app, baseUrl, browser };
  } catch (error) {
    await app?.close();
    await database.close();
    throw error;
  }
}

/** For the suite's `afterAll`: closes the browser, the app and the database. */
export async function closeBackOffice(office: BackOffice | undefined): Promise<void> {
  await office?.browser.close();
  await office?.app.close();
  await office?.database.close();
}

/**
 * For a browser suite, called at its top: registers a `beforeAll` that starts the back office
 * (`startBackOffice`, screenshots under `suite`) and an `afterAll` that closes it. The answer is
 * filled in by that `beforeAll`: read it in the suite's tests and in hooks registered after this.
 */
export function backOfficeForSuite(suite: string, options: BackOfficeOptions = {}): BackOffice {
  // Empty until the `beforeAll` below has run; nothing reads it before.
  const office = {} as BackOffice;
  let started = false;
  beforeAll(async () => {
    Object.assign(office, await startBackOffice(suite, options));
    started = true;
  }, 180_000);
  afterAll(() => closeBackOffice(started ? office : undefined));
  return office;
}

/**
 * The notifications on screen cover none of the screen's controls (buttons, links, fields of the
 * main area): a confirmation never sits over the next thing to click. At most two are shown.
 */
export async function expectToastsClearOfControls(page: Page): Promise<void> {
  const toasts = await page.locator('.mantine-Notification-root').all();
  expect(toasts.length).toBeLessThanOrEqual(2);
  const boxes = (await Promise.all(toasts.map((toast) => toast.boundingBox()))).filter(
    (box): box is NonNullable<typeof box> => box !== null,
  );
  const controls = await page
    .getByRole('main')
    .locator('button, a, input, textarea, [role="combobox"]')
    .all();
  for (const control of controls) {
    const box = await control.boundingBox();
    if (!box || !(await control.isVisible())) continue;
    for (const toast of boxes) {
      const overlaps =
        box.x < toast.x + toast.width &&
        toast.x < box.x + box.width &&
        box.y < toast.y + toast.height &&
        toast.y < box.y + box.height;
      expect({ control: (await control.innerText().catch(() => '')).slice(0, 40), overlaps }).toEqual({
        control: (await control.innerText().catch(() => '')).slice(0, 40),
        overlaps: false,
      });
    }
  }
}
