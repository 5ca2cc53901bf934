import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../../test/cli.js';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import { systemClock } from '../../platform/clock.js';
import type { Tenant } from '../tenants/index.js';
import { createCustomer, staffCall } from './recipients.test-helpers.js';

const masterKey = randomBytes(32);
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voiceking: Tenant;
let sales: StaffSession;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, systemClock, masterKey);
  app = await createTestApp(kernel);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  sales = await loginAs(app, kernel, voiceking, 'sales');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

const logged = async (): Promise<number> =>
  (
    await runAsOwner(database.ownerUrl, 'select 1 from disclosures where tenant_id = $1', [
      voiceking.tenantId,
    ])
  ).rowCount ?? 0;

describe('a disclosure killed half-way', () => {
  it('a server killed (SIGKILL) after writing the log row but before the commit leaves no disclosure; the retry logs one', async () => {
    const person = await createCustomer(kernel, voiceking, 'order_processing');
    const server = await startServer({
      DATABASE_URL: database.ownerUrl,
      KLUIS_KEYSTORE_URL: database.keystoreOwnerUrl,
      KLUIS_MASTER_KEY: masterKey.toString('base64'),
      KLUIS_PORT: '0',
      KLUIS_DEMO: 'false',
      KLUIS_TEST_HOOK: 'disclosure.logged:kill',
    });
    try {
      const answer = await fetch(`${server.url}/api/v1/recipients/email_marketing/exports`, {
        method: 'POST',
        headers: {
          cookie: sales.cookie,
          'x-csrf-token': sales.csrfToken,
          'x-kluis-purpose': 'newsletter_customers',
          'content-type': 'application/json',
        },
        body: JSON.stringify({ subjectIds: [person.subjectId] }),
      }).catch(() => 'died');
      expect(answer).toBe('died');
      await server.exited;
    } finally {
      server.child.kill('SIGKILL');
    }
    expect(await logged()).toBe(0);
    const retry = await staffCall(app, sales, 'POST', '/api/v1/recipients/email_marketing/exports', {
      purpose: 'newsletter_customers',
      payload: { subjectIds: [person.subjectId] },
    });
    expect(retry.statusCode).toBe(200);
    expect(retry.body).toContain(person.email ?? 'x');
    expect(await logged()).toBe(1);
  });
});
