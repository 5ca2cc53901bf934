import { oneLineText } from '../../platform/one-line.js';
import { z } from 'zod';
import { parseEnterpriseNumber } from '../../kernel/identifiers/enterprise-number.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tx } from '../../platform/db.js';
import { AppError } from '../../platform/errors.js';
import { parseInput } from '../../platform/validation.js';
import { assertFreeTextAllowed, tableMap } from '../../kernel/datamap/free-text.js';
import { partiesDataMap } from './datamap.js';

const countryCode = z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166 country code');

const registeredAddressSchema = z.object({
  street: oneLineText(200),
  postalCode: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9][A-Za-z0-9 -]{1,11}$/, 'expected a postal code'),
  city: oneLineText(100),
});

const billingAddressSchema = registeredAddressSchema.extend({ country: countryCode });

const organisationFacts = {
  /** The registered office; its country is `country`. */
  address: registeredAddressSchema.nullish(),
  /** Where invoices go when not to the registered office. */
  billingAddress: billingAddressSchema.nullish(),
  /** Whether the company is VAT-registered: its VAT number (BT-48) is on invoices only then. */
  vatRegistered: z.boolean().optional(),
  /** The company's own reference for its invoices (BT-10), e.g. a cost centre. */
  buyerReference: oneLineText(100).nullish(),
  /** A company established in another EU member state: its VAT number, with the country prefix. */
  vatNumber: z
    .string()
    .trim()
    .transform((value) => value.replace(/[\s.-]/g, '').toUpperCase())
    .pipe(
      z
        .string()
        .regex(/^[A-Z]{2}[A-Z0-9+*]{2,12}$/, 'a VAT number with its country prefix, e.g. NL859048436B01'),
    )
    .nullish(),
  /** Its Peppol address when it has one: an EAS scheme (e.g. 9944) and an identifier. */
  peppolEndpoint: z
    .object({
      scheme: z.string().regex(/^[0-9]{4}$/, 'an EAS code of four digits, e.g. 9944'),
      id: z
        .string()
        .trim()
        .regex(/^[A-Za-z0-9][A-Za-z0-9.:_-]{0,49}$/, 'letters, digits and . : _ -'),
    })
    .nullish(),
};

/** EU member states whose companies can be invoiced by their VAT number (Greece's prefix is EL). */
export const EU_VAT_PREFIX: Readonly<Record<string, string>> = {
  AT: 'AT',
  BG: 'BG',
  CY: 'CY',
  CZ: 'CZ',
  DE: 'DE',
  DK: 'DK',
  EE: 'EE',
  ES: 'ES',
  FI: 'FI',
  FR: 'FR',
  GR: 'EL',
  HR: 'HR',
  HU: 'HU',
  IE: 'IE',
  IT: 'IT',
  LT: 'LT',
  LU: 'LU',
  LV: 'LV',
  MT: 'MT',
  NL: 'NL',
  PL: 'PL',
  PT: 'PT',
  RO: 'RO',
  SE: 'SE',
  SI: 'SI',
  SK: 'SK',
};

/** A foreign company's VAT number must be of its own (EU) country; a Belgian one has its enterprise number. */
function assertVatNumberFits(country: string, vatNumber: string | null | undefined): void {
  if (vatNumber === null || vatNumber === undefined) return;
  const prefix = EU_VAT_PREFIX[country];
  if (!prefix || !vatNumber.startsWith(prefix)) {
    throw new AppError('validation_failed', 'vat number does not fit the country', {
      publicMessage:
        country === 'BE'
          ? 'vatNumber: a Belgian company is invoiced by its enterprise number; leave vatNumber empty'
          : `vatNumber: expected a VAT number of ${country} (prefix ${prefix ?? 'none: not an EU member state'})`,
      details: { issues: [{ path: 'body/vatNumber', message: 'does not fit the country' }] },
    });
  }
}

export const createOrganisationInputSchema = z.object({
  name: oneLineText(200),
  enterpriseNumber: z.string().trim().min(1).max(20).nullish(),
  country: countryCode.default('BE'),
  ...organisationFacts,
});

export const updateOrganisationInputSchema = z
  .object({ name: oneLineText(200).optional(), ...organisationFacts })
  .refine((input) => Object.keys(input).length > 0, { message: 'give at least one field to change' });

export type CreateOrganisationInput = z.input<typeof createOrganisationInputSchema>;
export type UpdateOrganisationInput = z.input<typeof updateOrganisationInputSchema>;

export interface PostalAddress {
  street: string;
  postalCode: string;
  city: string;
  country: string;
}

export interface Organisation {
  organisationId: number;
  name: string;
  /** 10 digits, e.g. 0649503981. */
  enterpriseNumber: string | null;
  country: string;
  address: PostalAddress | null;
  billingAddress: PostalAddress | null;
  vatRegistered: boolean;
  buyerReference: string | null;
  vatNumber: string | null;
  peppolEndpoint: { scheme: string; id: string } | null;
}

