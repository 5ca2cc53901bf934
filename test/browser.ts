import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import chromium from '@sparticuz/chromium';
import type { AxeResults, Result as AxeViolation } from 'axe-core';
import {
  chromium as playwright,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Page,
} from 'playwright-core';
import { ROOT } from './cli.js';

/**
 * Browser tests with only Node and npm on the machine (RECIPES.md): the Chromium that
 * `@sparticuz/chromium` ships inside its npm package, driven by `playwright-core`, with `axe-core`
 * injected for an accessibility check. One browser per test file (`startBrowser` in `beforeAll`,
 * `close` in `afterAll`); each test opens its own context, so cookies never leak between tests.
 *
 * @example
 *   let browser: BrowserSuite;
 *   beforeAll(async () => { browser = await startBrowser('portal'); });
 *   afterAll(() => browser.close());
 *   it('…', async () => {
 *     const page = await browser.newPage({ locale: 'fr-BE' });
 *     await page.goto(`${baseUrl}/t/${slug}/privacy`);
 *     await browser.checkAccessibility(page);
 *     await browser.screenshot(page, 'statement-fr');
 *   });
 */

export type { Browser, BrowserContext, Page } from 'playwright-core';

const require = createRequire(import.meta.url);
// The package's `exports` hide its package.json from require(); its version names the unpacked copy.
const CHROMIUM_VERSION = (
  JSON.parse(readFileSync(path.join(ROOT, 'node_modules/@sparticuz/chromium/package.json'), 'utf8')) as {
    version: string;
  }
).version;
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Where screenshots go: test-results/screenshots/<suite>/<name>.png (git-ignored). */
export const SCREENSHOT_ROOT = path.join(ROOT, 'test-results', 'screenshots');

/**
 * Flags from @sparticuz/chromium minus the ones that would hide what a test must see: it turns off
 * the same-origin policy and mixed-content blocking for Lambda; our pages must work with both on.
 * `--single-process` is dropped too: separate renderers keep one crashed page from taking the
 * browser down, and contexts stay isolated.
 */
const DROPPED_FLAGS = new Set([
  '--disable-web-security',
  '--allow-running-insecure-content',
  '--disable-site-isolation-trials',
  '--single-process',
]);

/** Impacts that fail a page; `moderate` and `minor` are reported in the result but pass. */
const FAILING_IMPACTS = new Set(['serious', 'critical']);

export interface NewPageOptions extends BrowserContextOptions {
  /** Phone-sized viewport (390 × 844, touch) instead of a desktop one. */
  phone?: boolean;
}

export interface AccessibilityOptions {
  /** axe rule ids to skip, each with the reason in the calling test. */
  disableRules?: string[];
  /** CSS selector to check instead of the whole document. */
  include?: string;
}

export interface BrowserSuite {
  browser: Browser;
  /** A page in a fresh context (own cookies); console errors and CSP refusals are collected. */
  newPage(options?: NewPageOptions): Promise<Page>;
  /** Full-page PNG at test-results/screenshots/<suite>/<name>.png; returns the path. */
  screenshot(page: Page, name: string): Promise<string>;
  /** Runs axe-core on the page; throws listing every serious or critical violation. */
  checkAccessibility(page: Page, options?: AccessibilityOptions): Promise<AxeResults>;
  /** Console errors, uncaught exceptions and CSP refusals seen on this page so far. */
  problemsOf(page: Page): string[];
  close(): Promise<void>;
}

/**
 * The unpacked Chromium of this package version, in its own folder under the system temp dir.
 * The package itself unpacks to a fixed /tmp/chromium whatever its version, and two test files
 * unpacking at once would each see the other's half-written binary; so each process unpacks into
 * a private folder (TMPDIR pointed there for the call) and renames it into place, which is atomic.
 */
