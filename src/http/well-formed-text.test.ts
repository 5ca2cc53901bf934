import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../test/database.js';
import { createTestApp, loginAs, requestAs, type StaffSession } from '../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../test/kernel.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Tenant } from '../modules/tenants/index.js';

// Attack S19-1 and S19-3: a lone UTF-16 surrogate in the public visit beacon answered 500, and in
// any other text field it was stored as U+FFFD (what was sent was not what was kept); a NUL in a
// JSON body got as far as the database. Refused at the door with 400, nothing written.
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voiceking: Tenant;
let admin: StaffSession;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  admin = await loginAs(app, kernel, voiceking, 'admin');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

const count = async (table: string): Promise<number> =>
  (
    await runAsOwner<{ n: number }>(
      database.ownerUrl,
      `select count(*)::int as n from ${table} where tenant_id = $1`,
      [voiceking.tenantId],
    )
  ).rows[0]?.n ?? -1;

// JSON text with the escapes kept, so that the lone surrogate reaches the server as sent.
const json = (text: string) => ({ payload: text, headers: { 'content-type': 'application/json' } });

describe('text that is not valid Unicode is refused at the door', () => {
  it('a lone surrogate in the public visit beacon is 400 validation_failed naming the field, and no visit is logged', async () => {
    const before = await count('website_visits');
    const response = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/visits`,
      ...json('{"page":"/tarieven\\ud800"}'),
    });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json()).toMatchObject({
      code: 'validation_failed',
      details: { issues: [{ path: 'body/page', message: 'not valid Unicode text' }] },
    });
    expect(await count('website_visits')).toBe(before);
  });

  it('a lone surrogate in a staff write, or a NUL in a public form, changes nothing; a paired surrogate (an emoji) is text like any other', async () => {
    const organisations = await count('organisations');
    const call = requestAs(app, admin, 'order_processing');
    const organisation = (name: string) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/organisations',
        headers: {
          cookie: admin.cookie,
          'x-csrf-token': admin.csrfToken,
          'x-kluis-purpose': 'order_processing',
          'content-type': 'application/json',
        },
        payload: `{"name":"${name}","country":"BE"}`,
      });
    const lone = await organisation('Bakkerij \\udc00');
    expect(lone.statusCode).toBe(400);
    expect(lone.json()).toMatchObject({ code: 'validation_failed' });
    expect(await count('organisations')).toBe(organisations);

    const signups = await count('newsletter_signups');
    const nul = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/newsletter/signup`,
      ...json('{"email":"nul@mail.example","language":"\\u0000"}'),
    });
    expect(nul.statusCode).toBe(400);
    expect(await count('newsletter_signups')).toBe(signups);

    const emoji = await organisation('Bakkerij \\ud83e\\udd50');
    expect(emoji.statusCode, emoji.body).toBe(201);
    const { organisationId } = emoji.json<{ organisationId: number }>();
    const read = await call('GET', `/api/v1/organisations/${organisationId}`);
    expect(read.json<{ name: string }>().name).toBe('Bakkerij 🥐');
  });
});