const COLUMNS = [
  'organisation_id',
  'name',
  'enterprise_number',
  'country',
  'street',
  'postal_code',
  'city',
  'billing_street',
  'billing_postal_code',
  'billing_city',
  'billing_country',
  'vat_registered',
  'buyer_reference',
  'vat_number',
  'peppol_scheme',
  'peppol_id',
] as const;

interface OrganisationRow {
  organisation_id: number;
  name: string;
  enterprise_number: string | null;
  country: string;
  street: string | null;
  postal_code: string | null;
  city: string | null;
  billing_street: string | null;
  billing_postal_code: string | null;
  billing_city: string | null;
  billing_country: string | null;
  vat_registered: boolean;
  buyer_reference: string | null;
  vat_number: string | null;
  peppol_scheme: string | null;
  peppol_id: string | null;
}

type Facts = Pick<z.output<typeof updateOrganisationInputSchema>, keyof typeof organisationFacts | 'name'>;

/** The columns an input sets: only the fields it names (undefined = unchanged, null = cleared). */
function factColumns(input: Facts): Partial<Omit<OrganisationRow, 'organisation_id'>> {
  assertFreeTextAllowed(tableMap(partiesDataMap, 'organisations'), [
    { column: 'name', field: 'name', value: input.name ?? null },
    { column: 'street', field: 'address.street', value: input.address?.street ?? null },
    { column: 'city', field: 'address.city', value: input.address?.city ?? null },
    { column: 'billing_street', field: 'billingAddress.street', value: input.billingAddress?.street ?? null },
    { column: 'billing_city', field: 'billingAddress.city', value: input.billingAddress?.city ?? null },
    { column: 'buyer_reference', field: 'buyerReference', value: input.buyerReference ?? null },
  ]);
  const columns: Partial<Omit<OrganisationRow, 'organisation_id'>> = {};
  if (input.name !== undefined) columns.name = input.name;
  if (input.address !== undefined) {
    columns.street = input.address?.street ?? null;
    columns.postal_code = input.address?.postalCode ?? null;
    columns.city = input.address?.city ?? null;
  }
  if (input.billingAddress !== undefined) {
    columns.billing_street = input.billingAddress?.street ?? null;
    columns.billing_postal_code = input.billingAddress?.postalCode ?? null;
    columns.billing_city = input.billingAddress?.city ?? null;
    columns.billing_country = input.billingAddress?.country ?? null;
  }
  if (input.vatRegistered !== undefined) columns.vat_registered = input.vatRegistered;
  if (input.buyerReference !== undefined) columns.buyer_reference = input.buyerReference ?? null;
  if (input.vatNumber !== undefined) columns.vat_number = input.vatNumber ?? null;
  if (input.peppolEndpoint !== undefined) {
    columns.peppol_scheme = input.peppolEndpoint?.scheme ?? null;
    columns.peppol_id = input.peppolEndpoint?.id ?? null;
  }
  return columns;
}

/**
 * Who registers and changes business customers: those who sell to them and bill them, and the
 * admin. Their facts are not personal, but they decide what invoices say (decision 0395).
 */
export const ORGANISATION_ROLES: ReadonlySet<string> = new Set(['admin', 'sales', 'billing']);

export function assertMayChangeOrganisations(role: string): void {
  if (ORGANISATION_ROLES.has(role)) return;
  throw new AppError('role_not_allowed', `role ${role} may not change organisations`, {
    publicMessage: `role ${role} may not register or change business customers`,
  });
}

/**
 * Business customers are legal persons: their name, enterprise number and addresses are not
 * personal data, so no gate decision is needed (their contact persons are people, and are gated).
 */
export async function createOrganisation(
  kernel: Kernel,
  tenantId: number,
  input: CreateOrganisationInput,
): Promise<Organisation> {
  const valid = parseInput(createOrganisationInputSchema, input);
  const columns = factColumns(valid);
  assertVatNumberFits(valid.country, valid.vatNumber);
  let enterpriseNumber: string | null = null;
  if (valid.enterpriseNumber) {
    if (valid.country !== 'BE') {
      throw new AppError('validation_failed', 'enterprise number outside BE', {
        publicMessage:
          'enterpriseNumber: only Belgian enterprise numbers are checked; leave it empty for other countries',
      });
    }
    const number = parseEnterpriseNumber(valid.enterpriseNumber);
    if (!number.ok)
      throw new AppError('validation_failed', 'bad enterprise number', {
        publicMessage: `enterpriseNumber: ${number.message}`,
      });
    enterpriseNumber = number.value;
  }
  return kernel.plain(tenantId, async (tx) => {
    if (enterpriseNumber) {
      const taken = await tx
        .selectFrom('organisations')
        .select('organisation_id')
        .where('enterprise_number', '=', enterpriseNumber)
        .executeTakeFirst();
      if (taken)
        throw new AppError('conflict', 'enterprise number taken', {
          publicMessage: 'an organisation with this enterprise number exists',
        });
    }
    const row = await tx
      .insertInto('organisations')
      .values({
        ...columns,
        tenant_id: tenantId,
        name: valid.name,
        enterprise_number: enterpriseNumber,
        country: valid.country,
      })
      .returning(COLUMNS)
      .executeTakeFirstOrThrow();
    return present(row);
  });
}

