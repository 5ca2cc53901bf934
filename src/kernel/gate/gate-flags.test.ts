import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../../test/cli.js';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { chainPendingAudit, createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { createPerson, getPerson, type UseCaseContext } from '../../modules/parties/index.js';
import type { Tenant } from '../../modules/tenants/index.js';
import { disclose } from '../disclosure/index.js';
import type { Kernel } from '../kernel.js';
import { findCategory } from '../policy/policy.query.js';
import { loadPolicyFile } from '../policy/policy.loader.js';
import type { Policy, Purpose } from '../policy/policy.schema.js';
import { setRestriction } from '../subjects/index.js';
import type { SubjectStateRow } from '../subjects/subject.repository.js';
import { authorizeBatch } from './access.js';
import { decide, decideRequest, type AccessAction, type Actor } from './gate.js';

let database: TestDatabase;
let kernel: Kernel;
let voiceking: Tenant;
let voxtra: Tenant;
const seeds: Array<[string, Policy]> = [];

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  for (const name of ['voiceking', 'voxtra'])
    seeds.push([name, await loadPolicyFile(path.join(ROOT, 'policies', `${name}.yaml`))]);
});
afterAll(async () => database.close());

const TODAY = '2026-12-01';
const ACTIONS: AccessAction[] = ['read', 'write', 'store'];
const staff = (role: string, staffId = 1): Actor => ({ kind: 'staff', staffId, role });
const as = (tenant: Tenant, actor: Actor, purpose: string): UseCaseContext => ({
  tenantId: tenant.tenantId,
  actor,
  purpose,
});

/** Every actor a purpose admits: each role the policy lists for it, and a system job. */
function actorsOf(purpose: Purpose): Actor[] {
  return [...purpose.roles.map((role) => staff(role)), { kind: 'system', job: 'a-job' }];
}

/** The purpose's categories a subject of `type` has, none of them special. */
function categoriesFor(policy: Policy, purpose: Purpose, type: string): string[] {
  return purpose.categories.filter((key) => {
    const category = findCategory(policy, key);
    return category !== undefined && !category.special && category.subjectTypes.includes(type);
  });
}

function state(fields: Partial<SubjectStateRow>): SubjectStateRow {
  return {
    subjectId: 7,
    subjectType: 'customer',
    restrictedAt: null,
    marketingObjectedAt: null,
    erasedAt: null,
    minorUntil: null,
    parentalConsentAt: null,
    purposeState: 'consented',
    ...fields,
  };
}

async function lastAuditEntry(tenant: Tenant) {
  await chainPendingAudit(kernel, tenant.tenantId);
  const result = await runAsOwner<{ purpose: string; decision: string; reason: string | null }>(
    database.ownerUrl,
    'select purpose, decision, reason from audit_log where tenant_id = $1 order by seq desc limit 1',
    [tenant.tenantId],
  );
  return result.rows[0];
}

