import type pg from 'pg';
import type { Actor } from '../../kernel/gate/gate.js';
import { auditActor } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tx } from '../../platform/db.js';
import { AppError } from '../../platform/errors.js';
import { formatInvoiceNumber } from './amounts.js';
import type { InvoiceSeries } from './billing.tables.js';

/**
 * Invoice numbering held after a data restore (attack S27-6, decision 1320). The counters are data
 * and go back with a restore of an older backup, but the numbers issued after that backup were sent
 * to customers: issuing them again would give two documents one number. A data restore therefore
 * holds every tenant's numbering; the operator resumes it once they know the last numbers sent.
 */

/** The stable reason of the refusal (`details.reason`), for callers that act on it. */
export const NUMBERING_HELD = 'invoice_numbering_held';

/** The command that lifts the hold, as the refusal and the restore print it. */
export function resumeCommand(slug: string): string {
  return `kluis invoices resume-numbering --tenant ${slug} --last-issued <last number sent, per series and year> (or --none-since-backup)`;
}

export interface HeldTenant {
  tenantId: number;
  slug: string;
}

/** Whether a restored schema has the holds (an archive made before migration 1320 has not). */
export async function numberingHoldsInSchema(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query<{ present: boolean }>(
    `select to_regclass('public.invoice_numbering_holds') is not null as present`,
  );
  return rows[0]?.present === true;
}

/**
 * Holds the numbering of every tenant of a restored database, in the restore's own open
 * transaction (`client`), so the hold commits with the data or not at all. A hold already in the
 * data (a backup made while held) is renewed with this archive's time.
 */
export async function holdNumberingAfterRestore(
  client: pg.ClientBase,
  backupCreatedAt: Date,
  heldAt: Date,
): Promise<HeldTenant[]> {
  const { rows: tenants } = await client.query<{ tenant_id: number; slug: string }>(
    'select tenant_id, slug from tenants order by tenant_id',
  );
  // The table's row-level security wants the tenant set: set per tenant, then put back as it was.
  const { rows: before } = await client.query<{ tenant: string | null }>(
    `select current_setting('app.tenant', true) as tenant`,
  );
  for (const tenant of tenants) {
    await client.query(`select set_config('app.tenant', $1, true)`, [String(tenant.tenant_id)]);
    await client.query(
      `insert into invoice_numbering_holds (tenant_id, held_at, backup_created_at, reason)
       values ($1, $2, $3, 'data_restored')
       on conflict (tenant_id) do update
         set held_at = excluded.held_at, backup_created_at = excluded.backup_created_at, reason = excluded.reason`,
      [tenant.tenant_id, heldAt, backupCreatedAt],
    );
  }
  await client.query(`select set_config('app.tenant', $1, true)`, [before[0]?.tenant ?? '']);
  return tenants.map((tenant) => ({ tenantId: tenant.tenant_id, slug: tenant.slug }));
}

/** The one line a restore prints about the holds it made. */
export function describeNumberingHolds(held: readonly HeldTenant[], backupCreatedAt: Date): string | null {
  if (held.length === 0) return null;
  const slugs = held.map((tenant) => tenant.slug).join(', ');
  return (
    `invoice numbering held for ${held.length === 1 ? 'tenant' : 'tenants'} ${slugs}: ` +
    `the data are those of a backup made at ${backupCreatedAt.toISOString()}, and invoices issued after it are not in the database; ` +
    `no invoice or credit note is numbered until ${resumeCommand(held.length === 1 ? slugs : '<slug>')}`
  );
}

/**
 * Refuses, before anything is written, to take a number while the tenant's numbering is held.
 * Called first by every path that numbers a document (`lockCounter`, the invoice run's start,
 * credit notes).
 */
export async function assertNumberingNotHeld(tx: Tx, tenantId: number): Promise<void> {
  const hold = await tx
    .selectFrom('invoice_numbering_holds as h')
    .innerJoin('tenants as t', 't.tenant_id', 'h.tenant_id')
    .select(['h.backup_created_at', 't.slug'])
    .where('h.tenant_id', '=', tenantId)
    .executeTakeFirst();
  if (!hold) return;
  const madeAt = hold.backup_created_at.toISOString();
  const message =
    `invoice numbering is held (${NUMBERING_HELD}): the data were restored from a backup made at ${madeAt}; ` +
    `invoices and credit notes issued after it are not in the database, so their numbers would be issued twice; ` +
    `resume with ${resumeCommand(hold.slug)}`;
  throw new AppError('conflict', message, {
    publicMessage: message,
    details: { reason: NUMBERING_HELD, backupCreatedAt: madeAt },
  });
}

