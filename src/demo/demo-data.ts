import type { Kernel } from '../kernel/kernel.js';
import {
  createOrganisation,
  createPeopleInBulkWithin,
  PERSON_COLUMN_CATEGORIES as C,
  type BulkPerson,
} from '../modules/parties/index.js';
import { createStaffUser } from '../modules/staff/index.js';
import {
  createContract,
  createProduct,
  listProducts,
  terminateContract,
  type Product,
  type CreateProductInput,
} from '../modules/contracts/index.js';
import {
  CALL_BILLING_PURPOSE,
  createCreditNote,
  defaultPurpose,
  getBillingSettings,
  listInvoices,
  runInvoices,
  setBillingSettings,
} from '../modules/billing/index.js';
import type { Tenant } from '../modules/tenants/index.js';
import { AppError } from '../platform/errors.js';
import { reachTestHook } from '../platform/test-hooks.js';
import {
  COMPANY_FORMS,
  COMPANY_WORDS,
  FAMILY_NAMES,
  GIVEN_NAMES_FEMALE,
  GIVEN_NAMES_MALE,
  JOB_TITLES,
  PLACES,
  STREETS_FR,
  STREETS_NL,
} from './belgian-fixtures.js';

/** mulberry32: a small seeded generator, so the same seed gives the same demo data. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const digits = (random: Random, count: number): string =>
  Array.from({ length: count }, () => Math.floor(random() * 10)).join('');

/** A valid Belgian enterprise number: 0 + 7 digits, then 97 − (those 8 digits mod 97). */
export function generateEnterpriseNumber(random: Random): string {
  const base = `0${digits(random, 7)}`;
  const check = 97 - (Number(base) % 97);
  return `${base}${String(check).padStart(2, '0')}`;
}

const ascii = (text: string): string =>
  text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();

/** Which purpose a tenant's staff use to register each kind of person (policy keys). */
const REGISTRATION: Record<string, Record<string, { purpose: string; role: string }>> = {
  voiceking: {
    customer: { purpose: 'order_processing', role: 'sales' },
    contact_person: { purpose: 'order_processing', role: 'sales' },
    prospect: { purpose: 'answering_questions', role: 'sales' },
    job_applicant: { purpose: 'recruitment', role: 'hr' },
  },
  voxtra: {
    customer: { purpose: 'customer_administration', role: 'sales' },
    contact_person: { purpose: 'customer_administration', role: 'sales' },
    prospect: { purpose: 'quotes', role: 'sales' },
  },
};

export interface DemoOptions {
  people: number;
  organisations: number;
  seed: number;
  /** How many of the customers get a contract (in every state). Default 150. */
  contracts?: number;
  /** People created so far, after each committed-to-be batch (progress on a terminal). */
  onProgress?: (people: number, total: number) => void;
  /**
   * Also business customers (a contact and a contract for the first organisations) and last
   * month's invoices with one credit note, so HTML, PDF and UBL can be looked at (the first run).
   */
  invoices?: boolean;
}

export interface DemoResult {
  people: number;
  organisations: number;
  contracts: number;
  /** Documents issued, credit notes included (with `invoices`). */
  invoices?: number;
  businessInvoices?: number;
}

function generatePerson(
  random: Random,
  subjectType: string,
  serial: number,
  organisationId: number | null,
): BulkPerson {
  const female = random() < 0.5;
  const givenName = pick(random, female ? GIVEN_NAMES_FEMALE : GIVEN_NAMES_MALE);
  const familyName = pick(random, FAMILY_NAMES);
  const place = pick(random, PLACES);
  const street = pick(random, place.language === 'nl' ? STREETS_NL : STREETS_FR);
  return {
    subjectType,
    familyName,
    givenName,
    gender: female ? 'female' : 'male',
    preferredLanguage: place.language,
    email: `${ascii(givenName)}.${ascii(familyName)}${serial}@mail.example`,
    // Belgian mobile ranges 0470–0499 (E.164 +3247x … +3249x).
    phone: `+324${7 + Math.floor(random() * 3)}${digits(random, 7)}`,
    birthDate: null,
    address: {
      street: `${street} ${1 + Math.floor(random() * 180)}`,
      postalCode: place.postalCode,
      city: place.city,
      country: 'BE',
    },
    jobTitle: organisationId === null ? null : pick(random, JOB_TITLES),
    jobFunction: null,
    decisionAuthority: organisationId === null ? null : random() < 0.4,
    notes: null,
    organisationId,
    source: 'data_subject',
  };
}

