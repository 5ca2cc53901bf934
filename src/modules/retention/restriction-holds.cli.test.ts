import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/cli.js';
import { runAsOwner } from '../../../test/database.js';
import { loginAs, requestAs } from '../../../test/http.js';
import { createPolicyTenant, fixedClock } from '../../../test/kernel.js';
import { prepareTenant, SYSTEM } from '../billing/billing.test-helpers.js';
import { createPerson } from '../parties/index.js';
import { longDate } from '../../platform/calendar.js';
import { addDays, addYears, belgianDay } from './dates.js';
import { CERTIFICATE_ACTION } from './index.js';
import {
  customerUnderContract,
  openSweepWorkspace,
  retentionPlanOf,
  type SweepWorkspace,
} from './retention.test-helpers.js';

// VX-14, Art. 18 (decision 1200): a restriction ("only store your data") keeps everything of the
// person from the retention sweep, past every period, until staff lift it; the lifting is told to
// the person first (Art. 18(3)) and takes effect the next day, after which the sweep judges them
// as usual. Data is written "in the past" on an injected clock; the CLI sweeps on the real day.

let sweep: SweepWorkspace;
const clock = fixedClock(new Date());
const today = belgianDay(new Date());

beforeAll(async () => {
  sweep = await openSweepWorkspace('kluis-restriction-holds-', clock);
});
afterAll(async () => sweep.close());

function on(day: string): void {
  clock.set(new Date(`${day}T10:00:00Z`));
}

/** The seeds' purpose for the customer file (kept until some years after the contract's end). */
const CUSTOMER_PURPOSE = { voiceking: 'order_processing', voxtra: 'customer_administration' } as const;

