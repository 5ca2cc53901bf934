import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Kernel } from '../src/kernel/kernel.js';
import { findPurpose } from '../src/kernel/policy/policy.query.js';
import type { Policy } from '../src/kernel/policy/policy.schema.js';
import {
  billingContext,
  createBusiness,
  createCustomer,
  insertCalls,
  prepareTenant,
  startContract,
} from '../src/modules/billing/billing.test-helpers.js';
import { listInvoices, runInvoices } from '../src/modules/billing/index.js';
import { createPerson } from '../src/modules/parties/index.js';
import { placeLegalHold } from '../src/modules/retention/index.js';
import { createStaffUser } from '../src/modules/staff/index.js';
import type { Tenant } from '../src/modules/tenants/index.js';
import { runAsOwner, type TestDatabase } from './database.js';
import { loginAs, requestAs, type StaffSession } from './http.js';
import { createPolicyTenant } from './kernel.js';

export interface FixtureEnvironment {
  app: FastifyInstance;
  kernel: Kernel;
  database: TestDatabase;
}

export interface TenantFixture {
  tenant: Tenant;
  policy: Policy;
  sessions: Map<string, StaffSession>;
  /** An API token per role, made by that role's own staff member (bearer requests write nothing). */
  tokens: Map<string, string>;
  ids: Record<string, string>;
}

/**
 * A customer's technical dossier (where the policy keeps one): an asset, a credential, a fact and
 * an attachment, made over HTTP by the tenant's technician, so the walk has their real ids.
 */
async function prepareDossier(
  app: FastifyInstance,
  tenant: Tenant,
  technician: StaffSession | undefined,
  customer: number,
): Promise<Record<string, string>> {
  if (!technician) return {};
  const post = async (what: string, payload: Record<string, unknown>, idField: string) => {
    const response = await requestAs(app, technician, 'technical_dossier')(
      'POST',
      `/api/v1/customers/${customer}/dossier/${what}`,
      payload,
    );
    if (response.statusCode !== 201) return undefined;
    return String(response.json<Record<string, number>>()[idField]);
  };
  const ids = {
    assetId: await post(
      'assets',
      { kind: 'printer', brand: 'Brother', hostname: `prn-${tenant.slug}` },
      'assetId',
    ),
    credentialId: await post(
      'credentials',
      { system: 'Mailbox', username: 'info', password: 'walk-secret-1' },
      'credentialId',
    ),
    factId: await post('facts', { kind: 'licence', label: 'Office', seats: 2 }, 'factId'),
    attachmentId: await post(
      'attachments',
      { fileName: 'plan.txt', contentType: 'text/plain', content: Buffer.from('plan').toString('base64') },
      'attachmentId',
    ),
  };
  return Object.fromEntries(
    Object.entries(ids).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

/**
 * A tenant of a seed policy with a little of everything (a customer with a contract, calls and an
 * invoice, a business, a minor, a staff member, a hold and, where the policy keeps one, a dossier),
 * a signed-in session and an API token per role, and the ids of those rows by path parameter name.
 */
export async function prepareTenantFixture(
  { app, kernel, database }: FixtureEnvironment,
  name: 'voiceking' | 'voxtra',
): Promise<TenantFixture> {
  const tenant = await createPolicyTenant(kernel, name);
  const { policy } = await kernel.policies.current(tenant.tenantId);
  const catalogue = await prepareTenant(kernel, tenant);
  const customer = await createCustomer(kernel, tenant, { familyName: 'Wandelaar' });
  const organisation = await createBusiness(kernel, tenant, 'Wandel BV');
  const contract = await startContract(kernel, tenant, customer, {
    startDate: '2026-10-01',
    lines: [{ productId: catalogue.subscription }],
  });
  await insertCalls(kernel, tenant, [
    {
      subjectId: customer,
      startedAt: '2026-10-03T09:00:00Z',
      destination: '+32470555666',
      seconds: 60,
      costMicros: 150_000,
    },
  ]);
  await runInvoices(kernel, billingContext(tenant), { period: '2026-10', callsPurpose: 'call_billing' });
  const invoice = (await listInvoices(kernel, billingContext(tenant), { limit: 1 })).items[0];
  const minor = await createPerson(
    kernel,
    { tenantId: tenant.tenantId, actor: { kind: 'system', job: 'test' }, purpose: 'age_verification' },
    { subjectType: 'prospect', familyName: 'Minderjarig', givenName: 'Kim', birthDate: '2014-01-01' },
  );
  const victim = await createStaffUser(
    kernel,
    tenant.tenantId,
    { kind: 'system', job: 'test' },
    { email: `victim-${tenant.slug}@staff.example`, displayName: 'Victim', role: 'sales' },
  );
  const sessions = new Map<string, StaffSession>();
  const tokens = new Map<string, string>();
  for (const role of Object.keys(policy.roles)) {
    const session = await loginAs(app, kernel, tenant, role);
    sessions.set(role, session);
    const secret = randomBytes(32).toString('base64url');
    await runAsOwner(
      database.ownerUrl,
      `insert into staff_api_tokens (tenant_id, token_hash, label, role, created_by, created_at, expires_at)
       values ($1, $2, 'route walk', $3, $4, now(), now() + interval '1 year')`,
      [tenant.tenantId, createHash('sha256').update(secret).digest(), role, session.staffId],
    );
    tokens.set(role, `kluis_${tenant.tenantId}_${secret}`);
  }
  const dossier = findPurpose(policy, 'technical_dossier')
    ? await prepareDossier(app, tenant, sessions.get('technician'), customer)
    : {};
  const hold = await placeLegalHold(
    kernel,
    { tenantId: tenant.tenantId, actor: { kind: 'system', job: 'test' }, purpose: 'rights_requests' },
    { subjectId: customer, reason: 'route walk hold', endsOn: '2099-12-31' },
  );
  return {
    tenant,
    policy,
    sessions,
    tokens,
    ids: {
      id: String(customer),
      subjectId: String(customer),
      staffId: String(victim.staffId),
      tokenId: '1',
      productId: String(catalogue.subscription),
      quoteId: '1',
      orderId: '1',
      contractId: String(contract),
      organisationId: String(organisation),
      invoiceId: String(invoice?.invoiceId ?? 1),
      minor: String(minor.subjectId),
      slug: tenant.slug,
      token: 'x'.repeat(43),
      holdId: String(hold.holdId),
      ...dossier,
    },
  };
}
