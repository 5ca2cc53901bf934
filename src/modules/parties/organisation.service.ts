import { z } from 'zod';
import { parseEnterpriseNumber } from '../../kernel/identifiers/enterprise-number.js';
import type { Kernel } from '../../kernel/kernel.js';
import { AppError } from '../../platform/errors.js';
import { parseInput } from '../../platform/validation.js';
import { assertFreeTextAllowed, tableMap } from '../../kernel/datamap/free-text.js';
import { partiesDataMap } from './datamap.js';

export const createOrganisationInputSchema = z.object({
  name: z.string().trim().min(1).max(200),
  enterpriseNumber: z.string().trim().min(1).max(20).nullish(),
  country: z
    .string()
    .regex(/^[A-Z]{2}$/, 'expected an ISO 3166 country code')
    .default('BE'),
});

export type CreateOrganisationInput = z.input<typeof createOrganisationInputSchema>;

export interface Organisation {
  organisationId: number;
  name: string;
  /** 10 digits, e.g. 0649503981. */
  enterpriseNumber: string | null;
  country: string;
}

/**
 * Business customers are legal persons: their name and enterprise number are not personal
 * data, so no gate decision is needed (their contact persons are people, and are gated).
 */
export async function createOrganisation(
  kernel: Kernel,
  tenantId: number,
  input: CreateOrganisationInput,
): Promise<Organisation> {
  const valid = parseInput(createOrganisationInputSchema, input);
  assertFreeTextAllowed(tableMap(partiesDataMap, 'organisations'), [
    { column: 'name', field: 'name', value: valid.name },
  ]);
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
        tenant_id: tenantId,
        name: valid.name,
        enterprise_number: enterpriseNumber,
        country: valid.country,
      })
      .returning(['organisation_id', 'name', 'enterprise_number', 'country'])
      .executeTakeFirstOrThrow();
    return present(row);
  });
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
      .select(['organisation_id', 'name', 'enterprise_number', 'country'])
      .where('organisation_id', '=', organisationId)
      .executeTakeFirst(),
  );
  if (!row)
    throw new AppError('not_found', 'no such organisation', { publicMessage: 'no such organisation' });
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
      .select(['organisation_id', 'name', 'enterprise_number', 'country'])
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

function present(row: {
  organisation_id: number;
  name: string;
  enterprise_number: string | null;
  country: string;
}): Organisation {
  return {
    organisationId: row.organisation_id,
    name: row.name,
    enterpriseNumber: row.enterprise_number,
    country: row.country,
  };
}
