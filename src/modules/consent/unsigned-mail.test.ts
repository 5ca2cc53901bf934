// Decision 0837: a mailing leaves through a relay that delivers only from the tenant's own
// address, DKIM-signed; without those settings it is refused and nothing goes out.
import { generateKeyPairSync } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testLogger, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { startSmtpSink, type SmtpSink } from '../../../test/smtp.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createMailer, type Mailer } from '../../platform/mailer.js';
import { DATA_MAP } from '../data-map.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';
import { sendQueuedMailings, type ConsentDeps } from './index.js';
import { putVoicekingMailSettings } from './mailing.test-helpers.js';

const PUBLIC = 'https://news.example';
let database: TestDatabase;
let kernel: Kernel;
let smtp: SmtpSink;
let app: FastifyInstance;
let relay: Mailer;
let voiceking: Tenant;
let sales: StaffSession;
let admin: StaffSession;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  smtp = await startSmtpSink();
  // A relay on 127.0.0.1 as the server's config builds it (a Postfix beside Kluis): it reaches
  // people unless declared a development sink (attack S17-5, decision 0843).
  relay = createMailer({
    smtpUrl: smtp.url,
    from: 'privacy@provider.example',
    outboxDir: '/nonexistent',
    logger: testLogger,
  });
  expect(relay.delivers).toBe(true);
  app = await createTestApp(kernel, { mailer: relay, publicUrl: PUBLIC });
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  sales = await loginAs(app, kernel, voiceking, 'sales');
  admin = await loginAs(app, kernel, voiceking, 'admin');
}, 120_000);
afterAll(async () => {
  await app.close();
  await smtp.close();
  await database.close();
});

const staff = (session: StaffSession, purpose: string) => ({
  cookie: session.cookie,
  'x-csrf-token': session.csrfToken,
  'x-kluis-purpose': purpose,
});

/** What the mailing sender needs, sending through the relay that delivers. */
const relayDeps = (): ConsentDeps => ({
  kernel,
  mailer: relay,
  publicUrl: PUBLIC,
  dataMap: DATA_MAP,
  logger: testLogger,
});

/** A customer with an address and a draft newsletter of `tenant` made by `sales`, and the call that sends it. */
async function draftMailing(
  tenant: Tenant,
  sales: StaffSession,
  person: { familyName: string; givenName: string; email: string },
) {
  await createPerson(
    kernel,
    { tenantId: tenant.tenantId, actor: { kind: 'system', job: 'test' }, purpose: 'order_processing' },
    { subjectType: 'customer', ...person },
  );
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/mailings',
    headers: staff(sales, 'newsletter_customers'),
    payload: { texts: { nl: { subject: 'Nieuws', body: 'Beste klant, ons nieuws.' } } },
  });
  expect(created.statusCode, created.body).toBe(201);
  const { mailingId } = created.json<{ mailingId: number }>();
  const send = () =>
    app.inject({
      method: 'POST',
      url: `/api/v1/mailings/${mailingId}/send`,
      headers: staff(sales, 'newsletter_customers'),
    });
  return { mailingId, send };
}

