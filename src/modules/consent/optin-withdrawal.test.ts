/**
 * Attack findings S21-1…S21-5 (decisions 0990, 0991, 0915): a withdrawal ends a pending double
 * opt-in, a used link tells the truth, repeated asks send one mail and a corrected address voids
 * the old link, an objection to the technical dossier in the portal or by staff erases it at once,
 * and a subscriber of the public form reaches their rights by e-mail. HTTP in; the SMTP sink, the
 * database and the audit log out.
 */
import type { FastifyInstance } from 'fastify';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner, type TestDatabase } from '../../../test/database.js';
import { loginAs, type StaffSession } from '../../../test/http.js';
import { fixedClock } from '../../../test/kernel.js';
import { signInByMailedLink, startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import type { Kernel } from '../../kernel/kernel.js';
import { prepareTenant } from '../billing/billing.test-helpers.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';

const PUBLIC = 'https://news.example';
const clock = fixedClock(new Date('2026-11-29T09:00:00Z'));

let testApp: MailingTestApp;
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voiceking: Tenant;
let voxtra: Tenant;
let sales: StaffSession;

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: PUBLIC, clock });
  ({ database, kernel, app, voiceking, voxtra } = testApp);
  sales = await loginAs(app, kernel, voiceking, 'sales');
}, 120_000);
afterAll(async () => {
  await testApp.close();
});

let serial = 0;
async function prospect(tenant: Tenant): Promise<{ id: number; email: string }> {
  serial += 1;
  const email = `optin${serial}@mail.example`;
  const created = await createPerson(
    kernel,
    { tenantId: tenant.tenantId, actor: { kind: 'system', job: 'test' }, purpose: 'answering_questions' },
    { subjectType: 'prospect', familyName: `Optin${serial}`, givenName: 'Roos', email },
  );
  return { id: created.subjectId, email };
}

const staff = (session: StaffSession, purpose: string) => ({
  cookie: session.cookie,
  'x-csrf-token': session.csrfToken,
  'x-kluis-purpose': purpose,
});

const WORDING = { language: 'nl', text: 'Mogen wij u de nieuwsbrief sturen?' };
const given = (subjectId: number, email: string) =>
  app.inject({
    method: 'POST',
    url: `/api/v1/people/${subjectId}/consents`,
    headers: staff(sales, 'newsletter_opt_in'),
    payload: { event: 'given', wording: WORDING, statement: 'Ja', email },
  });

const confirmLinkOf = (mail: ParsedMail): string =>
  (/https:\/\/news\.example(\/\S+\/newsletter\/confirm\/\S+)/.exec(mail.text ?? '')?.[1] ?? '') + '?lang=nl';
const confirm = (path: string) =>
  app.inject({
    method: 'POST',
    url: path,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'confirm=1',
  });

const ledgerOf = async (tenant: Tenant, subjectId: number): Promise<string[]> =>
  (
    await runAsOwner<{ event: string; channel: string }>(
      database.ownerUrl,
      `select event, channel from consent_records
        where tenant_id = $1 and subject_id = $2 and purpose = 'newsletter_opt_in' order by record_id`,
      [tenant.tenantId, subjectId],
    )
  ).rows.map((row) => `${row.event}/${row.channel}`);

const stateOf = async (tenant: Tenant, subjectId: number, purpose: string): Promise<string | undefined> =>
  (
    await runAsOwner<{ state: string }>(
      database.ownerUrl,
      'select state from subject_purpose_states where tenant_id = $1 and subject_id = $2 and purpose = $3',
      [tenant.tenantId, subjectId, purpose],
    )
  ).rows[0]?.state;

const signupRows = async (tenant: Tenant, subjectId: number): Promise<number> =>
  (
    await runAsOwner<{ n: number }>(
      database.ownerUrl,
      `select count(*)::int as n from newsletter_signups
        where tenant_id = $1 and subject_id = $2 and confirmed_at is null and expires_at > $3`,
      [tenant.tenantId, subjectId, clock.now()],
    )
  ).rows[0]?.n ?? -1;