describe('the gate refuses a minor without parental consent itself (VK-15, attack S18-15)', () => {
  it('every role of both seeds, under every purpose: only the age check, the rights requests and reading or keeping under a legal obligation reach such a minor, besides a job keeping what a contract’s service recorded (decision 0904), and only the store marked as that keeping (decision 0952); a parent’s consent lifts it', () => {
    const allowedSomewhere = new Set<string>();
    for (const [seed, policy] of seeds) {
      for (const [key, purpose] of Object.entries(policy.purposes)) {
        if (purpose.disclosureOnly) continue;
        const type = purpose.subjectTypes.find((candidate) => candidate !== 'staff');
        if (!type) continue;
        const categories = categoriesFor(policy, purpose, type);
        if (categories.length === 0) continue;
        for (const actor of actorsOf(purpose))
          for (const action of ACTIONS) {
            const request = {
              purpose: key,
              action,
              categories,
              subjectIds: [7],
              keepsRecorded: true as const,
            };
            const minor = state({ subjectType: type, minorUntil: '2030-01-01' });
            // A job keeps what a contract's service recorded on its own (decision 0904).
            const keptByJob =
              purpose.legalBasis === 'contract' && action === 'store' && actor.kind === 'system';
            const exempt =
              purpose.wholePerson !== 'none' ||
              (purpose.legalBasis === 'legal_obligation' && action !== 'write') ||
              keptByJob;
            const where = `${seed} ${key} ${action} by ${actor.kind === 'staff' ? actor.role : 'a job'}`;
            const denial = decide(policy, actor, request, [minor], TODAY);
            if (exempt) {
              expect(denial, where).toBeUndefined();
              if (!keptByJob) allowedSomewhere.add(`${seed}.${key}`);
            } else expect(denial, where).toMatchObject({ code: 'consent_missing', reason: /minor/ });
            // Only the call-record import's keeping is that store: any other store a job asks
            // under a contract purpose is refused (decision 0952).
            if (keptByJob) {
              const unmarked = decide(
                policy,
                actor,
                { ...request, keepsRecorded: undefined },
                [minor],
                TODAY,
              );
              expect(unmarked, `${where}, not the import's keeping`).toMatchObject({
                code: 'consent_missing',
              });
            }
            const consented = { ...minor, parentalConsentAt: new Date('2026-11-30') };
            expect(
              decide(policy, actor, request, [consented], TODAY),
              `${where}, parent consented`,
            ).toBeUndefined();
            const grownUp = { ...minor, minorUntil: TODAY };
            expect(decide(policy, actor, request, [grownUp], TODAY), `${where}, now 16`).toBeUndefined();
          }
      }
    }
    // The purposes that still reach such a minor, named: the age check, the rights, the law's own.
    expect([...allowedSomewhere].sort()).toEqual([
      'voiceking.accounting',
      'voiceking.age_verification',
      'voiceking.breach_notification',
      'voiceking.legal_disclosure',
      'voiceking.rights_requests',
      'voxtra.accounting',
      'voxtra.age_verification',
      'voxtra.breach_notification',
      'voxtra.legal_disclosure',
      'voxtra.rights_requests',
    ]);
  });

  it('the person’s own access and erasure are never refused for it', () => {
    for (const [, policy] of seeds) {
      const minor = state({ minorUntil: '2030-01-01' });
      const own = { kind: 'subject', subjectId: 7 } as const;
      for (const action of ['read', 'export', 'erase'] as const)
        expect(
          decide(
            policy,
            own,
            { purpose: 'rights_requests', action, categories: ['user.name'], subjectIds: [7] },
            [minor],
            TODAY,
          ),
        ).toBeUndefined();
      expect(
        decide(
          policy,
          staff('privacy_officer'),
          { purpose: 'rights_requests', action: 'erase', categories: [], subjectIds: [7] },
          [minor],
          TODAY,
        ),
      ).toBeUndefined();
    }
  });

  it('with real PostgreSQL: a contract purpose neither reads nor writes such a minor, and the refusal is audited as one', async () => {
    const minor = await createPerson(kernel, as(voxtra, staff('sales'), 'age_verification'), {
      subjectType: 'customer',
      familyName: 'Kind',
      givenName: 'Noor',
      birthDate: '2015-04-02',
    });
    await expect(
      getPerson(kernel, as(voxtra, staff('sales'), 'customer_administration'), minor.subjectId),
    ).rejects.toMatchObject({ code: 'consent_missing' });
    expect(await lastAuditEntry(voxtra)).toMatchObject({
      purpose: 'customer_administration',
      decision: 'denied',
      reason: 'minor_without_parental_consent',
    });
    const write = kernel.transact(voxtra.tenantId, (atx) =>
      kernel.gate.authorize(
        atx,
        { kind: 'system', job: 'a-job' },
        {
          purpose: 'orders_deliveries',
          action: 'write',
          categories: ['user.contact.email'],
          subjectIds: [minor.subjectId],
        },
      ),
    );
    await expect(write).rejects.toMatchObject({ code: 'consent_missing' });
    // The age check still reads what it recorded.
    const checked = await getPerson(
      kernel,
      as(voxtra, staff('support'), 'age_verification'),
      minor.subjectId,
    );
    expect(checked.familyName).toBe('Kind');
  });
});

