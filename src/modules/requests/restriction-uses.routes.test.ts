import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, requestAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel, fixedClock, type SeedPolicy } from '../../../test/kernel.js';
import { startSmtpSink, type SmtpSink } from '../../../test/smtp.js';
import type { Kernel } from '../../kernel/kernel.js';
import {
  billingContext,
  billingPurpose,
  createCustomer,
  prepareTenant,
  startContract,
} from '../billing/billing.test-helpers.js';
import { runInvoices } from '../billing/index.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let smtp: SmtpSink;
const tenants = new Map<SeedPolicy, Tenant>();
const clock = fixedClock(new Date('2026-03-02T09:00:00Z'));

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  smtp = await startSmtpSink();
  app = await createTestApp(kernel, { mailer: smtp.mailer, publicUrl: 'https://privacy.example' });
  for (const seed of ['voiceking', 'voxtra'] as const)
    tenants.set(seed, await createPolicyTenant(kernel, seed));
});
afterAll(async () => {
  await app?.close();
  await smtp?.close();
  await database?.close();
});

const SEEDS: Array<{ seed: SeedPolicy; createdUnder: string }> = [
  { seed: 'voiceking', createdUnder: 'order_processing' },
  { seed: 'voxtra', createdUnder: 'customer_administration' },
];

/** The purposes named in the statement's restriction item, as the labels the purposes section uses. */
function namedUses(markdown: string, lead: string, except: string): string[] {
  const line = markdown.split('\n').find((text) => text.startsWith(`- ${lead}`));
  if (line === undefined) throw new Error(`no line "${lead}"`);
  const marker = line.indexOf(except);
  if (marker < 0) return [];
  return line
    .slice(marker + except.length, -1)
    .split('; ')
    .filter((label) => label !== '');
}

describe('what a restriction leaves, said and done (VX-14, decision 0902)', () => {
  for (const { seed, createdUnder } of SEEDS) {
    it(`VX-14 (${seed}): the published statement names exactly the purposes that still read a restricted person, in Dutch and English, and the portal says the same; a read under each named purpose passes, one under an unnamed purpose is refused`, async () => {
      const tenant = tenants.get(seed);
      if (!tenant) throw new Error('no tenant');
      const { policy } = await kernel.policies.current(tenant.tenantId);
      const flagged = Object.entries(policy.purposes)
        .filter(([, purpose]) => purpose.readWhileRestricted)
        .map(([key]) => key);
      expect(flagged.sort()).toEqual(['accounting', 'breach_notification', 'legal_disclosure']);

      const leads = {
        nl: ['Recht op beperking', 'behalve voor: '],
        en: ['Right to restriction', 'except for: '],
      } as const;
      for (const lang of ['nl', 'en'] as const) {
        const page = await app.inject({
          method: 'GET',
          url: `/t/${tenant.slug}/privacy?lang=${lang}&format=md`,
        });
        expect(page.statusCode).toBe(200);
        expect(page.body).not.toMatch(/rechtsvordering|legal claims/);
        const named = namedUses(page.body, leads[lang][0], leads[lang][1]);
        expect(named.sort()).toEqual(flagged.map((key) => policy.purposes[key]?.label[lang]).sort());
        // The portal's rights page says the same, from the same policy.
        const rights = await app.inject({ method: 'GET', url: `/t/${tenant.slug}/rights?lang=${lang}` });
        expect(rights.statusCode).toBe(200);
        for (const key of flagged) {
          const label = policy.purposes[key]?.label[lang] ?? '';
          expect(rights.body).toContain(label.replaceAll("'", '&#39;'));
        }
      }

      // A customer who asked for restriction, registered and carried out by the officer.
      const officer = await loginAs(app, kernel, tenant, 'privacy_officer');
      const billing = await loginAs(app, kernel, tenant, 'billing');
      const sales = await loginAs(app, kernel, tenant, 'sales');
      const person = await createPerson(
        kernel,
        {
          tenantId: tenant.tenantId,
          actor: { kind: 'staff', staffId: 1, role: 'sales' },
          purpose: createdUnder,
        },
        {
          subjectType: 'customer',
          familyName: `Beperkt-${seed}`,
          givenName: 'Noor',
          email: `noor.beperkt.${seed}@mail.example`,
          address: { street: 'Kerkstraat 4', postalCode: '8500', city: 'Kortrijk', country: 'BE' },
        },
      );
      const registered = await requestAs(app, officer)('POST', '/api/v1/requests', {
        kind: 'restriction',
        channel: 'email',
        subjectId: person.subjectId,
        verificationMethod: 'reply_from_address_on_file',
      });
      expect(registered.statusCode, registered.body).toBe(201);
      const { requestId } = registered.json<{ requestId: string }>();
      const fulfilled = await requestAs(app, officer)('POST', `/api/v1/requests/${requestId}/fulfil`, {});
      expect(fulfilled.statusCode, fulfilled.body).toBe(200);
      const state = await runAsOwner<{ restricted: boolean }>(
        database.ownerUrl,
        'select restricted_at is not null as restricted from data_subjects where tenant_id = $1 and subject_id = $2',
        [tenant.tenantId, person.subjectId],
      );
      expect(state.rows[0]?.restricted).toBe(true);

      const sessionFor: Record<string, StaffSession> = {
        accounting: billing,
        legal_disclosure: officer,
        breach_notification: officer,
      };
      for (const key of flagged) {
        const session = sessionFor[key];
        if (!session) throw new Error(`no role for ${key}`);
        const read = await requestAs(app, session, key)('GET', `/api/v1/people/${person.subjectId}`);
        expect(read.statusCode, `${key}: ${read.body}`).toBe(200);
        expect(read.json()).toMatchObject({ familyName: `Beperkt-${seed}` });
      }
      for (const [key, session] of [
        ['age_verification', officer],
        [createdUnder, sales],
      ] as const) {
        const read = await requestAs(app, session, key)('GET', `/api/v1/people/${person.subjectId}`);
        expect(read.statusCode, `${key}: ${read.body}`).toBe(403);
        expect(read.json()).toMatchObject({ code: 'subject_restricted' });
      }
    });
  }
});

