import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { chainPendingAudit, createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import {
  createPerson,
  findPeopleByContact,
  getPerson,
  type UseCaseContext,
} from '../../modules/parties/index.js';
import type { Tenant } from '../../modules/tenants/index.js';
import type { Kernel } from '../kernel.js';
import {
  registerSubject,
  setMarketingObjection,
  setPurposeState,
  setRestriction,
} from '../subjects/index.js';
import path from 'node:path';
import { ROOT } from '../../../test/cli.js';
import { loadPolicyFile } from '../policy/policy.loader.js';
import { authorizeBatch, authorizeBatches } from './access.js';
import { decide, type Actor } from './gate.js';

let database: TestDatabase;
let kernel: Kernel;
let voiceking: Tenant;
let voxtra: Tenant;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  voxtra = await createPolicyTenant(kernel, 'voxtra');
});
afterAll(async () => database.close());

const staff = (role: string, staffId = 1): Actor => ({ kind: 'staff', staffId, role });
const as = (tenant: Tenant, actor: Actor, purpose: string): UseCaseContext => ({
  tenantId: tenant.tenantId,
  actor,
  purpose,
});

async function newCustomer(
  tenant: Tenant,
  purpose: string,
  email = `c${Math.random().toString(36).slice(2)}@example.be`,
) {
  return createPerson(kernel, as(tenant, staff('sales'), purpose), {
    subjectType: 'customer',
    familyName: 'Peeters',
    givenName: 'An',
    // Voxtra's statement does not name gender or language, so its policy does not allow them.
    ...(tenant === voiceking ? { gender: 'female' as const, preferredLanguage: 'nl' as const } : {}),
    email,
    phone: '0470 12 34 56',
  });
}

/** The tenant's entries in chain order, pending ones chained first (decision 0480). */
async function auditRows(tenant: Tenant) {
  await chainPendingAudit(kernel, tenant.tenantId);
  const result = await runAsOwner<{
    action: string;
    purpose: string;
    decision: string;
    reason: string | null;
    role: string;
    records: number;
    n: number;
  }>(
    database.ownerUrl,
    'select action, purpose, decision, reason, role, records, cardinality(subject_pseudonyms) as n from audit_log where tenant_id = $1 order by seq',
    [tenant.tenantId],
  );
  return result.rows;
}