/** The last number issued in one series and year, as printed (F2026-000237). */
export interface IssuedNumber {
  series: InvoiceSeries;
  year: number;
  number: number;
}

const PRINTED_NUMBER = /^([FC])(\d{4})-(\d{6,7})$/;

/** Reads a printed document number; null when it is not one. */
export function parseIssuedNumber(text: string): IssuedNumber | null {
  const match = PRINTED_NUMBER.exec(text.trim());
  if (!match) return null;
  const year = Number(match[2]);
  const number = Number(match[3]);
  if (year < 2000 || year > 2999 || number < 1) return null;
  return { series: match[1] as InvoiceSeries, year, number };
}

export type ResumeBasis = { lastIssued: readonly IssuedNumber[] } | { noneSinceBackup: true };

export interface CounterSet {
  series: InvoiceSeries;
  year: number;
  /** The counter as restored (0 when the data had none). */
  before: number;
  after: number;
}

export interface NumberingResumed {
  backupCreatedAt: Date;
  counters: CounterSet[];
}

/**
 * Lifts a tenant's hold. With the last numbers issued, each series/year's counter is set to at
 * least that number (never lower: a number in the data was issued); with `noneSinceBackup` the
 * counters stay as restored. Audited under the caller (the CLI's system actor).
 */
export async function resumeNumbering(
  kernel: Kernel,
  context: { tenantId: number; actor: Actor },
  basis: ResumeBasis,
): Promise<NumberingResumed> {
  const given = 'lastIssued' in basis ? basis.lastIssued : [];
  const keys = new Set(given.map((issued) => `${issued.series}${issued.year}`));
  if ('lastIssued' in basis && (given.length === 0 || keys.size !== given.length)) {
    throw new AppError('validation_failed', 'last issued numbers', {
      publicMessage: 'give one last number issued per series and year (e.g. F2026-000237)',
    });
  }
  return kernel.transact(context.tenantId, async (atx) => {
    const hold = await atx.tx
      .selectFrom('invoice_numbering_holds')
      .select('backup_created_at')
      .where('tenant_id', '=', context.tenantId)
      .forUpdate()
      .executeTakeFirst();
    if (!hold) {
      throw new AppError('conflict', 'numbering not held', {
        publicMessage: 'invoice numbering of this tenant is not held; nothing changed',
        details: { reason: 'invoice_numbering_not_held' },
      });
    }
    const counters: CounterSet[] = [];
    for (const issued of given) counters.push(await raiseCounter(atx.tx, context.tenantId, issued));
    await atx.tx.deleteFrom('invoice_numbering_holds').where('tenant_id', '=', context.tenantId).execute();
    atx.audit.record({
      actor: auditActor(context.actor),
      role: context.actor.kind === 'staff' ? context.actor.role : null,
      purpose: null,
      action: 'billing.numbering.resume',
      records: counters.length,
      decision: 'allowed',
      reason:
        counters.length === 0
          ? 'numbering resumed after a data restore: none issued since the backup, counters as restored'
          : `numbering resumed after a data restore: last issued given for ${counters
              .map((set) => `${set.series}${set.year}`)
              .join(', ')}`,
    });
    return { backupCreatedAt: hold.backup_created_at, counters };
  });
}

/** Sets one counter to at least the number given; answers what it was and what it is. */
async function raiseCounter(tx: Tx, tenantId: number, issued: IssuedNumber): Promise<CounterSet> {
  const before = await tx
    .selectFrom('invoice_counters')
    .select('last_number')
    .where('tenant_id', '=', tenantId)
    .where('series', '=', issued.series)
    .where('year', '=', issued.year)
    .forUpdate()
    .executeTakeFirst();
  const row = await tx
    .insertInto('invoice_counters')
    .values({ tenant_id: tenantId, series: issued.series, year: issued.year, last_number: issued.number })
    .onConflict((oc) =>
      oc.columns(['tenant_id', 'series', 'year']).doUpdateSet((eb) => ({
        last_number: eb.fn('greatest', [
          eb.ref('invoice_counters.last_number'),
          eb.ref('excluded.last_number'),
        ]),
      })),
    )
    .returning('last_number')
    .executeTakeFirstOrThrow();
  return {
    series: issued.series,
    year: issued.year,
    before: before?.last_number ?? 0,
    after: row.last_number,
  };
}

/** What the CLI prints for one counter. */
export function describeCounterSet(set: CounterSet): string {
  const next = formatInvoiceNumber(set.series, set.year, set.after + 1);
  return set.after === set.before
    ? `${set.series}${set.year}: kept at ${set.after} (the data hold that number already); next ${next}`
    : `${set.series}${set.year}: ${set.before} -> ${set.after}; next ${next}`;
}
