import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kernel } from '../src/kernel/kernel.js';
import { cookieSectionVersion } from '../src/modules/cookies/index.js';
import type { Tenant } from '../src/modules/tenants/index.js';
import { createTestDatabase, runAsOwner, type TestDatabase } from './database.js';
import { createTestApp } from './http.js';
import { createPolicyTenant, createTestKernel } from './kernel.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voiceking: Tenant;

const MINUTE = 60_000;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel, {
    cookieLimits: {
      receiptsByAddress: { bucket: 'cookie-receipts.address', mode: 'block', max: 3, windowMs: 10 * MINUTE },
      visitsByAddress: { bucket: 'website-visits.address', mode: 'block', max: 3, windowMs: 10 * MINUTE },
    },
  });
  voiceking = await createPolicyTenant(kernel, 'voiceking');
});
afterAll(async () => {
  await app?.close();
  await database?.close();
});

const count = async (table: string): Promise<number> =>
  Number(
    (
      await runAsOwner<{ n: string }>(
        database.ownerUrl,
        `select count(*) as n from ${table} where tenant_id = $1`,
        [voiceking.tenantId],
      )
    ).rows[0]?.n,
  );

interface Problem {
  status: number;
  code: string;
}

describe('the public endpoints’ limits (issue 15; decision 0075)', () => {
  it('consent receipts, the visit log and the report form answer 429 rate_limited with Retry-After past their limit, and store nothing', async () => {
    const policyVersion = cookieSectionVersion((await kernel.policies.current(voiceking.tenantId)).policy);
    const address = '198.51.100.23';
    const receipt = () =>
      app.inject({
        method: 'POST',
        url: `/t/${voiceking.slug}/consent/receipts`,
        remoteAddress: address,
        headers: { 'content-type': 'text/plain;charset=UTF-8' },
        payload: JSON.stringify({
          categories: ['analytical'],
          policyVersion,
          bannerVersion: '0a1b2c3d4e5f',
          language: 'nl',
          source: 'banner',
        }),
      });
    const visit = (from = address) =>
      app.inject({
        method: 'POST',
        url: `/t/${voiceking.slug}/visits`,
        remoteAddress: from,
        headers: {
          'content-type': 'text/plain;charset=UTF-8',
          'user-agent': 'Mozilla/5.0 (X11; Linux x86_64)',
        },
        payload: JSON.stringify({ page: '/tarieven' }),
      });

    // Receipts: three pass, the fourth is refused and stores no receipt.
    for (let index = 0; index < 3; index += 1) expect((await receipt()).statusCode).toBe(201);
    expect(await count('cookie_receipts')).toBe(3);
    const refusedReceipt = await receipt();
    expect(refusedReceipt.statusCode).toBe(429);
    expect(refusedReceipt.headers['content-type']).toContain('application/problem+json');
    expect(refusedReceipt.json<Problem>()).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(Number(refusedReceipt.headers['retry-after'])).toBeGreaterThan(0);
    // The banner on the provider's site can read the refusal (CORS header on the error too).
    expect(refusedReceipt.headers['access-control-allow-origin']).toBe('*');
    expect(await count('cookie_receipts')).toBe(3);
    // The settings page's form counts in the same bucket: refused, no receipt.
    const form = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/cookies`,
      remoteAddress: address,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'lang=nl&action=accept',
    });
    expect(form.statusCode).toBe(429);
    expect(form.json<Problem>().code).toBe('rate_limited');
    expect(await count('cookie_receipts')).toBe(3);

    // The visit log: the same, per address; another address is not held back.
    for (let index = 0; index < 3; index += 1) expect((await visit()).statusCode).toBe(200);
    const visits = await count('website_visits');
    const refusedVisit = await visit();
    expect(refusedVisit.statusCode).toBe(429);
    expect(refusedVisit.json<Problem>()).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(await count('website_visits')).toBe(visits);
    expect((await visit('203.0.113.9')).statusCode).toBe(200);

    // The report form (5 an hour per address): the JSON door and the portal's form share the limit.
    const report = (description: string) =>
      app.inject({
        method: 'POST',
        url: `/t/${voiceking.slug}/privacy/incident-reports`,
        remoteAddress: address,
        payload: { kind: 'misuse', description },
      });
    for (let index = 0; index < 5; index += 1)
      expect((await report(`Verdachte oproep nummer ${index} op mijn lijn.`)).statusCode).toBeLessThan(300);
    expect(await count('incidents')).toBe(5);
    const refusedReport = await report('Nog een verdachte oproep op mijn lijn.');
    expect(refusedReport.statusCode).toBe(429);
    expect(refusedReport.json<Problem>()).toMatchObject({ status: 429, code: 'rate_limited' });
    const page = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/report?lang=en`,
      remoteAddress: address,
    });
    const cookie = String(page.headers['set-cookie'] ?? '')
      .split(',')
      .map((part) => part.split(';')[0]?.trim() ?? '')
      .filter((part) => part.startsWith('kluis_form='))
      .join('; ');
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const refusedForm = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/report?lang=en`,
      remoteAddress: address,
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      payload: `csrf=${csrf}&kind=misuse&description=${encodeURIComponent('Weer een verdachte oproep.')}`,
    });
    expect(refusedForm.statusCode).toBe(429);
    expect(refusedForm.body).toContain('<html lang="en">');
    expect(await count('incidents')).toBe(5);
  });
});