describe('mailings through a relay that delivers (decision 0837)', () => {
  it('VK-17: through a relay on 127.0.0.1 (attack S17-5), a tenant without its sender address and DKIM key is refused 409 mail_not_signed naming the settings, nothing is queued or sent; with them the mailing goes out from its address, DKIM-signed', async () => {
    const { mailingId, send } = await draftMailing(voiceking, sales, {
      familyName: 'Peeters',
      givenName: 'An',
      email: 'an.peeters@mail.example',
    });
    const refused = await send();
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({
      code: 'mail_not_signed',
      details: { setting: 'mail-settings', missing: ['fromAddress', 'dkim'] },
    });
    expect(refused.json<{ detail: string }>().detail).toContain('PUT /api/v1/mail-settings');
    const still = await app.inject({
      method: 'GET',
      url: `/api/v1/mailings/${mailingId}`,
      headers: staff(sales, 'newsletter_customers'),
    });
    expect(still.json<{ state: string }>().state).toBe('draft');
    const deps = relayDeps();
    await sendQueuedMailings(deps, { tenantId: voiceking.tenantId });
    expect(smtp.messages).toHaveLength(0);

    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const settings = await putVoicekingMailSettings(app, admin, privateKey);
    expect(settings.statusCode, settings.body).toBe(200);
    const sent = await send();
    expect(sent.statusCode, sent.body).toBe(202);
    await sendQueuedMailings(deps, { tenantId: voiceking.tenantId, mailingId });
    const mail = await smtp.waitFor('an.peeters@mail.example');
    expect(mail.from?.text).toContain('news@voiceking.be');
    expect(smtp.rawOf(mail)).toMatch(/^DKIM-Signature: .*d=voiceking\.be/m);
  }, 120_000);

  it('VK-17: a sender that reaches no one (.localhost) or a DKIM domain that does not align with it is refused 400 naming the field and stores nothing, as is a signing domain that is no host name or a public suffix; settings stored unaligned before hold the mailing 409 mail_not_signed, nothing sent (attack S18-2, S18-11, decision 0861)', async () => {
    const other = await createPolicyTenant(kernel, 'voiceking');
    const otherAdmin = await loginAs(app, kernel, other, 'admin');
    const otherSales = await loginAs(app, kernel, other, 'sales');
    const key = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const put = (fromAddress: string, domain: string) =>
      app.inject({
        method: 'PUT',
        url: '/api/v1/mail-settings',
        headers: staff(otherAdmin, 'staff_accounts'),
        payload: { fromAddress, dkim: { domain, selector: 's1', privateKey: key } },
      });
    const refusals: Array<[string, string, string]> = [
      ['news@kluis.localhost', 'kluis.localhost', 'body/fromAddress'],
      ['news@voiceking.be', 'unrelated.example', 'body/dkim/domain'],
      ['news@voiceking.be', 'example', 'body/dkim/domain'],
      ['news@voiceking.be', 'king.be', 'body/dkim/domain'],
      // Not host names, a public second level, senders under reserved names (attack S18-11).
      ['news@voiceking.be', '.voiceking.be', 'body/dkim/domain'],
      ['news@voiceking.be', 'x..voiceking.be', 'body/dkim/domain'],
      ['news@voiceking.be', '-.voiceking.be', 'body/dkim/domain'],
      ['news@a.co.uk', 'co.uk', 'body/dkim/domain'],
      ['news@voiceking.test', 'voiceking.test', 'body/fromAddress'],
      ['news@kluis.local', 'kluis.local', 'body/fromAddress'],
      ['news@voiceking.example', 'voiceking.example', 'body/fromAddress'],
      // Private names that never resolve publicly (decision 0861, amended s19).
      ['news@voiceking.lan', 'voiceking.lan', 'body/fromAddress'],
      ['news@voiceking.corp', 'voiceking.corp', 'body/fromAddress'],
      ['news@voiceking.home', 'voiceking.home', 'body/fromAddress'],
      ['news@voiceking.internal', 'voiceking.internal', 'body/fromAddress'],
      ['news@voiceking.localdomain', 'voiceking.localdomain', 'body/fromAddress'],
      ['news@home.arpa', 'home.arpa', 'body/fromAddress'],
    ];
    for (const [fromAddress, domain, path] of refusals) {
      const refused = await put(fromAddress, domain);
      expect(refused.statusCode, `${fromAddress} ${domain}`).toBe(400);
      expect(refused.json()).toMatchObject({ code: 'validation_failed', details: { issues: [{ path }] } });
      expect(refused.body).not.toContain('PRIVATE KEY');
    }
    const owner = new pg.Client({ connectionString: database.ownerUrl });
    await owner.connect();
    try {
      const stored = await owner.query('select count(*)::int as n from mail_settings where tenant_id = $1', [
        other.tenantId,
      ]);
      expect(stored.rows[0]).toEqual({ n: 0 });
      // The sender's parent domain signs: aligned (relaxed, as DMARC has it).
      const parent = await put('news@mail.voiceking.be', 'voiceking.be');
      expect(parent.statusCode, parent.body).toBe(200);

      // Settings stored before this check, unaligned: the mailing is held, nothing goes out.
      await owner.query("update mail_settings set dkim_domain = 'unrelated.example' where tenant_id = $1", [
        other.tenantId,
      ]);
      const { send } = await draftMailing(other, otherSales, {
        familyName: 'Claes',
        givenName: 'Bart',
        email: 'bart.claes@mail.example',
      });
      const held = await send();
      expect(held.statusCode).toBe(409);
      expect(held.json()).toMatchObject({ code: 'mail_not_signed', details: { missing: ['dkim'] } });
      expect(held.json<{ detail: string }>().detail).toContain('unrelated.example');
      const deps = relayDeps();
      await sendQueuedMailings(deps, { tenantId: other.tenantId });
      expect(smtp.messages.filter((mail) => JSON.stringify(mail.to).includes('bart.claes'))).toHaveLength(0);
    } finally {
      await owner.end();
    }
  }, 120_000);
});