/** Changes a business customer's name, addresses, VAT registration or reference. */
export async function updateOrganisation(
  kernel: Kernel,
  tenantId: number,
  organisationId: number,
  input: UpdateOrganisationInput,
): Promise<Organisation> {
  const valid = parseInput(updateOrganisationInputSchema, input);
  const columns = factColumns(valid);
  const row = await kernel.plain(tenantId, async (tx) => {
    if (valid.vatNumber) {
      const current = await tx
        .selectFrom('organisations')
        .select('country')
        .where('organisation_id', '=', organisationId)
        .executeTakeFirst();
      if (!current) return undefined;
      assertVatNumberFits(current.country, valid.vatNumber);
    }
    return tx
      .updateTable('organisations')
      .set(columns)
      .where('organisation_id', '=', organisationId)
      .returning(COLUMNS)
      .executeTakeFirst();
  });
  if (!row) throw notFound();
  return present(row);
}

/** An organisation; its contact persons are people, listed through the gate (GET /api/v1/people?organisationId=). */
export async function getOrganisation(
  kernel: Kernel,
  tenantId: number,
  organisationId: number,
): Promise<Organisation> {
  const row = await kernel.plain(tenantId, (tx) =>
    tx
      .selectFrom('organisations')
      .select(COLUMNS)
      .where('organisation_id', '=', organisationId)
      .executeTakeFirst(),
  );
  if (!row) throw notFound();
  return present(row);
}

export async function listOrganisations(
  kernel: Kernel,
  tenantId: number,
  query: { name?: string; limit: number; cursor?: string },
): Promise<{ items: Organisation[]; nextCursor: string | null }> {
  const after = query.cursor ? Number.parseInt(query.cursor, 10) : 0;
  if (!Number.isInteger(after) || after < 0)
    throw new AppError('validation_failed', 'bad cursor', { publicMessage: 'cursor: invalid' });
  const rows = await kernel.plain(tenantId, (tx) => {
    let builder = tx
      .selectFrom('organisations')
      .select(COLUMNS)
      .where('organisation_id', '>', after)
      .orderBy('organisation_id')
      .limit(query.limit);
    if (query.name)
      builder = builder.where(
        'name',
        'ilike',
        `%${query.name.replaceAll('\\', '\\\\').replaceAll('%', '\\%').replaceAll('_', '\\_')}%`,
      );
    return builder.execute();
  });
  return {
    items: rows.map(present),
    nextCursor: rows.length === query.limit ? String(rows.at(-1)?.organisation_id) : null,
  };
}

/** What an invoice says of a business customer: the billing address, else the registered one. */
export interface InvoicedOrganisation {
  organisationId: number;
  name: string;
  enterpriseNumber: string | null;
  country: string;
  invoiceAddress: PostalAddress | null;
  vatRegistered: boolean;
  buyerReference: string | null;
  vatNumber: string | null;
  peppolEndpoint: { scheme: string; id: string } | null;
}

/** Business customers read inside another module's transaction (the invoice run's). */
export async function readOrganisationsForInvoices(
  tx: Tx,
  organisationIds: readonly number[],
): Promise<Map<number, InvoicedOrganisation>> {
  if (organisationIds.length === 0) return new Map();
  const rows = await tx
    .selectFrom('organisations')
    .select(COLUMNS)
    .where('organisation_id', '=', (eb) => eb.fn.any(eb.val([...new Set(organisationIds)])))
    .execute();
  return new Map(
    rows.map((row) => {
      const organisation = present(row);
      return [
        row.organisation_id,
        {
          organisationId: organisation.organisationId,
          name: organisation.name,
          enterpriseNumber: organisation.enterpriseNumber,
          country: organisation.country,
          invoiceAddress: organisation.billingAddress ?? organisation.address,
          vatRegistered: organisation.vatRegistered,
          buyerReference: organisation.buyerReference,
          vatNumber: organisation.vatNumber,
          peppolEndpoint: organisation.peppolEndpoint,
        },
      ];
    }),
  );
}

function notFound(): AppError {
  return new AppError('not_found', 'no such organisation', { publicMessage: 'no such organisation' });
}

function present(row: OrganisationRow): Organisation {
  return {
    organisationId: row.organisation_id,
    name: row.name,
    enterpriseNumber: row.enterprise_number,
    country: row.country,
    address:
      row.street !== null && row.postal_code !== null && row.city !== null
        ? { street: row.street, postalCode: row.postal_code, city: row.city, country: row.country }
        : null,
    billingAddress:
      row.billing_street !== null &&
      row.billing_postal_code !== null &&
      row.billing_city !== null &&
      row.billing_country !== null
        ? {
            street: row.billing_street,
            postalCode: row.billing_postal_code,
            city: row.billing_city,
            country: row.billing_country,
          }
        : null,
    vatRegistered: row.vat_registered,
    buyerReference: row.buyer_reference,
    vatNumber: row.vat_number,
    peppolEndpoint:
      row.peppol_scheme !== null && row.peppol_id !== null
        ? { scheme: row.peppol_scheme, id: row.peppol_id }
        : null,
  };
}