/** Leaves out the fields the registering purpose does not cover (Voxtra keeps no gender, …). */
function fitToPurpose(person: BulkPerson, covered: ReadonlySet<string>): BulkPerson {
  return {
    ...person,
    gender: covered.has(C.gender) ? person.gender : null,
    preferredLanguage: covered.has(C.language) ? person.preferredLanguage : null,
    email: covered.has(C.email) ? person.email : null,
    phone: covered.has(C.phone) ? person.phone : null,
    address: covered.has(C.address) ? person.address : null,
    jobTitle: covered.has(C.job) ? person.jobTitle : null,
    decisionAuthority: covered.has(C.job) ? person.decisionAuthority : null,
  };
}

/** A company's registered office; one in four has a separate billing address, one in eight no VAT number. */
function generateCompanyFacts(random: () => number, index: number) {
  const place = pick(random, PLACES);
  const street = pick(random, place.language === 'nl' ? STREETS_NL : STREETS_FR);
  const billing = pick(random, PLACES);
  return {
    address: {
      street: `${street} ${1 + Math.floor(random() * 180)}`,
      postalCode: place.postalCode,
      city: place.city,
    },
    billingAddress:
      index % 4 === 3
        ? {
            street: `Postbus ${100 + Math.floor(random() * 900)}`,
            postalCode: billing.postalCode,
            city: billing.city,
            country: 'BE',
          }
        : null,
    vatRegistered: index % 8 !== 5,
    buyerReference: index % 3 === 1 ? `KOST-${1000 + Math.floor(random() * 9000)}` : null,
  };
}

/**
 * Realistic Belgian demo data for a demo tenant (`voiceking` or `voxtra` policies): organisations
 * with valid enterprise numbers, their contact persons, customers, prospects and (VoiceKing)
 * applicants, each registered under the purpose the tenant's staff would use.
 */
