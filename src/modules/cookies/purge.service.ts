import { sql } from 'kysely';
import type { Kernel } from '../../kernel/kernel.js';
import { receiptRetentionMonths } from '../../kernel/policy/index.js';
import { visitRetentionMonths } from './cookie-policy.js';

export interface WebsitePurge {
  visits: number;
  receipts: number;
  /** Receipts past their retention kept because their consent id is linked to one of `keepSubjects`. */
  receiptsHeld: number;
  /** Of those, per held person linked to them: how many (a receipt linked to two counts for each). */
  receiptsHeldBy: Map<number, number>;
}

export interface WebsitePurgeOptions {
  /**
   * Persons whose access or portability request or restriction of processing holds their data
   * (decisions 0970, 1040, 1200): the receipts of the consent ids linked to them are rows of
   * theirs (decision 0290) and wait.
   */
  keepSubjects?: readonly number[];
}

/**
 * Erases what the policy no longer lets the website part keep (VK-3, VK-20), run by the daily
 * retention sweep (modules/retention): visits after the visit log's retention (the administration
 * purpose's rule; consented visits the longer of it and the statistics purpose's), receipts once
 * their choice has expired and the retention of what was collected under it has passed
 * (docs/decisions/0140), except those a person's running access request holds (decision 1040).
 * Visits name nobody and no request holds them. Idempotent: a second run finds nothing.
 */
export async function purgeWebsiteRecords(
  kernel: Kernel,
  tenantId: number,
  options: WebsitePurgeOptions = {},
): Promise<WebsitePurge> {
  const { policy } = await kernel.policies.current(tenantId);
  const now = kernel.clock.now();
  const visitMonths = visitRetentionMonths(policy);
  const receiptMonths = receiptRetentionMonths(policy);
  return kernel.plain(tenantId, async (tx) => {
    // Without a visit-log purpose nothing may be kept at all.
    const visits = await tx
      .deleteFrom('website_visits')
      .where(
        visitMonths === undefined
          ? sql<boolean>`true`
          : sql<boolean>`visited_at < ${now}::timestamptz - make_interval(months => case when analytics_consent then ${visitMonths.consented}::int else ${visitMonths.plain}::int end)`,
      )
      .executeTakeFirst();
    const expired = sql<boolean>`expires_at < ${now}::timestamptz - make_interval(months => ${receiptMonths}::int)`;
    // The link table is a filter only: no value of it is read out.
    const keep = [...(options.keepSubjects ?? [])];
    const linkedToHeld = sql<boolean>`exists (select 1 from cookie_consent_links l
      where l.tenant_id = cookie_receipts.tenant_id and l.consent_id = cookie_receipts.consent_id
        and l.subject_id = any(${keep}::bigint[]))`;
    const receipts = await tx
      .deleteFrom('cookie_receipts')
      .where(expired)
      .$if(keep.length > 0, (query) => query.where(sql<boolean>`not ${linkedToHeld}`))
      .executeTakeFirst();
    const held =
      keep.length === 0
        ? 0
        : Number(
            (
              await tx
                .selectFrom('cookie_receipts')
                .select((eb) => eb.fn.countAll<string>().as('held'))
                .where(expired)
                .where(linkedToHeld)
                .executeTakeFirstOrThrow()
            ).held,
          );
    const heldBy = new Map<number, number>();
    if (held > 0) {
      const rows = await sql<{ subject_id: string; receipts: string }>`
        select l.subject_id, count(*) as receipts
          from cookie_receipts r
          join cookie_consent_links l on l.tenant_id = r.tenant_id and l.consent_id = r.consent_id
         where ${expired} and l.subject_id = any(${keep}::bigint[])
         group by l.subject_id`.execute(tx);
      for (const row of rows.rows) heldBy.set(Number(row.subject_id), Number(row.receipts));
    }
    // An id's secret goes with its last receipt (decision 0410).
    await tx
      .deleteFrom('cookie_consent_keys')
      .where(
        sql<boolean>`not exists (select 1 from cookie_receipts r where r.tenant_id = cookie_consent_keys.tenant_id and r.consent_id = cookie_consent_keys.consent_id)`,
      )
      .execute();
    return {
      visits: Number(visits.numDeletedRows),
      receipts: Number(receipts.numDeletedRows),
      receiptsHeld: held,
      receiptsHeldBy: heldBy,
    };
  });
}
