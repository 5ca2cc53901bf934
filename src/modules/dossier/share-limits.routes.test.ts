import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createCustomer } from '../billing/billing.test-helpers.js';
import type { Tenant } from '../tenants/index.js';
import { dossierCall, ownerRows } from './dossier.test-helpers.js';
import { DEFAULT_SHARE_LIMITS } from './share-limits.js';

const clock = fixedClock(new Date('2026-11-05T10:00:00Z'));
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voxtra: Tenant;
let technician: StaffSession;
let credentialId: number;

const PASSWORD = 'Sh4re-L1mit!pass';
const REASON = 'new employee needs the mailbox, ticket T-88';

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  app = await createTestApp(kernel);
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  technician = await loginAs(app, kernel, voxtra, 'technician');
  const subjectId = await createCustomer(kernel, voxtra, { familyName: 'Limiet' });
  const created = await dossierCall(
    app,
    technician,
    'POST',
    `/api/v1/customers/${subjectId}/dossier/credentials`,
    {
      system: 'Mailbox',
      password: PASSWORD,
    },
  );
  credentialId = created.json<{ credentialId: number }>().credentialId;
});
afterAll(async () => {
  await app.close();
  await database.close();
});

const share = (session = technician) =>
  dossierCall(app, session, 'POST', `/api/v1/dossier/credentials/${credentialId}/share`, {
    field: 'password',
    reason: REASON,
  });
const pathOf = (response: { json: <T>() => T }) => new URL(response.json<{ url: string }>().url).pathname;
const open = (path: string, address: string) =>
  app.inject({ method: 'POST', url: `${path}/open`, remoteAddress: address });
const look = (path: string, address: string) =>
  app.inject({ method: 'GET', url: path, remoteAddress: address });

describe('limits on the one-time share links (issue 17)', () => {
  it('VX-4: share-link looks and opens are limited per link and per client address: past the limit a 429 with Retry-After and no secret; the limit ends with its window', async () => {
    const link = await share();
    expect(link.statusCode, link.body).toBe(201);
    const path = pathOf(link);
    // A mail scanner and the recipient look at the link a few times; the opening still works.
    for (let index = 1; index < DEFAULT_SHARE_LIMITS.openByLink.max; index += 1)
      expect((await look(path, `192.0.2.${index}`)).statusCode).toBe(200);
    const opened = await open(path, '198.51.100.7');
    expect(opened.json()).toEqual({ field: 'password', value: PASSWORD });
    // Past the link's limit, from any address: 429 before the link is looked up.
    const hammered = await open(path, '198.51.100.8');
    expect(hammered.statusCode).toBe(429);
    expect(hammered.json()).toMatchObject({ code: 'rate_limited' });
    expect(Number(hammered.headers['retry-after'])).toBeGreaterThan(0);

    // One address guessing tokens: its 31st attempt is refused, even for a real link.
    const guesser = '203.0.113.50';
    for (let index = 0; index < DEFAULT_SHARE_LIMITS.openByAddress.max; index += 1)
      expect(
        (await open(`/t/${voxtra.slug}/dossier/shares/${'g'.repeat(42)}${index % 10}`, guesser)).statusCode,
      ).toBe(404);
    const real = pathOf(await share());
    const refused = await open(real, guesser);
    expect(refused.statusCode).toBe(429);
    expect(refused.body).not.toContain(PASSWORD);
    // Another address opens it; the guesser's window ends after an hour.
    expect((await open(real, '198.51.100.9')).json()).toEqual({ field: 'password', value: PASSWORD });
    clock.advance(61 * 60 * 1000);
    expect((await open(`/t/${voxtra.slug}/dossier/shares/${'g'.repeat(43)}`, guesser)).statusCode).toBe(404);
  });

  it('VX-4: a technician creates at most 20 share links an hour; the 21st is refused (429) and stores nothing; another technician is not affected', async () => {
    const busy = await loginAs(app, kernel, voxtra, 'technician');
    const links = async () =>
      (
        await ownerRows<{ n: number }>(
          database,
          'select count(*)::int as n from dossier_share_links where tenant_id = $1 and created_by_staff_id = $2',
          [voxtra.tenantId, busy.staffId],
        )
      )[0]?.n;
    for (let index = 0; index < DEFAULT_SHARE_LIMITS.createByStaff.max; index += 1)
      expect((await share(busy)).statusCode).toBe(201);
    const refused = await share(busy);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'rate_limited' });
    expect(await links()).toBe(DEFAULT_SHARE_LIMITS.createByStaff.max);
    const other = await loginAs(app, kernel, voxtra, 'technician');
    expect((await share(other)).statusCode).toBe(201);
  });
});