export async function seedDemoData(
  kernel: Kernel,
  tenant: Tenant,
  policyKey: string,
  options: DemoOptions,
): Promise<DemoResult> {
  const random = createRandom(options.seed);
  const plan = REGISTRATION[policyKey];
  if (!plan) {
    throw new AppError('validation_failed', 'no demo plan', {
      publicMessage: `tenant ${tenant.slug} has no demo plan "${policyKey}": give --policy voiceking or --policy voxtra`,
    });
  }
  const { policy } = await kernel.policies.current(tenant.tenantId);
  const organisationIds: number[] = [];
  // Their own generator: company addresses leave the people of a seed as they were.
  const companyRandom = createRandom(options.seed + 1);
  for (let i = 0; i < options.organisations; i += 1) {
    const name = `${pick(random, COMPANY_WORDS)} ${pick(random, FAMILY_NAMES)} ${pick(random, COMPANY_FORMS)}`;
    const organisation = await createOrganisation(kernel, tenant.tenantId, {
      name,
      enterpriseNumber: generateEnterpriseNumber(random),
      ...generateCompanyFacts(companyRandom, i),
    }).catch(() => undefined);
    if (organisation) organisationIds.push(organisation.organisationId);
  }
  const kinds = Object.keys(plan);
  const batches = new Map<string, BulkPerson[]>();
  for (let serial = 1; serial <= options.people; serial += 1) {
    const roll = random();
    let subjectType =
      roll < 0.65 ? 'customer' : roll < 0.85 ? 'prospect' : roll < 0.95 ? 'contact_person' : 'job_applicant';
    if (!kinds.includes(subjectType)) subjectType = 'customer';
    const organisationId =
      subjectType === 'contact_person' && organisationIds.length > 0 ? pick(random, organisationIds) : null;
    const batch = batches.get(subjectType) ?? [];
    batch.push(generatePerson(random, subjectType, serial, organisationId));
    batches.set(subjectType, batch);
  }
  // All people in one transaction: a failure half-way leaves none of them behind.
  const customerIds: number[] = [];
  const created = await kernel.transact(tenant.tenantId, async (atx) => {
    let done = 0;
    for (const [subjectType, people] of batches) {
      const registration = plan[subjectType];
      if (!registration) continue;
      const covered = new Set(policy.purposes[registration.purpose]?.categories ?? []);
      const context = {
        tenantId: tenant.tenantId,
        actor: { kind: 'system' as const, job: 'demo' },
        purpose: registration.purpose,
      };
      for (let start = 0; start < people.length; start += 2000) {
        const batch = people.slice(start, start + 2000).map((person) => fitToPurpose(person, covered));
        const ids = await createPeopleInBulkWithin(kernel, atx, context, batch);
        done += ids.length;
        options.onProgress?.(done, options.people);
        await reachTestHook('demo.batch');
        if (subjectType === 'customer') customerIds.push(...ids);
      }
    }
    return done;
  });
  const contracts = await seedDemoContracts(
    kernel,
    tenant,
    policyKey,
    customerIds.slice(0, options.contracts ?? 150),
  );
  const result: DemoResult = { people: created, organisations: organisationIds.length, contracts };
  if (!options.invoices) return result;
  const business = await seedBusinessCustomers(
    kernel,
    tenant,
    policyKey,
    organisationIds.slice(0, DEMO_BUSINESS_CUSTOMERS),
    options.seed,
  );
  return {
    ...result,
    contracts: contracts + business,
    ...(await seedDemoInvoices(kernel, tenant, policyKey)),
  };
}

/** Enough companies to show each case: a billing address, a buyer reference, not VAT-registered. */
const DEMO_BUSINESS_CUSTOMERS = 6;

/** The demo providers' payee accounts (valid Belgian IBANs) when no billing settings exist yet. */
const DEMO_PAYEE: Record<string, { payeeIban: string; payeeBic?: string }> = {
  voiceking: { payeeIban: 'BE68 5390 0754 7034', payeeBic: 'GKCCBEBB' },
  voxtra: { payeeIban: 'BE71 0961 2345 6769' },
};

/**
 * A contact person (a customer of the organisation) and a running contract in the company's name
 * for each organisation given: its invoices go to the company's own address (decision 0180).
 */
async function seedBusinessCustomers(
  kernel: Kernel,
  tenant: Tenant,
  policyKey: string,
  organisationIds: readonly number[],
  seed: number,
): Promise<number> {
  const registration = REGISTRATION[policyKey]?.customer;
  if (!registration || organisationIds.length === 0) return 0;
  const { policy } = await kernel.policies.current(tenant.tenantId);
  const covered = new Set(policy.purposes[registration.purpose]?.categories ?? []);
  const context = {
    tenantId: tenant.tenantId,
    actor: { kind: 'system' as const, job: 'demo' },
    purpose: registration.purpose,
  };
  // A generator of their own: the people and companies of a seed stay as they were.
  const random = createRandom(seed + 2);
  const people = organisationIds.map((organisationId, index) =>
    fitToPurpose(generatePerson(random, 'customer', 90_001 + index, organisationId), covered),
  );
  const subjectIds = await kernel.transact(tenant.tenantId, (atx) =>
    createPeopleInBulkWithin(kernel, atx, context, people),
  );
  const existing = await listAllProducts(kernel, tenant.tenantId);
  const codes = (DEMO_PRODUCTS[policyKey] ?? []).map((product) => product.code);
  const products = existing.filter((product) => codes.includes(product.code));
  const subscriptions = products.filter((product) => product.kind === 'subscription');
  const oneOff = products.find((product) => product.kind === 'one_off');
  const today = kernel.clock.now().toISOString().slice(0, 10);
  let made = 0;
  for (const [index, subjectId] of subjectIds.entries()) {
    const subscription = subscriptions[index % Math.max(subscriptions.length, 1)];
    const organisationId = organisationIds[index];
    if (!subscription || organisationId === undefined) continue;
    await createContract(kernel, context, {
      subjectId,
      organisationId,
      startDate: addDays(today, -120 - 30 * index),
      lines: [
        { productId: subscription.productId, quantity: 2 + (index % 4) },
        // One company is billed an installation as well, in last month.
        ...(index === 0 && oneOff ? [{ productId: oneOff.productId, quantity: 1 }] : []),
      ],
    });
    made += 1;
  }
  return made;
}