describe('a restricted customer may still contest an invoice: a legal claim (VX-14, attack S20-2, decision 0950)', () => {
  for (const { seed } of SEEDS) {
    it(`VX-14 (${seed}): billing records and settles a dispute on a restricted customer's invoice under the books' purpose (named in the statement), not under the billing purpose; nothing else is written for that customer under the books' purpose`, async () => {
      const tenant = tenants.get(seed);
      if (!tenant) throw new Error('no tenant');
      const catalogue = await prepareTenant(kernel, tenant);
      const customer = await createCustomer(kernel, tenant, { familyName: `Betwist-${seed}` });
      await startContract(kernel, tenant, customer, {
        startDate: '2026-01-01',
        lines: [{ productId: catalogue.subscription }],
      });
      await runInvoices(kernel, billingContext(tenant), { callsPurpose: 'call_billing', period: '2026-01' });
      const invoiceId = (
        await runAsOwner<{ invoice_id: number }>(
          database.ownerUrl,
          'select invoice_id from invoices where tenant_id = $1 and subject_id = $2',
          [tenant.tenantId, customer],
        )
      ).rows[0]?.invoice_id;
      expect(invoiceId).toBeDefined();

      const officer = await loginAs(app, kernel, tenant, 'privacy_officer');
      const billing = await loginAs(app, kernel, tenant, 'billing');
      const registered = await requestAs(app, officer)('POST', '/api/v1/requests', {
        kind: 'restriction',
        channel: 'letter',
        subjectId: customer,
        verificationMethod: 'id_card_seen',
      });
      expect(registered.statusCode, registered.body).toBe(201);
      const { requestId } = registered.json<{ requestId: string }>();
      // The customer has no e-mail address on file: the answer goes by post (decision 1250).
      expect(
        (
          await requestAs(app, officer)('POST', `/api/v1/requests/${requestId}/fulfil`, {
            letterPosted: true,
          })
        ).statusCode,
      ).toBe(200);

      const url = `/api/v1/invoices/${invoiceId}/dispute`;
      const reason = { reason: 'The customer contests the January subscription in a letter.' };
      const disputes = () =>
        runAsOwner<{ open: boolean }>(
          database.ownerUrl,
          'select closed_at is null as open from invoice_disputes where tenant_id = $1 and invoice_id = $2',
          [tenant.tenantId, invoiceId],
        );
      // The billing purpose stops for a restricted customer, disputes included.
      const underBilling = await requestAs(app, billing, billingPurpose(tenant))('POST', url, reason);
      expect(underBilling.statusCode, underBilling.body).toBe(403);
      expect(underBilling.json()).toMatchObject({ code: 'subject_restricted' });
      expect((await disputes()).rows).toEqual([]);

      // The books' purpose, which the statement names among what a restriction leaves, records it.
      const { policy } = await kernel.policies.current(tenant.tenantId);
      const books = policy.purposes.accounting;
      expect(books?.readWhileRestricted).toBe(true);
      const statement = await app.inject({
        method: 'GET',
        url: `/t/${tenant.slug}/privacy?lang=en&format=md`,
      });
      const restrictionLine = statement.body
        .split('\n')
        .find((line) => line.startsWith('- Right to restriction'));
      expect(restrictionLine).toContain(books?.label.en);
      const opened = await requestAs(app, billing, 'accounting')('POST', url, reason);
      expect(opened.statusCode, opened.body).toBe(201);
      expect(opened.json()).toMatchObject({ invoiceId, closedAt: null });
      expect((await disputes()).rows).toEqual([{ open: true }]);
      const audit = await runAsOwner<{ purpose: string; decision: string }>(
        database.ownerUrl,
        `select purpose, decision from audit_log where tenant_id = $1 and action = 'billing.invoice.dispute' order by seq desc limit 1`,
        [tenant.tenantId],
      );
      expect(audit.rows).toEqual([{ purpose: 'accounting', decision: 'allowed' }]);

      // Not widened: the books' purpose still changes nothing else of the restricted customer.
      const correction = await requestAs(app, billing, 'accounting')('PATCH', `/api/v1/people/${customer}`, {
        givenName: 'Anders',
      });
      expect(correction.statusCode, correction.body).toBe(403);

      const settled = await requestAs(app, billing, 'accounting')('DELETE', url);
      expect(settled.statusCode, settled.body).toBe(204);
      expect((await disputes()).rows).toEqual([{ open: false }]);
    });
  }
});
