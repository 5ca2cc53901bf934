import type { Grant } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';

const ENGAGEMENT = 'kluis.marketing.email_engagement';
const PROFILE = 'kluis.marketing.interest_profile';

/** VK-19: one open or click of a tracked recipient, under a grant for engagement data. */
export async function insertTrackingEvent(
  tx: Tx,
  grant: Grant,
  event: { subjectId: number; mailingId: number; kind: 'open' | 'click'; linkNo: number | null; at: Date },
): Promise<void> {
  grant.assertCovers(ENGAGEMENT, event.subjectId);
  grant.assertWritable();
  await tx
    .insertInto('tracking_events')
    .values({
      tenant_id: grant.tenantId,
      subject_id: event.subjectId,
      mailing_id: event.mailingId,
      kind: event.kind,
      link_no: event.linkNo,
      at: event.at,
    })
    .execute();
}

/** VK-6: one more click on a topic in the person's interest profile, under a grant for it. */
export async function addInterest(
  tx: Tx,
  grant: Grant,
  subjectId: number,
  topic: string,
  at: Date,
): Promise<void> {
  grant.assertCovers(PROFILE, subjectId);
  grant.assertWritable();
  await tx
    .insertInto('interest_profiles')
    .values({ tenant_id: grant.tenantId, subject_id: subjectId, topic, clicks: 1, updated_at: at })
    .onConflict((conflict) =>
      conflict.columns(['tenant_id', 'subject_id', 'topic']).doUpdateSet((eb) => ({
        clicks: eb('interest_profiles.clicks', '+', 1),
        updated_at: at,
      })),
    )
    .execute();
}
