import type { Kernel } from '../../kernel/kernel.js';
import { sql } from 'kysely';
import type { Actor } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';
import { AppError } from '../../platform/errors.js';
import { buildRatingTable, parseTariffCsv, type RatingTable, type TariffRate } from './rating.js';

export interface TariffImportResult {
  rates: number;
  prefixes: number;
}

const INSERT_CHUNK = 2_000;

/**
 * Replaces the tenant's tariff with the one in the CSV (see rating.ts for the columns). The file
 * is the whole price list, validity history included, so importing it twice changes nothing.
 * An invalid file changes nothing and every problem is reported with its line.
 */
export async function importTariff(
  kernel: Kernel,
  tenantId: number,
  csvText: string,
  options: { timeZone?: string; onProgress?: (done: number, total: number) => void } = {},
): Promise<TariffImportResult> {
  const parsed = parseTariffCsv(csvText, {
    now: kernel.clock.now(),
    ...(options.timeZone ? { timeZone: options.timeZone } : {}),
  });
  if (!parsed.ok) {
    const shown = parsed.errors.slice(0, 20).map((error) => `line ${error.line}: ${error.message}`);
    if (parsed.errors.length > shown.length) shown.push(`… and ${parsed.errors.length - shown.length} more`);
    throw new AppError('validation_failed', 'invalid tariff file', {
      publicMessage: `the tariff file has errors:\n${shown.join('\n')}`,
      details: {
        issues: parsed.errors
          .slice(0, 100)
          .map((error) => ({ path: 'body', line: error.line, message: error.message })),
      },
    });
  }
  // The import replaces the whole tariff: a file without rates would leave every call unrated.
  if (parsed.rates.length === 0) {
    throw new AppError('validation_failed', 'tariff file without rates', {
      publicMessage: 'the tariff file has no rates; the current tariff is kept',
    });
  }
  const importedAt = kernel.clock.now();
  await kernel.transact(tenantId, async (atx) => {
    // Imports of one tenant take turns: the later one replaces the earlier's rates whole, never
    // meets them half-written (attack S20-3).
    await sql`select pg_advisory_xact_lock(hashtextextended('kluis.tariff_import', ${tenantId}))`.execute(
      atx.tx,
    );
    await atx.tx.deleteFrom('tariff_rates').execute();
    options.onProgress?.(0, parsed.rates.length);
    for (let start = 0; start < parsed.rates.length; start += INSERT_CHUNK) {
      const chunk = parsed.rates.slice(start, start + INSERT_CHUNK);
      await atx.tx
        .insertInto('tariff_rates')
        .values(
          chunk.map((rate) => ({
            tenant_id: tenantId,
            prefix: rate.prefix,
            valid_from: rate.validFrom,
            valid_to: rate.validTo,
            price_per_minute_micros: rate.pricePerMinute,
            minimum_seconds: rate.minimumSeconds,
            increment_seconds: rate.incrementSeconds,
            connection_fee_micros: rate.connectionFee,
            scope: rate.scope ?? 'e164',
            destination_group: rate.group?.key ?? null,
            group_label: rate.group?.label ?? null,
            imported_at: importedAt,
          })),
        )
        .execute();
      options.onProgress?.(Math.min(start + INSERT_CHUNK, parsed.rates.length), parsed.rates.length);
    }
  });
  return { rates: parsed.rates.length, prefixes: new Set(parsed.rates.map((rate) => rate.prefix)).size };
}

/** The tenant's tariff as an in-memory trie (rating is a lookup per call, never SQL per call). */
export async function loadRatingTable(tx: Tx): Promise<RatingTable> {
  const rows = await tx
    .selectFrom('tariff_rates')
    .select([
      'prefix',
      'valid_from',
      'valid_to',
      'price_per_minute_micros',
      'minimum_seconds',
      'increment_seconds',
      'connection_fee_micros',
      'scope',
      'destination_group',
      'group_label',
    ])
    .execute();
  const rates: TariffRate[] = rows.map((row) => ({
    prefix: row.prefix,
    pricePerMinute: Number(row.price_per_minute_micros),
    minimumSeconds: row.minimum_seconds,
    incrementSeconds: row.increment_seconds,
    connectionFee: Number(row.connection_fee_micros),
    validFrom: row.valid_from,
    validTo: row.valid_to,
    ...(row.scope === 'dialled' ? { scope: 'dialled' as const } : {}),
    ...(row.destination_group !== null
      ? { group: { key: row.destination_group, label: row.group_label ?? row.destination_group } }
      : {}),
  }));
  return buildRatingTable(rates);
}

/** Roles that may read and replace the price list (not personal data: no purpose, a role check). */
const TARIFF_ROLES = new Set(['admin', 'billing']);

export function mayManageTariff(role: string): boolean {
  return TARIFF_ROLES.has(role);
}

export function assertMayManageTariff(actor: Actor): void {
  if (actor.kind === 'staff' && !mayManageTariff(actor.role)) {
    throw new AppError('role_not_allowed', `role ${actor.role} may not manage the tariff`, {
      publicMessage: `role ${actor.role} may not manage the tariff`,
    });
  }
}

export interface TariffRateView {
  prefix: string;
  scope: 'e164' | 'dialled';
  group: string | null;
  groupLabel: string | null;
  validFrom: Date;
  validTo: Date | null;
  pricePerMinuteMicros: number;
  minimumSeconds: number;
  incrementSeconds: number;
  connectionFeeMicros: number;
}

/** Where a page of the price list ends: its last rate's key. */
export interface TariffCursor {
  prefix: string;
  scope: string;
  validFrom: Date;
}

/** The tenant's price list, by prefix and validity, a page at a time (cursor: the last prefix + start). */
export async function listTariffRates(
  kernel: Kernel,
  tenantId: number,
  actor: Actor,
  page: { limit: number; after?: TariffCursor },
): Promise<{ items: TariffRateView[]; next: TariffCursor | null }> {
  assertMayManageTariff(actor);
  const rows = await kernel.plain(tenantId, (tx) => {
    let query = tx
      .selectFrom('tariff_rates')
      .select([
        'prefix',
        'valid_from',
        'valid_to',
        'price_per_minute_micros',
        'minimum_seconds',
        'increment_seconds',
        'connection_fee_micros',
        'scope',
        'destination_group',
        'group_label',
      ])
      .orderBy('prefix')
      .orderBy('scope')
      .orderBy('valid_from')
      .limit(page.limit + 1);
    if (page.after) {
      const { prefix, scope, validFrom } = page.after;
      query = query.where(sql<boolean>`(prefix, scope, valid_from) > (${prefix}, ${scope}, ${validFrom})`);
    }
    return query.execute();
  });
  const items = rows.slice(0, page.limit).map((row) => ({
    prefix: row.prefix,
    scope: row.scope,
    group: row.destination_group,
    groupLabel: row.group_label,
    validFrom: row.valid_from,
    validTo: row.valid_to,
    pricePerMinuteMicros: Number(row.price_per_minute_micros),
    minimumSeconds: row.minimum_seconds,
    incrementSeconds: row.increment_seconds,
    connectionFeeMicros: Number(row.connection_fee_micros),
  }));
  const last = items.at(-1);
  return {
    items,
    next:
      rows.length > page.limit && last
        ? { prefix: last.prefix, scope: last.scope, validFrom: last.validFrom }
        : null,
  };
}