describe('a restriction keeps the person from the sweep until it is lifted (VX-14, decision 1200)', () => {
  for (const seed of ['voiceking', 'voxtra'] as const) {
    it(`VX-14, VK-14 (${seed}): a restricted customer past every period is kept by \`kluis retention run\` (the plan says held by the restriction) while another is erased; the privacy officer lifts it: bad input, a wrong role, another tenant's person or an unrestricted one are refused and change nothing, the person is mailed first, a second lift answers the same and mails nothing, and the sweep erases what is due once the lifting day has come`, async () => {
      const { database, kernel, env, app, smtp, count } = sweep;
      const tenant = await createPolicyTenant(kernel, seed);
      on(addYears(today, -9));
      const catalogue = await prepareTenant(kernel, tenant);
      // The contract ended five years ago: past the customer file's period in both seeds.
      const customer = (familyName: string): Promise<number> =>
        customerUnderContract(
          kernel,
          tenant,
          { familyName, purpose: CUSTOMER_PURPOSE[seed] },
          { productId: catalogue.subscription, startDate: addYears(today, -9), endDate: addYears(today, -5) },
        );
      const restricted = await customer('Beperkt');
      const other = await customer('Ander');
      clock.set(new Date());
      const officer = requestAs(app, await loginAs(app, kernel, tenant, 'privacy_officer'));
      const contractsOf = (subjectId: number): Promise<number> =>
        count('select count(*)::int as n from contracts where tenant_id = $1 and subject_id = $2', [
          tenant.tenantId,
          subjectId,
        ]);

      // The person asks for restriction (identity checked on a reply from the address on file).
      const registered = await officer('POST', '/api/v1/requests', {
        kind: 'restriction',
        channel: 'email',
        subjectId: restricted,
        verificationMethod: 'reply_from_address_on_file',
      });
      expect(registered.statusCode).toBe(201);
      const requestId = registered.json<{ requestId: string }>().requestId;
      const fulfilled = await officer('POST', `/api/v1/requests/${requestId}/fulfil`, {});
      expect(fulfilled.statusCode).toBe(200);
      expect(fulfilled.json()).toEqual({ outcome: { restricted: true } });
      await smtp.waitFor('beperkt@mail.example', 1);

      const [restrictedPseudonym, otherPseudonym] = await Promise.all(
        [restricted, other].map((id) => kernel.keys.pseudonym(tenant.tenantId, id)),
      );
      const plan = await retentionPlanOf(env, tenant);
      const entry = plan.people.find((person) => person.pseudonym === restrictedPseudonym);
      expect(entry).toMatchObject({ held: true });
      expect(entry?.categories.map((item) => item.category)).toContain('kluis.contract.product');
      expect(entry?.holds).toContainEqual({ kind: 'restriction', since: today });
      expect(plan.people.find((person) => person.pseudonym === otherPseudonym)).toMatchObject({
        held: false,
      });
      const text = await runCli(['retention', 'plan', '--tenant', tenant.slug], env);
      expect(text.stdout).toContain(`held: processing restricted since ${today}`);

      const kept = await runCli(['retention', 'run', '--tenant', tenant.slug], env);
      expect(kept.stderr).toBe('');
      expect(kept.code).toBe(0);
      expect(kept.stdout).toMatch(/, 1 held, /);
      expect(kept.stdout).toContain('kept for a restriction of processing (GDPR Art. 18): 1 people');
      expect(await contractsOf(restricted)).toBe(1);
      expect(await contractsOf(other)).toBe(0);

      // Refusals: each changes nothing and mails nothing (the request's letters have long arrived).
      const mailsBefore = smtp.to('beperkt@mail.example').length;
      expect(mailsBefore).toBeGreaterThanOrEqual(1);
      const liftOf = (subjectId: number) => `/api/v1/requests/restrictions/${subjectId}/lift`;
      const liftDay = (): Promise<number> =>
        count(
          'select count(*)::int as n from data_subjects where tenant_id = $1 and restriction_lift_on is not null',
          [tenant.tenantId],
        );
      const badGround = await officer('POST', liftOf(restricted), { ground: 'because' });
      expect(badGround.statusCode).toBe(400);
      const extraField = await officer('POST', liftOf(restricted), { ground: 'person_asked', at: today });
      expect(extraField.statusCode).toBe(400);
      const badId = await officer('POST', '/api/v1/requests/restrictions/abc/lift', {
        ground: 'person_asked',
      });
      expect(badId.statusCode).toBe(400);
      const sales = requestAs(app, await loginAs(app, kernel, tenant, 'sales'));
      const wrongRole = await sales('POST', liftOf(restricted), { ground: 'person_asked' });
      expect(wrongRole.statusCode).toBe(403);
      const otherTenant = await createPolicyTenant(kernel, seed);
      const stranger = (
        await createPerson(
          kernel,
          { tenantId: otherTenant.tenantId, actor: SYSTEM, purpose: CUSTOMER_PURPOSE[seed] },
          { subjectType: 'customer', familyName: 'Vreemd', givenName: 'An', email: 'vreemd@mail.example' },
        )
      ).subjectId;
      await runAsOwner(
        database.ownerUrl,
        'update data_subjects set restricted_at = now() where tenant_id = $1 and subject_id = $2',
        [otherTenant.tenantId, stranger],
      );
      const foreign = await officer('POST', liftOf(stranger), { ground: 'person_asked' });
      expect(foreign.statusCode).toBe(404);
      // The other customer was erased whole by the sweep.
      const gone = await officer('POST', liftOf(other), { ground: 'person_asked' });
      expect(gone.statusCode).toBe(410);
      const unrestrictedLive = await createPerson(
        kernel,
        { tenantId: tenant.tenantId, actor: SYSTEM, purpose: CUSTOMER_PURPOSE[seed] },
        { subjectType: 'customer', familyName: 'Vrij', givenName: 'Jo', email: 'vrij@mail.example' },
      );
      const conflict = await officer('POST', liftOf(unrestrictedLive.subjectId), { ground: 'person_asked' });
      expect(conflict.statusCode).toBe(409);
      expect(conflict.json()).toMatchObject({ details: { reason: 'not_restricted' } });
      expect(await liftDay()).toBe(0);
      expect(
        await count(
          'select count(*)::int as n from data_subjects where tenant_id = $1 and subject_id = $2 and restricted_at is not null',
          [otherTenant.tenantId, stranger],
        ),
      ).toBe(1);
      expect(smtp.to('beperkt@mail.example')).toHaveLength(mailsBefore);

      // The lift: the person is mailed that it ends tomorrow; twice answers the same.
      const tomorrow = addDays(today, 1);
      const lifted = await officer('POST', liftOf(restricted), { ground: 'accuracy_verified' });
      expect(lifted.statusCode, lifted.body).toBe(200);
      expect(lifted.json()).toEqual({ subjectId: restricted, restrictedSince: today, liftOn: tomorrow });
      const letter = await smtp.waitFor('beperkt@mail.example', mailsBefore + 1);
      // In the letter's words (Dutch, the tenant's first language): the day, not its ISO form.
      expect(letter.text).toContain(`vanaf ${longDate(tomorrow, 'nl')}`);
      const state = await officer('GET', `/api/v1/requests/restrictions/${restricted}`);
      expect(state.json()).toEqual({
        subjectId: restricted,
        restricted: true,
        restrictedSince: today,
        liftOn: tomorrow,
      });
      const again = await officer('POST', liftOf(restricted), { ground: 'person_asked' });
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual(lifted.json());
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(smtp.to('beperkt@mail.example')).toHaveLength(mailsBefore + 1);
      expect(
        await count(
          `select count(*)::int as n from audit_log where tenant_id = $1 and action = 'subject.restriction_lift'`,
          [tenant.tenantId],
        ),
      ).toBe(1);

      // Until the lifting day, still kept.
      const stillKept = await runCli(['retention', 'run', '--tenant', tenant.slug], env);
      expect(stillKept.stdout).toContain('kept for a restriction of processing (GDPR Art. 18): 1 people');
      expect(await contractsOf(restricted)).toBe(1);

      // The lifting day has come (a day passes): the sweep ends the restriction and erases what is due.
      await runAsOwner(
        database.ownerUrl,
        'update data_subjects set restriction_lift_on = $3::date where tenant_id = $1 and subject_id = $2',
        [tenant.tenantId, restricted, today],
      );
      const erased = await runCli(['retention', 'run', '--tenant', tenant.slug], env);
      expect(erased.stderr).toBe('');
      expect(erased.stdout).toMatch(/1 partly erased, 0 held/);
      expect(erased.stdout).not.toContain('kept for a restriction');
      expect(await contractsOf(restricted)).toBe(0);
      expect(
        await count(
          'select count(*)::int as n from data_subjects where tenant_id = $1 and subject_id = $2 and restricted_at is null and restriction_lift_on is null',
          [tenant.tenantId, restricted],
        ),
      ).toBe(1);
      const ended = await officer('GET', `/api/v1/requests/restrictions/${restricted}`);
      expect(ended.json()).toMatchObject({ restricted: false, liftOn: null });
      const certificates = await runAsOwner<{ pseudonym: string }>(
        database.ownerUrl,
        'select subject_pseudonyms[1] as pseudonym from audit_log where tenant_id = $1 and action = $2',
        [tenant.tenantId, CERTIFICATE_ACTION],
      );
      expect(certificates.rows.filter((row) => row.pseudonym === restrictedPseudonym)).toHaveLength(1);
      expect(
        await count(
          `select count(*)::int as n from audit_log where tenant_id = $1 and action = 'subject.unrestrict'`,
          [tenant.tenantId],
        ),
      ).toBe(1);
    }, 600_000);
  }
});
