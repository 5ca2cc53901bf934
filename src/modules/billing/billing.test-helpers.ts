import { sql } from 'kysely';
import type { Actor } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createContract, createProduct } from '../contracts/index.js';
import { createOrganisation, createPerson } from '../parties/index.js';
import type { StaffRequest } from '../../../test/http.js';
import type { Tenant } from '../tenants/index.js';
import type { BillingContext } from './access.js';
import { setBillingSettings } from './settings.service.js';

export const SYSTEM: Actor = { kind: 'system', job: 'test' };

/** The contract purpose of each seed policy (customer administration). */
export function contractPurpose(tenant: Tenant): string {
  return tenant.slug.startsWith('voxtra') ? 'customer_administration' : 'order_processing';
}

export function billingPurpose(tenant: Tenant): string {
  return tenant.slug.startsWith('voxtra') ? 'invoicing' : 'billing';
}

export function billingContext(tenant: Tenant, actor: Actor = SYSTEM): BillingContext {
  return { tenantId: tenant.tenantId, actor, purpose: billingPurpose(tenant) };
}

export interface Catalogue {
  subscription: number;
  install: number;
}

/** Payee account and a small catalogue: a €15/month subscription (21 %) and a €50 installation. */
export async function prepareTenant(kernel: Kernel, tenant: Tenant): Promise<Catalogue> {
  await setBillingSettings(kernel, tenant.tenantId, SYSTEM, {
    payeeIban: 'BE68 5390 0754 7034',
    payeeBic: 'GKCCBEBB',
    paymentTermDays: 30,
  });
  const context = { tenantId: tenant.tenantId, actor: SYSTEM };
  const subscription = await createProduct(kernel, context, {
    code: 'VOIP-BASIC',
    name: 'VoIP line basic',
    kind: 'subscription',
    priceCents: 1500,
    vatRatePercent: 21,
  });
  const install = await createProduct(kernel, context, {
    code: 'INSTALL',
    name: 'Installation',
    kind: 'one_off',
    priceCents: 5000,
    vatRatePercent: 21,
  });
  return { subscription: subscription.productId, install: install.productId };
}

export async function createCustomer(
  kernel: Kernel,
  tenant: Tenant,
  options: {
    familyName?: string;
    givenName?: string;
    organisationId?: number;
    preferredLanguage?: 'nl' | 'fr' | 'en' | 'de';
    /** A customer whose postal address was never recorded (held back by a run, decision 1290). */
    noAddress?: true;
  } = {},
): Promise<number> {
  const person = await createPerson(
    kernel,
    { tenantId: tenant.tenantId, actor: SYSTEM, purpose: contractPurpose(tenant) },
    {
      subjectType: 'customer',
      familyName: options.familyName ?? 'Peeters',
      givenName: options.givenName ?? 'An',
      ...(options.noAddress
        ? {}
        : { address: { street: 'Veldstraat 1', postalCode: '9000', city: 'Gent', country: 'BE' } }),
      ...(options.organisationId ? { organisationId: options.organisationId } : {}),
      ...(options.preferredLanguage ? { preferredLanguage: options.preferredLanguage } : {}),
    },
  );
  return person.subjectId;
}

export async function createBusiness(
  kernel: Kernel,
  tenant: Tenant,
  name = 'Bakkerij Janssens BV',
  enterpriseNumber = '0403.536.628',
): Promise<number> {
  // A registered office: an invoice run holds back a customer it cannot address (decision 1290).
  const organisation = await createOrganisation(kernel, tenant.tenantId, {
    name,
    enterpriseNumber,
    address: { street: 'Grote Markt 1', postalCode: '8500', city: 'Kortrijk' },
  });
  return organisation.organisationId;
}

export async function startContract(
  kernel: Kernel,
  tenant: Tenant,
  subjectId: number,
  options: {
    startDate: string;
    endDate?: string;
    organisationId?: number;
    lines: Array<{ productId: number; quantity?: number }>;
  },
): Promise<number> {
  const contract = await createContract(
    kernel,
    { tenantId: tenant.tenantId, actor: SYSTEM, purpose: contractPurpose(tenant) },
    {
      subjectId,
      startDate: options.startDate,
      ...(options.endDate ? { endDate: options.endDate } : {}),
      ...(options.organisationId ? { organisationId: options.organisationId } : {}),
      lines: options.lines,
    },
  );
  return contract.contractId;
}

export interface TestCall {
  subjectId: number;
  startedAt: string;
  destination: string;
  seconds: number;
  costMicros: number | null;
}

/**
 * Rated calls written straight into call_records (the telephony module's import is tested there):
 * partitions through its SECURITY DEFINER function, rows through the parent as the app role.
 */
export async function insertCalls(kernel: Kernel, tenant: Tenant, calls: readonly TestCall[]): Promise<void> {
  const months = new Set(calls.map((call) => `${call.startedAt.slice(0, 7)}-01`));
  for (const month of months) {
    await kernel.plain(tenant.tenantId, (tx) =>
      sql`select kluis_ensure_call_record_partition(${month}::date)`.execute(tx),
    );
  }
  await kernel.plain(tenant.tenantId, async (tx) => {
    let n = 0;
    for (const call of calls) {
      n += 1;
      const started = new Date(call.startedAt);
      await tx
        .insertInto('call_records')
        .values({
          tenant_id: tenant.tenantId,
          started_at: started,
          dedup_key: `test-${n}-${started.getTime()}`,
          subject_id: call.subjectId,
          caller_e164: '+3292000000',
          destination: call.destination,
          answered_at: started,
          ended_at: new Date(started.getTime() + call.seconds * 1000),
          duration_seconds: call.seconds,
          billable_seconds: call.seconds,
          disposition: 'answered',
          is_billable_leg: true,
          linked_id: null,
          cost_micros: call.costMicros,
        })
        .execute();
    }
  });
}

/** Registers an organisation over HTTP (POST /api/v1/organisations) and returns its id. */
export async function registerOrganisation(
  request: StaffRequest,
  body: Record<string, unknown>,
): Promise<number> {
  const response = await request('POST', '/api/v1/organisations', body);
  if (response.statusCode !== 201) throw new Error(`organisation not registered: ${response.body}`);
  return response.json<{ organisationId: number }>().organisationId;
}