async function chromiumExecutable(): Promise<string> {
  // The file name @sparticuz/chromium gives the binary it unpacks from its own npm tarball; no
  // system Chromium is looked for or used.
  const NPM_CHROMIUM_FILE = 'chromium';
  const target = path.join(os.tmpdir(), `kluis-chromium-${CHROMIUM_VERSION}`);
  const binary = path.join(target, NPM_CHROMIUM_FILE);
  if (await exists(binary)) return binary;
  const staging = await mkdtemp(`${target}.staging-`);
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = staging;
  try {
    await chromium.executablePath();
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  }
  try {
    await rename(staging, target);
  } catch {
    // Another test file got there first: use its copy.
    await rm(staging, { recursive: true, force: true });
  }
  return binary;
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/** Launches one Chromium for a test file; `suite` names the screenshot folder. */
export async function startBrowser(suite: string): Promise<BrowserSuite> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(suite)) throw new Error(`suite name must be kebab-case: ${suite}`);
  const executablePath = await chromiumExecutable();
  const args = chromium.args.filter((flag) => !DROPPED_FLAGS.has(flag));
  const browser = await playwright.launch({
    executablePath,
    args: [
      ...args,
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    headless: true,
  });
  const folder = path.join(SCREENSHOT_ROOT, suite);
  await mkdir(folder, { recursive: true });
  const problems = new WeakMap<Page, string[]>();
  const contexts = new Set<BrowserContext>();
  const scriptless = new WeakSet<Page>();

  return {
    browser,
    newPage: async ({ phone = false, ...options } = {}) => {
      const context = await browser.newContext({
        ...(phone ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true } : {}),
        locale: 'nl-BE',
        timezoneId: 'Europe/Brussels',
        // Screens then skip their fades (Mantine respects it): axe measures text as it is read,
        // not half-transparent while a notification slides in.
        reducedMotion: 'reduce',
        ...options,
      });
      contexts.add(context);
      context.on('close', () => contexts.delete(context));
      const page = await context.newPage();
      if (options.javaScriptEnabled === false) scriptless.add(page);
      const seen: string[] = [];
      problems.set(page, seen);
      page.on('console', (message) => {
        // Chromium logs every 4xx answer as a console error; a form answering 422 on purpose is not
        // a problem of the page (tests check statuses themselves). Everything else is kept.
        if (message.type() !== 'error') return;
        if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(message.text()))
          return;
        seen.push(message.text());
      });
      page.on('pageerror', (error) => seen.push(`uncaught: ${error.message}`));
      return page;
    },
    screenshot: async (page, name) => {
      if (!/^[a-z0-9][a-z0-9._-]*$/i.test(name))
        throw new Error(`screenshot name must be a file name: ${name}`);
      const file = path.join(folder, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    checkAccessibility: async (page, options = {}) => {
      if (!scriptless.has(page)) return runAxe(page, options);
      // axe is a script: a page opened with JavaScript off is copied, DOM as shown, into a page
      // with it on at the same URL (so its stylesheets load the same), and checked there.
      const html = await page.content();
      const url = page.url();
      const context = await browser.newContext({ viewport: page.viewportSize() });
      try {
        const copy = await context.newPage();
        await copy.route(url, (route) =>
          route.fulfill({ contentType: 'text/html; charset=utf-8', body: html }),
        );
        await copy.goto(url);
        return await runAxe(copy, options);
      } finally {
        await context.close();
      }
    },
    problemsOf: (page) => [...(problems.get(page) ?? [])],
    close: async () => {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser.close();
    },
  };
}

async function runAxe(page: Page, options: AccessibilityOptions): Promise<AxeResults> {
  // Evaluated through the DevTools protocol, so the page's CSP (script-src 'self') does not refuse
  // it, and no page script is changed to make room for the check.
  const hasAxe = await page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe !== 'undefined');
  if (!hasAxe) await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate(
    async ({ include, disableRules }) => {
      const axe = (globalThis as unknown as { axe: typeof import('axe-core') }).axe;
      // axe's default context is the whole document.
      return axe.run(include ? { include: [include] } : { exclude: [] }, {
        resultTypes: ['violations'],
        rules: Object.fromEntries(disableRules.map((rule) => [rule, { enabled: false }])),
      });
    },
    { include: options.include ?? null, disableRules: options.disableRules ?? [] },
  );
  const failing = results.violations.filter((violation) => FAILING_IMPACTS.has(violation.impact ?? ''));
  if (failing.length > 0) {
    throw new Error(
      `accessibility violations on ${page.url()}:\n${failing.map(describeViolation).join('\n')}`,
    );
  }
  return results;
}

function describeViolation(violation: AxeViolation): string {
  const nodes = violation.nodes.map((node) => `    ${node.target.join(' ')}: ${node.failureSummary ?? ''}`);
  return `  [${violation.impact ?? '?'}] ${violation.id}: ${violation.help}\n${nodes.join('\n')}`;
}

/**
 * A free loopback port, for an app that must know its own URL before it listens (the links it
 * mails): build the app with `publicUrl: http://127.0.0.1:<port>`, then `listenForBrowser(app, port)`.
 */
export async function reservePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/** Starts the app on a loopback port for a browser to reach; returns its base URL. */
export async function listenForBrowser(app: FastifyInstance, port = 0): Promise<string> {
  await app.listen({ host: '127.0.0.1', port });
  const address = app.server.address();
  if (typeof address !== 'object' || address === null) throw new Error('app is not listening on a port');
  return `http://127.0.0.1:${address.port}`;
}