// Parts of VK-4, VX-2 and VK-7 (their end-to-end tests go in over HTTP).
describe('access gate: role × purpose × category', () => {
  // Part of VK-7, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('a role the policy lists for the purpose may act; every access is audited', async () => {
    const person = await newCustomer(voiceking, 'order_processing');
    const read = await getPerson(
      kernel,
      as(voiceking, staff('billing'), 'order_processing'),
      person.subjectId,
    );
    expect(read).toMatchObject({ familyName: 'Peeters', email: person.email, phone: '+32470123456' });
    const rows = await auditRows(voiceking);
    expect(rows.at(-1)).toMatchObject({
      action: 'read',
      purpose: 'order_processing',
      decision: 'allowed',
      role: 'billing',
      n: 1,
    });
  });

  // Part of VK-7, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('a role without the purpose is refused with role_not_allowed, and the refusal is audited', async () => {
    const person = await newCustomer(voiceking, 'order_processing');
    await expect(
      getPerson(kernel, as(voiceking, staff('technician'), 'order_processing'), person.subjectId),
    ).rejects.toMatchObject({
      code: 'role_not_allowed',
    });
    const rows = await auditRows(voiceking);
    expect(rows.at(-1)).toMatchObject({
      decision: 'denied',
      reason: 'role_not_allowed',
      role: 'technician',
      purpose: 'order_processing',
    });
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'])(
    'a purpose named like an Object.prototype member (%s) is an undeclared purpose, not a crash',
    async (purpose) => {
      const policy = await loadPolicyFile(path.join(ROOT, 'policies', 'voiceking.yaml'));
      const request = { purpose, action: 'read' as const, categories: ['user.name'], subjectIds: [] };
      expect(decide(policy, staff('admin'), request, [], '2026-11-29')).toMatchObject({
        code: 'purpose_not_allowed',
      });
    },
  );

  // Part of VK-4, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('a purpose the policy does not declare is refused', async () => {
    const person = await newCustomer(voiceking, 'order_processing');
    await expect(
      getPerson(kernel, as(voiceking, staff('admin'), 'selling_lists'), person.subjectId),
    ).rejects.toMatchObject({
      code: 'purpose_not_allowed',
    });
  });

  // Part of VK-7, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('need to know — a technician under installation support sees contact data but not gender', async () => {
    const person = await newCustomer(voiceking, 'order_processing');
    const seen = await getPerson(
      kernel,
      as(voiceking, staff('technician'), 'installation_support'),
      person.subjectId,
    );
    expect(seen.email).toBe(person.email);
    expect(seen).not.toHaveProperty('gender');
  });

  // Part of VX-2, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('data the policy does not declare for the purpose is refused on write (gender at Voxtra)', async () => {
    const attempt = createPerson(kernel, as(voxtra, staff('sales'), 'customer_administration'), {
      subjectType: 'customer',
      familyName: 'Claes',
      givenName: 'Els',
      gender: 'female',
    });
    await expect(attempt).rejects.toMatchObject({ code: 'category_not_allowed' });
    const rows = await runAsOwner(
      database.ownerUrl,
      "select 1 from people where tenant_id = $1 and family_name = 'Claes'",
      [voxtra.tenantId],
    );
    expect(rows.rowCount).toBe(0);
  });

  // Part of VK-4, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('a category outside the purpose is refused (bank account under answering questions)', async () => {
    const person = await newCustomer(voiceking, 'order_processing');
    const attempt = kernel.transact(voiceking.tenantId, (atx) =>
      kernel.gate.authorize(atx, staff('support'), {
        purpose: 'answering_questions',
        action: 'read',
        categories: ['user.financial.bank_account'],
        subjectIds: [person.subjectId],
      }),
    );
    await expect(attempt).rejects.toMatchObject({ code: 'category_not_allowed' });
  });

  // Part of VX-4, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('in Voxtra only the technician may touch the technical dossier; sales is refused', async () => {
    const person = await newCustomer(voxtra, 'customer_administration');
    const request = {
      purpose: 'technical_dossier',
      action: 'read' as const,
      categories: ['kluis.dossier.credential'],
      subjectIds: [person.subjectId],
    };
    const grant = await kernel.transact(voxtra.tenantId, (atx) =>
      kernel.gate.authorize(atx, staff('technician'), request),
    );
    expect(grant.categories.has('kluis.dossier.credential')).toBe(true);
    await expect(
      kernel.transact(voxtra.tenantId, (atx) => kernel.gate.authorize(atx, staff('sales'), request)),
    ).rejects.toMatchObject({
      code: 'role_not_allowed',
    });
  });

  it('a staff member of tenant A cannot read tenant B’s person by id or by search', async () => {
    const person = await newCustomer(voxtra, 'customer_administration', 'only-in-voxtra@example.be');
    await expect(
      getPerson(kernel, as(voiceking, staff('billing'), 'order_processing'), person.subjectId),
    ).rejects.toMatchObject({
      code: 'not_found',
    });
    const found = await findPeopleByContact(kernel, as(voiceking, staff('billing'), 'order_processing'), {
      email: 'only-in-voxtra@example.be',
    });
    expect(found).toEqual([]);
  });
});

