import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../test/kernel.js';
import { isValidEnterpriseNumber } from '../kernel/identifiers/enterprise-number.js';
import { normalisePhoneNumber } from '../kernel/identifiers/phone.js';
import type { Kernel } from '../kernel/kernel.js';
import { getPerson } from '../modules/parties/index.js';
import { createRandom, generateEnterpriseNumber, seedDemoData } from './demo-data.js';

let database: TestDatabase;
let kernel: Kernel;
beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
});
afterAll(async () => database.close());

describe('demo data', () => {
  it('generates valid Belgian enterprise numbers', () => {
    const random = createRandom(7);
    for (let i = 0; i < 200; i += 1)
      expect(isValidEnterpriseNumber(generateEnterpriseNumber(random))).toBe(true);
  });

  // Part of VX-2, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).

  it('fills a Voxtra tenant in bulk, through the gate, with only what Voxtra’s policy declares', async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const result = await seedDemoData(kernel, tenant, 'voxtra', {
      people: 600,
      organisations: 20,
      seed: 3,
      contracts: 25,
    });
    expect(result.people).toBe(600);
    expect(result.contracts).toBe(25);
    const contracts = await runAsOwner<{ state: string; n: number }>(
      database.ownerUrl,
      `select case when terminated_on is not null then 'terminated' when start_date > current_date then 'upcoming'
                   when end_date is not null and end_date < current_date then 'ended' else 'running' end as state, count(*)::int as n
         from contracts where tenant_id = $1 group by 1 order by 1`,
      [tenant.tenantId],
    );
    expect(contracts.rows.map((row) => row.state)).toEqual(['ended', 'running', 'terminated', 'upcoming']);
    const events = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      "select count(*)::int as n from domain_events where tenant_id = $1 and type = 'contract.terminated'",
      [tenant.tenantId],
    );
    expect(events.rows[0]?.n).toBe(5);
    const counts = await runAsOwner<{ subject_type: string; n: number; with_gender: number }>(
      database.ownerUrl,
      `select s.subject_type, count(*)::int as n, count(p.gender)::int as with_gender
         from people p join data_subjects s using (tenant_id, subject_id) where p.tenant_id = $1 group by 1 order by 1`,
      [tenant.tenantId],
    );
    expect(counts.rows.map((row) => row.subject_type)).toEqual(['contact_person', 'customer', 'prospect']);
    expect(counts.rows.every((row) => row.with_gender === 0)).toBe(true);
    const sample = await runAsOwner<{ subject_id: number }>(
      database.ownerUrl,
      "select p.subject_id from people p join data_subjects s using (tenant_id, subject_id) where p.tenant_id = $1 and s.subject_type = 'customer' limit 5",
      [tenant.tenantId],
    );
    for (const { subject_id: subjectId } of sample.rows) {
      const person = await getPerson(
        kernel,
        {
          tenantId: tenant.tenantId,
          actor: { kind: 'staff', staffId: 1, role: 'billing' },
          purpose: 'customer_administration',
        },
        subjectId,
      );
      expect(normalisePhoneNumber(person.phone ?? '', { defaultCountry: 'BE' })).toMatchObject({ ok: true });
      expect(person.email).toMatch(/@mail\.example$/);
      expect(person.address?.country).toBe('BE');
    }
    const audit = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      "select count(*)::int as n from audit_log where tenant_id = $1 and action = 'write' and 'user.name' = any(categories)",
      [tenant.tenantId],
    );
    expect(audit.rows[0]?.n).toBeLessThan(10); // one gate decision per batch, not per person
  });

  it('the same seed gives the same people', async () => {
    const a = await createPolicyTenant(kernel, 'voiceking');
    const b = await createPolicyTenant(kernel, 'voiceking');
    await seedDemoData(kernel, a, 'voiceking', { people: 50, organisations: 3, seed: 42 });
    await seedDemoData(kernel, b, 'voiceking', { people: 50, organisations: 3, seed: 42 });
    const names = async (tenantId: number) =>
      (
        await runAsOwner<{ n: string }>(
          database.ownerUrl,
          "select family_name || ' ' || given_name as n from people where tenant_id = $1 order by subject_id",
          [tenantId],
        )
      ).rows.map((row) => row.n);
    expect(await names(a.tenantId)).toEqual(await names(b.tenantId));
  });
});
