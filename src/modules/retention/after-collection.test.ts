import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner } from '../../../test/database.js';
import { fixedClock } from '../../../test/kernel.js';
import { signInByMailedLink, startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import type { Tenant } from '../tenants/index.js';
import { DATA_MAP } from '../data-map.js';
import { createPerson } from '../parties/index.js';
import { planRetention, runRetentionSweep } from './index.js';

// Review finding M7 (decision 0916): "12 months after we received it" (VoiceKing's job
// applications, Voxtra's quotes) counts from when the data was received. A privacy-portal login
// is contact, not data received: it moves the inactivity clock, not this one.

const clock = fixedClock(new Date('2024-02-01T10:00:00Z'));
let testApp: MailingTestApp;

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: 'https://privacy.example', clock });
});
afterAll(async () => {
  await testApp?.close();
});

function on(day: string): void {
  clock.set(new Date(`${day}T10:00:00Z`));
}

async function clocksOf(tenant: Tenant, subjectId: number) {
  const rows = await runAsOwner<{ activity: string; received: string; erased: boolean }>(
    testApp.database.ownerUrl,
    `select to_char(last_activity_at, 'YYYY-MM-DD') as activity, to_char(last_received_at, 'YYYY-MM-DD') as received,
            erased_at is not null as erased
       from data_subjects where tenant_id = $1 and subject_id = $2`,
    [tenant.tenantId, subjectId],
  );
  return rows.rows[0];
}

/** The sweep on a day; what that day's dry run said about the person. */
async function sweepOn(tenant: Tenant, day: string, subjectId: number) {
  on(day);
  const { kernel } = testApp;
  const pseudonym = await kernel.keys.pseudonym(tenant.tenantId, subjectId);
  const plan = await planRetention(kernel, DATA_MAP, tenant.tenantId);
  await runRetentionSweep(kernel, DATA_MAP, tenant.tenantId);
  return plan.people.find((entry) => entry.pseudonym === pseudonym);
}

describe('"12 months after we received it" counts from the receipt, not from a portal login', () => {
  it.each([['VX-3', 'voxtra', 'prospect', 'quotes', 'quote_12m', 'sales']] as const)(
    '%s: a %s %s who signs in to the privacy portal in the eleventh month is still erased the day after 12 months from the receipt (%s rule %s)',
    async (_id, tenantKey, subjectType, purpose, rule, role) => {
      const tenant = testApp[tenantKey];
      on('2024-02-01');
      const email = `${subjectType}.${tenantKey}@mail.example`;
      const person = await createPerson(
        testApp.kernel,
        { tenantId: tenant.tenantId, actor: { kind: 'staff', staffId: 1, role }, purpose },
        { subjectType, familyName: 'Ontvangen', givenName: 'Noor', email },
      );
      on('2025-01-10');
      await signInByMailedLink(testApp, tenant, email);
      expect(await clocksOf(tenant, person.subjectId)).toEqual({
        activity: '2025-01-10',
        received: '2024-02-01',
        erased: false,
      });
      expect(await sweepOn(tenant, '2025-02-01', person.subjectId)).toBeUndefined();
      expect(await sweepOn(tenant, '2025-02-02', person.subjectId)).toMatchObject({
        scope: 'person',
        categories: expect.arrayContaining([
          { category: 'user.name', rule, purpose, dueOn: '2025-02-02' },
        ]) as unknown,
      });
      expect(await clocksOf(tenant, person.subjectId)).toMatchObject({ erased: true });
    },
    600_000,
  );
});