describe('access gate: erasure and export of a whole person', () => {
  // Part of VK-23, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('only a rights purpose may erase or export a whole person; sales under order processing may not', async () => {
    const person = await newCustomer(voiceking, 'order_processing');
    for (const action of ['erase', 'export'] as const) {
      const attempt = kernel.transact(voiceking.tenantId, (atx) =>
        kernel.gate.authorize(atx, staff('sales'), {
          purpose: 'order_processing',
          action,
          categories: ['user.name'],
          subjectIds: [person.subjectId],
        }),
      );
      await expect(attempt).rejects.toMatchObject({ code: 'purpose_not_allowed' });
    }
    const officer = await kernel.transact(voiceking.tenantId, (atx) =>
      kernel.gate.authorize(atx, staff('privacy_officer'), {
        purpose: 'rights_requests',
        action: 'export',
        categories: ['user.name', 'user.demographic.gender', 'user.contact.phone_number'],
        subjectIds: [person.subjectId],
      }),
    );
    expect(officer.categories.has('user.demographic.gender')).toBe(true);
  });
});

describe('access gate: the subject’s state', () => {
  // Part of VX-14, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('a restricted subject is refused for ordinary purposes, allowed for storage and legal obligations', async () => {
    const person = await newCustomer(voiceking, 'order_processing');
    await kernel.transact(voiceking.tenantId, (atx) =>
      setRestriction(atx, person.subjectId, true, new Date()),
    );
    await expect(
      getPerson(kernel, as(voiceking, staff('billing'), 'order_processing'), person.subjectId),
    ).rejects.toMatchObject({
      code: 'subject_restricted',
    });
    const accounting = await getPerson(
      kernel,
      as(voiceking, staff('billing'), 'accounting'),
      person.subjectId,
    );
    expect(accounting.familyName).toBe('Peeters');
    const store = await kernel.transact(voiceking.tenantId, (atx) =>
      kernel.gate.authorize(atx, staff('billing'), {
        purpose: 'order_processing',
        action: 'store',
        categories: ['user.name'],
        subjectIds: [person.subjectId],
      }),
    );
    expect(store.action).toBe('store');
    await kernel.transact(voiceking.tenantId, (atx) =>
      setRestriction(atx, person.subjectId, false, new Date()),
    );
    expect(
      (await getPerson(kernel, as(voiceking, staff('billing'), 'order_processing'), person.subjectId))
        .familyName,
    ).toBe('Peeters');
  });

  // Part of VK-24 and VX-10, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('an objection stops legitimate-interest and marketing purposes at once, not the contract', async () => {
    const person = await newCustomer(voiceking, 'order_processing');
    const marketing = as(voiceking, staff('sales'), 'newsletter_customers');
    expect((await getPerson(kernel, marketing, person.subjectId)).email).toBe(person.email);
    await kernel.transact(voiceking.tenantId, (atx) =>
      setMarketingObjection(atx, person.subjectId, new Date()),
    );
    await expect(getPerson(kernel, marketing, person.subjectId)).rejects.toMatchObject({
      code: 'subject_objected',
    });

    await kernel.transact(voiceking.tenantId, (atx) =>
      setPurposeState(atx, {
        subjectId: person.subjectId,
        purpose: 'eligibility',
        state: 'objected',
        policyVersion: '2026.1',
        channel: 'email',
        at: new Date(),
      }),
    );
    await expect(
      getPerson(kernel, as(voiceking, staff('sales'), 'eligibility'), person.subjectId),
    ).rejects.toMatchObject({
      code: 'subject_objected',
    });
    expect(
      (await getPerson(kernel, as(voiceking, staff('sales'), 'order_processing'), person.subjectId))
        .familyName,
    ).toBe('Peeters');
  });

  // Part of VK-24, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('a consent-based purpose needs consent; withdrawal stops it at once', async () => {
    const prospect = await createPerson(kernel, as(voiceking, staff('sales'), 'newsletter_opt_in'), {
      subjectType: 'prospect',
      familyName: 'Maes',
      givenName: 'Jan',
      email: 'jan.maes@example.be',
    }).catch((error: unknown) => error);
    // Writing a prospect's data for a consent-based purpose before consent exists is refused.
    expect(prospect).toMatchObject({ code: 'consent_missing' });

    const subjectId = await kernel.transact(voiceking.tenantId, async (atx) => {
      const id = await registerSubject(atx, 'prospect', new Date());
      await setPurposeState(atx, {
        subjectId: id,
        purpose: 'newsletter_opt_in',
        state: 'consented',
        policyVersion: '2026.1',
        channel: 'web_form',
        at: new Date(),
      });
      return id;
    });
    const request = {
      purpose: 'newsletter_opt_in',
      action: 'read' as const,
      categories: ['user.contact.email'],
      subjectIds: [subjectId],
    };
    await kernel.transact(voiceking.tenantId, (atx) => kernel.gate.authorize(atx, staff('sales'), request));
    await kernel.transact(voiceking.tenantId, (atx) =>
      setPurposeState(atx, {
        subjectId,
        purpose: 'newsletter_opt_in',
        state: 'withdrawn',
        policyVersion: '2026.1',
        channel: 'unsubscribe_link',
        at: new Date(),
      }),
    );
    await expect(
      kernel.transact(voiceking.tenantId, (atx) => kernel.gate.authorize(atx, staff('sales'), request)),
    ).rejects.toMatchObject({
      code: 'consent_missing',
    });
  });

  it('an erased subject can no longer be read under any purpose', async () => {
    const person = await newCustomer(voxtra, 'customer_administration');
    await runAsOwner(
      database.ownerUrl,
      'update data_subjects set erased_at = now() where tenant_id = $1 and subject_id = $2',
      [voxtra.tenantId, person.subjectId],
    );
    await expect(
      getPerson(kernel, as(voxtra, staff('admin'), 'customer_administration'), person.subjectId),
    ).rejects.toMatchObject({
      code: 'subject_erased',
    });
  });

  it('a batch of subjects passes the gate once: one decision, one audit entry naming every subject', async () => {
    const ids = await kernel.transact(voxtra.tenantId, async (atx) => {
      const created: number[] = [];
      for (let i = 0; i < 200; i += 1) created.push(await registerSubject(atx, 'customer', new Date()));
      return created;
    });
    const before = (await auditRows(voxtra)).length;
    await kernel.transact(voxtra.tenantId, (atx) =>
      kernel.gate.authorize(
        atx,
        { kind: 'system', job: 'cdr-import' },
        {
          purpose: 'call_billing',
          action: 'write',
          categories: ['kluis.telephony.call_record'],
          subjectIds: ids,
        },
      ),
    );
    const after = await auditRows(voxtra);
    expect(after.length).toBe(before + 1);
    expect(after.at(-1)).toMatchObject({
      purpose: 'call_billing',
      records: 200,
      n: 200,
      decision: 'allowed',
    });
  });

  it('a batch with a restricted subject: each subject gets one entry — one allowed entry for the others, the restricted one its own refusal — never the batch refusal in everyone’s name (attack S7-3)', async () => {
    const ids = await kernel.transact(voxtra.tenantId, async (atx) => {
      const created: number[] = [];
      for (let i = 0; i < 3; i += 1) created.push(await registerSubject(atx, 'customer', new Date()));
      return created;
    });
    const restricted = ids[1] ?? 0;
    await kernel.transact(voxtra.tenantId, (atx) => setRestriction(atx, restricted, true, new Date()));
    const before = (await auditRows(voxtra)).length;
    const context = {
      tenantId: voxtra.tenantId,
      actor: { kind: 'system', job: 'cdr-import' } as const,
      purpose: 'call_billing',
      requestId: 'batch-s7-3',
    };
    const { refused, grant } = await kernel.transact(voxtra.tenantId, (atx) =>
      authorizeBatch(kernel, atx, context, 'write', ['kluis.telephony.call_record'], ids),
    );
    expect(refused).toEqual([restricted]);
    expect([...grant.subjectIds]).toEqual(ids.filter((id) => id !== restricted));
    const entries = (await auditRows(voxtra)).slice(before);
    // The batch's own check (no subject), then each subject once.
    expect(entries.filter((entry) => entry.n > 0)).toEqual([
      expect.objectContaining({ decision: 'denied', reason: 'subject_restricted', n: 1, records: 1 }),
      expect.objectContaining({ decision: 'allowed', reason: null, n: 2, records: 2 }),
    ]);
    expect(entries.filter((entry) => entry.n === 0)).toHaveLength(1);
  });

  describe('two decisions about one batch on one read of its states (decision 0930)', () => {
    const billingActor = { kind: 'system', job: 'invoice-run' } as const;
    const requestsOf = (tenant: Tenant) => [
      {
        context: { tenantId: tenant.tenantId, actor: billingActor, purpose: 'invoicing' },
        action: 'write' as const,
        categories: ['user.name', 'kluis.billing.payment'],
      },
      {
        context: { tenantId: tenant.tenantId, actor: billingActor, purpose: 'solvency' },
        action: 'read' as const,
        categories: ['kluis.billing.payment'],
      },
    ];
    const newSubjects = () =>
      kernel.transact(voxtra.tenantId, async (atx) => {
        const created: number[] = [];
        for (let i = 0; i < 3; i += 1) created.push(await registerSubject(atx, 'customer', new Date()));
        return created;
      });

    /** The entries, grants and refusals of both ways: one read for both, and one decision after the other. */
    async function bothWays(ids: number[]) {
      const requests = requestsOf(voxtra);
      let start = (await auditRows(voxtra)).length;
      const together = await kernel.transact(voxtra.tenantId, (atx) =>
        authorizeBatches(kernel, atx, requests, ids),
      );
      const togetherEntries = (await auditRows(voxtra)).slice(start);
      start = (await auditRows(voxtra)).length;
      const apart = await kernel.transact(voxtra.tenantId, async (atx) => [
        await authorizeBatch(kernel, atx, requests[0]!.context, 'write', requests[0]!.categories, ids),
        await authorizeBatch(kernel, atx, requests[1]!.context, 'read', requests[1]!.categories, ids),
      ]);
      const apartEntries = (await auditRows(voxtra)).slice(start);
      const outcome = (decided: typeof apart) =>
        decided.map(({ grant, refused, denials }) => ({
          purpose: grant.purpose,
          action: grant.action,
          categories: [...grant.categories],
          subjects: [...grant.subjectIds],
          refused,
          codes: [...denials.values()].map((denial) => denial.code),
        }));
      return { together: outcome(together), apart: outcome(apart), togetherEntries, apartEntries };
    }

    it('every subject allowed under both purposes: the grants and the two entries of two separate decisions', async () => {
      const ids = await newSubjects();
      const { together, apart, togetherEntries, apartEntries } = await bothWays(ids);
      expect(together).toEqual(apart);
      expect(togetherEntries).toEqual(apartEntries);
      expect(togetherEntries).toEqual([
        expect.objectContaining({ purpose: 'invoicing', action: 'write', decision: 'allowed', n: 3 }),
        expect.objectContaining({ purpose: 'solvency', action: 'read', decision: 'allowed', n: 3 }),
      ]);
    });

    it('a state recorded for one purpose decides that purpose only; a refusal gives what two decisions give', async () => {
      const ids = await newSubjects();
      const objecting = ids[2] ?? 0;
      // An objection to solvency (legitimate interests) refuses solvency, not invoicing.
      await kernel.transact(voxtra.tenantId, (atx) =>
        setPurposeState(atx, {
          subjectId: objecting,
          purpose: 'solvency',
          state: 'objected',
          policyVersion: '2026.1',
          channel: 'email',
          at: new Date(),
        }),
      );
      const { together, apart, togetherEntries, apartEntries } = await bothWays(ids);
      expect(together).toEqual(apart);
      expect(togetherEntries).toEqual(apartEntries);
      expect(together[0]).toMatchObject({ purpose: 'invoicing', refused: [], subjects: ids });
      expect(together[1]).toMatchObject({
        purpose: 'solvency',
        refused: [objecting],
        codes: ['subject_objected'],
        subjects: ids.filter((id) => id !== objecting),
      });
    });
  });
});