describe('double opt-in after a withdrawal, a repeat or a correction (attack S21-1, S21-2, S21-4)', () => {
  it('VK-17, VK-24: a withdrawal by phone before the confirmation ends the pending sign-up: the earlier link confirms nothing and says so in Dutch; the ledger stays signed_up → withdrawn', async () => {
    const person = await prospect(voiceking);
    const asked = await given(person.id, person.email);
    expect(asked.statusCode, asked.body).toBe(202);
    const mail = await testApp.smtp.waitFor(person.email);
    const withdrawn = await app.inject({
      method: 'POST',
      url: `/api/v1/people/${person.id}/consents`,
      headers: staff(sales, 'newsletter_opt_in'),
      payload: { event: 'withdrawn' },
    });
    expect(withdrawn.statusCode, withdrawn.body).toBe(201);
    expect(await signupRows(voiceking, person.id)).toBe(0);
    const late = await confirm(confirmLinkOf(mail));
    expect(late.statusCode).toBe(404);
    expect(late.body).toContain('Onbekende of verlopen link');
    expect(late.body).not.toContain('Inschrijving bevestigd');
    expect(await ledgerOf(voiceking, person.id)).toEqual(['signed_up/staff_phone', 'withdrawn/staff_phone']);
    expect(await stateOf(voiceking, person.id, 'newsletter_opt_in')).toBe('withdrawn');
  });

  it('VK-17, VK-18: a used confirmation link opened again after the person withdrew says it was used and the person unsubscribed since (410), and records nothing', async () => {
    const person = await prospect(voiceking);
    expect((await given(person.id, person.email)).statusCode).toBe(202);
    const link = confirmLinkOf(await testApp.smtp.waitFor(person.email));
    const first = await confirm(link);
    expect(first.statusCode).toBe(200);
    expect(first.body).toContain('Inschrijving bevestigd');
    // Still consented: a second click says confirmed again, truthfully.
    expect((await confirm(link)).statusCode).toBe(200);
    // The person withdraws (the unsubscribe link records the same `withdrawn` through the ledger).
    const withdrawn = await app.inject({
      method: 'POST',
      url: `/api/v1/people/${person.id}/consents`,
      headers: staff(sales, 'newsletter_opt_in'),
      payload: { event: 'withdrawn' },
    });
    expect(withdrawn.statusCode).toBe(201);
    const again = await confirm(link);
    expect(again.statusCode).toBe(410);
    expect(again.body).toContain('Link al gebruikt');
    expect(again.body).toContain('schrijf u dan opnieuw in');
    expect(again.body).not.toContain('Inschrijving bevestigd');
    expect(await ledgerOf(voiceking, person.id)).toEqual([
      'signed_up/staff_phone',
      'given/double_opt_in',
      'withdrawn/staff_phone',
    ]);
  });

  it('VK-17: five staff "given" at once send one confirmation mail; a corrected address supersedes, and the link mailed to the mistyped address confirms nothing', async () => {
    const person = await prospect(voiceking);
    const typo = `mistyped${person.id}@typo.example`;
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => given(person.id, typo)));
    expect(answers.map((answer) => answer.statusCode)).toEqual([202, 202, 202, 202, 202]);
    const recordIds = new Set(answers.map((answer) => answer.json<{ recordId: number }>().recordId));
    expect(recordIds.size).toBe(1);
    const typoMail = await testApp.smtp.waitFor(typo);
    // A sixth, a moment later: the same ask, still no second mail.
    expect((await given(person.id, typo)).statusCode).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(testApp.smtp.to(typo)).toHaveLength(1);
    expect(await signupRows(voiceking, person.id)).toBe(1);

    // The person spells the address again: a new ask, mailed there; the old link is dead.
    const corrected = await given(person.id, person.email);
    expect(corrected.statusCode).toBe(202);
    expect(corrected.json<{ recordId: number }>().recordId).not.toBe([...recordIds][0]);
    const goodMail = await testApp.smtp.waitFor(person.email);
    expect(await signupRows(voiceking, person.id)).toBe(1);
    const stranger = await confirm(confirmLinkOf(typoMail));
    expect(stranger.statusCode).toBe(404);
    expect(await stateOf(voiceking, person.id, 'newsletter_opt_in')).toBe('pending');
    expect((await confirm(confirmLinkOf(goodMail))).statusCode).toBe(200);
    expect(await ledgerOf(voiceking, person.id)).toEqual([
      'signed_up/staff_phone',
      'signed_up/staff_phone',
      'given/double_opt_in',
    ]);
  });

  it('VK-17, VK-24: asking twice in the privacy portal sends one confirmation mail and answers the same pending record', async () => {
    const person = await prospect(voiceking);
    const session = await signInByMailedLink(testApp, voiceking, person.email);
    const ask = () =>
      app.inject({
        method: 'POST',
        url: `/t/${voiceking.slug}/account/consents`,
        headers: { cookie: session.cookie, 'x-csrf-token': session.csrf },
        payload: { purpose: 'newsletter_opt_in', event: 'given', language: 'nl' },
      });
    const first = await ask();
    const second = await ask();
    expect([first.statusCode, second.statusCode], second.body).toEqual([202, 202]);
    expect(second.json<{ recordId: number }>().recordId).toBe(first.json<{ recordId: number }>().recordId);
    await testApp.smtp.waitFor(person.email, 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(testApp.smtp.to(person.email)).toHaveLength(2); // the login link and one confirmation
    expect(await signupRows(voiceking, person.id)).toBe(1);
  });
});