describe('a disclosure-only purpose serves the disclosure door alone (decision 0872)', () => {
  it('every role of both seeds, and a job: any action under a disclosure-only purpose is refused unless the disclosure door asks for a read', () => {
    let flagged = 0;
    for (const [seed, policy] of seeds) {
      for (const [key, purpose] of Object.entries(policy.purposes)) {
        if (!purpose.disclosureOnly) continue;
        flagged += 1;
        const actors = [
          ...Object.keys(policy.roles).map((role) => staff(role)),
          { kind: 'system', job: 'a-job' } as const,
        ];
        for (const actor of actors) {
          const may = actor.kind !== 'staff' || purpose.roles.includes(actor.role);
          for (const action of [...ACTIONS, 'export', 'erase'] as const) {
            const where = `${seed} ${key} ${action} by ${actor.kind === 'staff' ? actor.role : 'a job'}`;
            const request = { purpose: key, action, categories: purpose.categories, subjectIds: [7] };
            expect(decideRequest(policy, actor, request), where).toMatchObject({
              code: may ? 'purpose_not_allowed' : 'role_not_allowed',
            });
            const door = decideRequest(policy, actor, { ...request, disclosure: true });
            if (!may) expect(door, where).toMatchObject({ code: 'role_not_allowed' });
            else if (action === 'read') expect(door, `${where} through the door`).toBeUndefined();
            else expect(door, `${where} through the door`).toMatchObject({ code: 'purpose_not_allowed' });
          }
        }
      }
      // The flag changes nothing for the other purposes.
      for (const [key, purpose] of Object.entries(policy.purposes)) {
        if (purpose.disclosureOnly || purpose.roles.length === 0) continue;
        const categories = purpose.categories.filter((category) => !findCategory(policy, category)?.special);
        expect(
          decideRequest(policy, staff(purpose.roles[0] ?? ''), {
            purpose: key,
            action: 'read',
            categories,
            subjectIds: [],
          }),
          `${seed} ${key}`,
        ).toBeUndefined();
      }
    }
    expect(flagged).toBe(2);
  });

  it('with real PostgreSQL: the admin or a job acting under business_transfer is refused and audited; the disclosure to the buyer goes through', async () => {
    const customer = await createPerson(kernel, as(voxtra, staff('sales'), 'customer_administration'), {
      subjectType: 'customer',
      familyName: 'Koper',
      givenName: 'Els',
      email: 'els.koper@example.be',
    });
    await expect(
      getPerson(kernel, as(voxtra, staff('admin'), 'business_transfer'), customer.subjectId),
    ).rejects.toMatchObject({ code: 'purpose_not_allowed' });
    expect(await lastAuditEntry(voxtra)).toMatchObject({
      purpose: 'business_transfer',
      decision: 'denied',
      reason: 'disclosure_only_purpose',
    });
    const job = { tenantId: voxtra.tenantId, actor: { kind: 'system', job: 'a-job' } as const };
    for (const purpose of ['business_transfer', 'intermediary'])
      await expect(
        kernel.transact(voxtra.tenantId, (atx) =>
          authorizeBatch(kernel, atx, { ...job, purpose }, 'write', ['user.name'], [customer.subjectId]),
        ),
      ).rejects.toMatchObject({ code: 'purpose_not_allowed' });
    const disclosed = await kernel.transact(voxtra.tenantId, (atx) =>
      disclose(kernel, atx, staff('admin'), {
        recipient: 'business_buyer',
        purpose: 'business_transfer',
        categories: ['user.name', 'user.contact.email'],
        subjectIds: [customer.subjectId],
        reference: 'export:gate-flags-test',
      }),
    );
    expect(disclosed.subjectIds).toEqual([customer.subjectId]);
    expect(disclosed.disclosureId).not.toBeNull();
  });
});

describe('a restricted person is read only under the purposes the policy marks for Art. 18(2) (decision 0885)', () => {
  it('every role of both seeds: reads of a restricted person pass under the books, an authority, a breach letter and the rights requests only, not the age check', () => {
    const readable = new Set<string>();
    for (const [seed, policy] of seeds)
      for (const [key, purpose] of Object.entries(policy.purposes)) {
        if (purpose.disclosureOnly) continue;
        const type = purpose.subjectTypes.find((candidate) => candidate !== 'staff');
        if (!type) continue;
        const categories = categoriesFor(policy, purpose, type);
        if (categories.length === 0) continue;
        const restricted = state({ subjectType: type, restrictedAt: new Date('2026-11-01') });
        for (const actor of actorsOf(purpose)) {
          const where = `${seed} ${key} by ${actor.kind === 'staff' ? actor.role : 'a job'}`;
          const denial = decide(
            policy,
            actor,
            { purpose: key, action: 'read', categories, subjectIds: [7] },
            [restricted],
            TODAY,
          );
          if (denial === undefined) readable.add(`${seed}.${key}`);
          else expect(denial, where).toMatchObject({ code: 'subject_restricted' });
        }
      }
    expect([...readable].sort()).toEqual([
      'voiceking.accounting',
      'voiceking.breach_notification',
      'voiceking.legal_disclosure',
      'voiceking.rights_requests',
      'voxtra.accounting',
      'voxtra.breach_notification',
      'voxtra.legal_disclosure',
      'voxtra.rights_requests',
    ]);
  });

  it('with real PostgreSQL: support cannot read a restricted customer under the age check; billing still reads the books', async () => {
    const person = await createPerson(kernel, as(voiceking, staff('sales'), 'order_processing'), {
      subjectType: 'customer',
      familyName: 'Beperkt',
      givenName: 'Jo',
    });
    await kernel.transact(voiceking.tenantId, (atx) =>
      setRestriction(atx, person.subjectId, true, new Date()),
    );
    await expect(
      getPerson(kernel, as(voiceking, staff('support'), 'age_verification'), person.subjectId),
    ).rejects.toMatchObject({ code: 'subject_restricted' });
    const books = await getPerson(kernel, as(voiceking, staff('billing'), 'accounting'), person.subjectId);
    expect(books.familyName).toBe('Beperkt');
  });
});
