import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/cli.js';
import { runAsOwner } from '../../../test/database.js';
import { loginAs, requestAs } from '../../../test/http.js';
import { createPolicyTenant, fixedClock } from '../../../test/kernel.js';
import { prepareTenant, SYSTEM, startContract } from '../billing/billing.test-helpers.js';
import { createPerson } from '../parties/index.js';
import { addYears, belgianDay } from './dates.js';
import { openSweepWorkspace, type SweepWorkspace } from './retention.test-helpers.js';

// VX-15 / VK-24 (decision 0915, promises review N6): an objection to a purpose on legitimate
// interests, filed and fulfilled over HTTP, ends that purpose's claim on the objection day; the
// next sweep (`kluis retention run`) erases what only that purpose kept, and keeps what another
// purpose (the running contract's customer file) still keeps.

let sweep: SweepWorkspace;
const clock = fixedClock(new Date());
const today = belgianDay(new Date());

beforeAll(async () => {
  sweep = await openSweepWorkspace('kluis-objection-sweep-', clock);
});
afterAll(async () => sweep.close());

describe('an objection, filed and fulfilled, takes the objected purpose’s data at the next sweep (VX-15, decision 0915)', () => {
  it('VX-15, VK-24 (voxtra): a customer objects to solvency monitoring over the rights request; the next day `kluis retention run` erases their credit score and keeps the person and their running contract', async () => {
    const { database, kernel, env, app, count } = sweep;
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    clock.set(new Date(`${addYears(today, -1)}T10:00:00Z`));
    const catalogue = await prepareTenant(kernel, tenant);
    const customer = (
      await createPerson(
        kernel,
        { tenantId: tenant.tenantId, actor: SYSTEM, purpose: 'customer_administration' },
        { subjectType: 'customer', familyName: 'Bezwaar', givenName: 'Ann', email: 'bezwaar@mail.example' },
      )
    ).subjectId;
    await startContract(kernel, tenant, customer, {
      startDate: addYears(today, -1),
      lines: [{ productId: catalogue.subscription }],
    });
    clock.set(new Date());
    const billing = await loginAs(app, kernel, tenant, 'billing');
    const recorded = await requestAs(app, billing, 'solvency')(
      'POST',
      `/api/v1/customers/${customer}/credit-scores`,
      { score: 640, source: 'graydon', observedOn: addYears(today, -1) },
    );
    expect(recorded.statusCode, recorded.body).toBe(201);
    const officer = requestAs(app, await loginAs(app, kernel, tenant, 'privacy_officer'));
    const registered = await officer('POST', '/api/v1/requests', {
      kind: 'objection',
      channel: 'email',
      subjectId: customer,
      verificationMethod: 'reply_from_address_on_file',
      purposes: ['solvency'],
    });
    expect(registered.statusCode, registered.body).toBe(201);
    const { requestId } = registered.json<{ requestId: string }>();
    const fulfilled = await officer('POST', `/api/v1/requests/${requestId}/fulfil`, {});
    expect(fulfilled.statusCode, fulfilled.body).toBe(200);
    expect(fulfilled.json()).toMatchObject({ outcome: { purposes: ['solvency'] } });
    const scores = (): Promise<number> =>
      count('select count(*)::int as n from credit_scores where tenant_id = $1 and subject_id = $2', [
        tenant.tenantId,
        customer,
      ]);
    expect(await scores()).toBe(1);

    // The next day: the objection was made yesterday.
    await runAsOwner(
      database.ownerUrl,
      `update subject_purpose_states set changed_at = changed_at - interval '1 day'
        where tenant_id = $1 and subject_id = $2 and purpose = 'solvency'`,
      [tenant.tenantId, customer],
    );
    const run = await runCli(['retention', 'run', '--tenant', tenant.slug], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/0 people erased, 1 partly erased/);
    expect(await scores()).toBe(0);
    expect(
      await count('select count(*)::int as n from contracts where tenant_id = $1 and subject_id = $2', [
        tenant.tenantId,
        customer,
      ]),
    ).toBe(1);
    expect(
      await count(
        'select count(*)::int as n from data_subjects where tenant_id = $1 and subject_id = $2 and erased_at is null',
        [tenant.tenantId, customer],
      ),
    ).toBe(1);
  }, 600_000);
});