describe('a subscriber of the public form uses their rights by e-mail (attack S21-5)', () => {
  it('VK-21, VK-26: a confirmed public sign-up gets the access request code, the erasure request code and the portal login link at the sign-up address; the request is matched to the subscriber', async () => {
    const email = 'subscriber.s21@mail.example';
    const signup = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/newsletter/signup`,
      payload: { email, language: 'nl' },
    });
    expect(signup.statusCode).toBe(202);
    expect((await confirm(confirmLinkOf(await testApp.smtp.waitFor(email)))).statusCode).toBe(200);
    const [subject] = (
      await runAsOwner<{ subject_id: number }>(
        database.ownerUrl,
        `select subject_id from newsletter_signups where tenant_id = $1 and confirmed_at is not null
          order by signup_id desc limit 1`,
        [voiceking.tenantId],
      )
    ).rows;

    for (const kind of ['access', 'erasure']) {
      const before = testApp.smtp.to(email).length;
      const asked = await app.inject({
        method: 'POST',
        url: `/t/${voiceking.slug}/privacy/requests`,
        payload: { kind, email, language: 'nl' },
      });
      expect(asked.statusCode, asked.body).toBe(202);
      const code = await testApp.smtp.waitFor(email, before + 1);
      expect(code.text).toMatch(/\b\d{6}\b/);
      const { requestId } = asked.json<{ requestId: string }>();
      const [row] = (
        await runAsOwner<{ subject_id: number | null }>(
          database.ownerUrl,
          'select subject_id from rights_requests where tenant_id = $1 and request_id = $2',
          [voiceking.tenantId, requestId],
        )
      ).rows;
      expect(row?.subject_id).toBe(subject?.subject_id);
    }
    // The portal: the login link reaches the subscriber, who sees their newsletter consent.
    const session = await signInByMailedLink(testApp, voiceking, email, testApp.smtp.to(email).length + 1);
    const consents = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/account/consents`,
      headers: { cookie: session.cookie },
    });
    expect(consents.statusCode, consents.body).toBe(200);
    expect(consents.body).toContain('newsletter_opt_in');

    // A person on record with the same address comes first: still one match, theirs.
    const onRecord = await prospect(voiceking);
    const before = testApp.smtp.to(onRecord.email).length;
    await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/privacy/requests`,
      payload: { kind: 'access', email: onRecord.email, language: 'nl' },
    });
    await testApp.smtp.waitFor(onRecord.email, before + 1);
  });
});

describe('an objection to the technical dossier in the portal or by phone erases it at once (attack S21-3)', () => {
  it('VX-4, VX-15: the customer objects in the privacy portal (form post) and by phone to staff: the dossier and its passwords are erased in the same transaction, with the dossier.erase certificate', async () => {
    await prepareTenant(kernel, voxtra);
    const technician = await loginAs(app, kernel, voxtra, 'technician');
    const customer = async (name: string): Promise<{ id: number; email: string }> => {
      const email = `${name.toLowerCase()}@voxtra-klant.example`;
      const created = await createPerson(
        kernel,
        {
          tenantId: voxtra.tenantId,
          actor: { kind: 'system', job: 'test' },
          purpose: 'customer_administration',
        },
        { subjectType: 'customer', familyName: name, givenName: 'Hugo', email },
      );
      return { id: created.subjectId, email };
    };
    const fillDossier = async (subjectId: number): Promise<void> => {
      const credential = await app.inject({
        method: 'POST',
        url: `/api/v1/customers/${subjectId}/dossier/credentials`,
        headers: staff(technician, 'technical_dossier'),
        payload: { system: 'NAS admin', username: 'admin', password: 'S21-SuperSecret-NAS-pw' },
      });
      expect(credential.statusCode, credential.body).toBe(201);
      const asset = await app.inject({
        method: 'POST',
        url: `/api/v1/customers/${subjectId}/dossier/assets`,
        headers: staff(technician, 'technical_dossier'),
        payload: { kind: 'router', brand: 'Draytek', hostname: 'gw-s21.hugo.example' },
      });
      expect(asset.statusCode, asset.body).toBe(201);
    };
    const dossierCount = async (subjectId: number): Promise<number> =>
      (
        await runAsOwner<{ n: number }>(
          database.ownerUrl,
          `select (select count(*) from dossier_credentials where tenant_id = $1 and subject_id = $2)
                + (select count(*) from dossier_assets where tenant_id = $1 and subject_id = $2) as n`,
          [voxtra.tenantId, subjectId],
        )
      ).rows.map((row) => Number(row.n))[0] ?? -1;
    // The audit log names subjects by pseudonym only: the certificates written since a point.
    const auditHead = async (): Promise<number> =>
      (
        await runAsOwner<{ seq: number }>(
          database.ownerUrl,
          'select coalesce(max(seq), 0)::int as seq from audit_log where tenant_id = $1',
          [voxtra.tenantId],
        )
      ).rows[0]?.seq ?? 0;
    const certificatesSince = async (seq: number): Promise<string[]> =>
      (
        await runAsOwner<{ reason: string }>(
          database.ownerUrl,
          `select reason from audit_log where tenant_id = $1 and action = 'dossier.erase' and seq > $2`,
          [voxtra.tenantId, seq],
        )
      ).rows.map((row) => row.reason);

    // In the portal, with the form the page shows.
    const inPortal = await customer('Portaalbezwaar');
    await fillDossier(inPortal.id);
    expect(await dossierCount(inPortal.id)).toBe(2);
    const session = await signInByMailedLink(testApp, voxtra, inPortal.email);
    const beforePortal = await auditHead();
    const form = await app.inject({
      method: 'POST',
      url: `/t/${voxtra.slug}/account/my-consents?lang=nl`,
      headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        csrf: session.csrf,
        purpose: 'technical_dossier',
        event: 'objected',
      }).toString(),
    });
    expect(form.statusCode, form.body).toBe(303);
    expect(await stateOf(voxtra, inPortal.id, 'technical_dossier')).toBe('objected');
    expect(await dossierCount(inPortal.id)).toBe(0);
    const portalCertificates = await certificatesSince(beforePortal);
    expect(portalCertificates).toHaveLength(1);
    expect(portalCertificates[0]).toContain(
      'technical dossier erased on objection; removed 1 assets, 1 credentials',
    );

    // By phone, recorded by staff.
    const byPhone = await customer('Telefoonbezwaar');
    await fillDossier(byPhone.id);
    const beforePhone = await auditHead();
    const objected = await app.inject({
      method: 'POST',
      url: `/api/v1/people/${byPhone.id}/consents`,
      headers: staff(technician, 'technical_dossier'),
      payload: { event: 'objected' },
    });
    expect(objected.statusCode, objected.body).toBe(201);
    expect(await dossierCount(byPhone.id)).toBe(0);
    expect(await certificatesSince(beforePhone)).toHaveLength(1);
    const read = await app.inject({
      method: 'GET',
      url: `/api/v1/customers/${byPhone.id}/dossier`,
      headers: staff(technician, 'technical_dossier'),
    });
    expect(read.statusCode).toBe(403);
  });
});