/**
 * Last month's invoice run under the tenant's billing purpose (every customer with a contract,
 * consumers and companies) and one partial credit note on a company's invoice.
 */
async function seedDemoInvoices(
  kernel: Kernel,
  tenant: Tenant,
  policyKey: string,
): Promise<{ invoices: number; businessInvoices: number }> {
  const actor = { kind: 'system' as const, job: 'demo' };
  const payee = DEMO_PAYEE[policyKey];
  if (payee && !(await getBillingSettings(kernel, tenant.tenantId))) {
    await setBillingSettings(kernel, tenant.tenantId, actor, { ...payee, paymentTermDays: 30 });
  }
  const context = {
    tenantId: tenant.tenantId,
    actor,
    purpose: await defaultPurpose(kernel, tenant.tenantId, 'billing'),
  };
  const today = kernel.clock.now().toISOString().slice(0, 10);
  const [year = 2026, month = 1] = today.split('-').map(Number);
  const period = month === 1 ? `${year - 1}-12` : `${year}-${String(month - 1).padStart(2, '0')}`;
  const run = await runInvoices(kernel, context, { period, callsPurpose: CALL_BILLING_PURPOSE });
  const listed = await listInvoices(kernel, context, { limit: 1000, period, kind: 'invoice' });
  const business = listed.items.filter((item) => item.organisationId !== null);
  const credited = business[0];
  if (credited) {
    await createCreditNote(kernel, context, credited.invoiceId, {
      reasonCode: 'goodwill',
      amountExclVatCents: 500,
    });
  }
  return { invoices: run.invoiced + (credited ? 1 : 0), businessInvoices: business.length };
}

const DEMO_PRODUCTS: Record<string, CreateProductInput[]> = {
  voiceking: [
    {
      code: 'VK-VOIP-BASIS',
      name: 'VoIP-lijn Basis',
      kind: 'subscription',
      priceCents: 1995,
      vatRatePercent: 21,
    },
    {
      code: 'VK-MOBIEL',
      name: 'Mobiel Onbeperkt',
      kind: 'subscription',
      priceCents: 2500,
      vatRatePercent: 21,
    },
    {
      code: 'VK-INSTALL',
      name: 'Installatie aan huis',
      kind: 'one_off',
      priceCents: 7500,
      vatRatePercent: 21,
    },
  ],
  voxtra: [
    {
      code: 'VX-ITBEHEER',
      name: 'IT-beheer per werkpost',
      kind: 'subscription',
      priceCents: 3500,
      vatRatePercent: 21,
    },
    {
      code: 'VX-CLOUDTEL',
      name: 'Cloudtelefonie per toestel',
      kind: 'subscription',
      priceCents: 1500,
      vatRatePercent: 21,
    },
    {
      code: 'VX-INSTALL',
      name: 'Installatie en configuratie',
      kind: 'one_off',
      priceCents: 9500,
      vatRatePercent: 21,
    },
  ],
};

const addDays = (date: string, days: number): string => {
  const at = new Date(`${date}T00:00:00Z`);
  at.setUTCDate(at.getUTCDate() + days);
  return at.toISOString().slice(0, 10);
};

/**
 * Contracts in every state for the first customers: running, ended, terminated in writing
 * (which records the contract.terminated event) and signed but not yet started.
 */
async function seedDemoContracts(
  kernel: Kernel,
  tenant: Tenant,
  policyKey: string,
  customerIds: readonly number[],
): Promise<number> {
  const actor = { kind: 'system' as const, job: 'demo' };
  // A product made by an earlier run (or by hand, with the same code) is used, not made again.
  const existing = await listAllProducts(kernel, tenant.tenantId);
  const products = [];
  for (const product of DEMO_PRODUCTS[policyKey] ?? []) {
    products.push(
      existing.find((candidate) => candidate.code === product.code) ??
        (await createProduct(kernel, { tenantId: tenant.tenantId, actor }, product)),
    );
  }
  const subscriptions = products.filter((product) => product.kind === 'subscription');
  if (subscriptions.length === 0) return 0;
  const context = {
    tenantId: tenant.tenantId,
    actor,
    purpose: REGISTRATION[policyKey]?.customer?.purpose ?? 'order_processing',
  };
  const today = kernel.clock.now().toISOString().slice(0, 10);
  let made = 0;
  for (const [index, subjectId] of customerIds.entries()) {
    const product = subscriptions[index % subscriptions.length];
    if (!product) continue;
    const state = index % 5;
    const startDate = state === 4 ? addDays(today, 14) : addDays(today, -30 * (3 + (index % 24)));
    const endDate = state === 2 ? addDays(today, -10 - (index % 60)) : null;
    const contract = await createContract(kernel, context, {
      subjectId,
      startDate,
      endDate,
      lines: [{ productId: product.productId, quantity: 1 + (index % 3) }],
    });
    if (state === 3)
      await terminateContract(kernel, context, contract.contractId, {
        terminatedOn: addDays(today, -1),
        channel: 'written',
        reasonCode: 'moved_abroad',
      });
    made += 1;
  }
  return made;
}

async function listAllProducts(kernel: Kernel, tenantId: number): Promise<Product[]> {
  const products: Product[] = [];
  let after: number | undefined;
  for (;;) {
    const page = await listProducts(kernel, tenantId, {
      limit: 200,
      ...(after ? { after } : {}),
    });
    products.push(...page.items);
    const last = page.items.at(-1);
    if (page.items.length < 200 || !last) return products;
    after = last.productId;
  }
}

export interface DemoLogin {
  tenantSlug: string;
  email: string;
  role: string;
  oneTimePassword: string;
}

/** One staff member per policy role (admin is created by the first run itself). */
/** The demo staff accounts of a tenant: one per role of its policy except admin. */
export async function demoStaffAccounts(
  kernel: Kernel,
  tenant: Tenant,
): Promise<Array<{ email: string; displayName: string; role: string }>> {
  const { policy } = await kernel.policies.current(tenant.tenantId);
  return Object.keys(policy.roles)
    .filter((role) => role !== 'admin')
    .map((role) => ({
      email: `${role.replaceAll('_', '-')}@${tenant.slug}.example`,
      displayName: `${role.replaceAll('_', ' ')} (demo)`,
      role,
    }));
}

export async function seedDemoStaff(kernel: Kernel, tenant: Tenant): Promise<DemoLogin[]> {
  const logins: DemoLogin[] = [];
  for (const account of await demoStaffAccounts(kernel, tenant)) {
    const staff = await createStaffUser(kernel, tenant.tenantId, { kind: 'system', job: 'demo' }, account);
    logins.push({
      tenantSlug: tenant.slug,
      email: staff.email,
      role: staff.role,
      oneTimePassword: staff.oneTimePassword,
    });
  }
  return logins;
}
