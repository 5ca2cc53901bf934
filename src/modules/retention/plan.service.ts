import type { TableDataMap } from '../../kernel/datamap/datamap.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Policy } from '../../kernel/policy/policy.schema.js';
import { countReleasableInvoices } from '../billing/index.js';
import { readPurgeHolds } from './document-release.service.js';
import { judgePeople, today, type Hold, type PersonVerdict } from './evaluation.js';

/** One person in the dry run: named by pseudonym only. */
export interface PlannedPerson {
  pseudonym: string;
  subjectType: string;
  scope: 'person' | 'categories';
  /** What goes, each with the rule that ended and the first day it is gone. */
  categories: Array<{ category: string; rule: string; purpose: string; dueOn: string }>;
  /** Categories that are due but go only with the whole person (a row's required value). */
  waiting: string[];
  /**
   * True when a hold keeps everything of the person for now: a legal hold, a disputed invoice,
   * their access or portability request not yet delivered (decision 0970), or their restriction
   * of processing (decision 1200).
   */
  held: boolean;
  /**
   * VK-14 "returned on request, else destroyed": a rule that ends says so (onExpiry); until the
   * sweep runs the person can still get their data with an access or portability request, which
   * holds the sweep until it is delivered (decision 0970).
   */
  returnOnRequest: boolean;
  /**
   * What is kept and why: a legal hold on the person, a disputed invoice, the person's request
   * (rights_request: until its due date or its link's last day), a restriction of processing
   * (restriction: until staff lift it), the accounting hold on documents.
   */
  holds: Hold[];
}

export interface RetentionPlan {
  /** The day the plan is for (YYYY-MM-DD): what is due on that day. */
  asOf: string;
  people: PlannedPerson[];
  /** Documents whose accounting hold has ended: the party data on them is unlinked. */
  documentsReleased: number;
  /** Persons the gate refused the retention job (audited): not judged, kept (decision 0280). */
  peopleRefused: number;
}

export interface PlanOptions {
  /** Plan for this day instead of today (YYYY-MM-DD, not before today). */
  until?: string;
}

/**
 * The dry run (VK-13, VK-14, VX-8): per person (pseudonym), what the sweep would erase on the
 * day, under which rule, and what is held and why. Reads clocks, counts and dates only.
 */
export async function planRetention(
  kernel: Kernel,
  dataMap: readonly TableDataMap[],
  tenantId: number,
  options: PlanOptions = {},
): Promise<RetentionPlan> {
  const asOf = options.until ?? today(kernel);
  const { policy } = await kernel.policies.current(tenantId);
  const people: PlannedPerson[] = [];
  let peopleRefused = 0;
  const askedForData: number[] = [];
  for await (const verdict of judgePeople(kernel, dataMap, tenantId, asOf)) {
    if (verdict.refused) peopleRefused += 1;
    if (verdict.holds.some((hold) => hold.kind === 'rights_request')) askedForData.push(verdict.subjectId);
    if (verdict.scope === 'none') continue;
    people.push(await presentVerdict(kernel, policy, tenantId, verdict));
  }
  // As the sweep: every person a request or a restriction holds, judged or not, keeps their documents.
  const purgeHolds = await readPurgeHolds(kernel, tenantId, asOf);
  const keepSubjects = [...new Set([...askedForData, ...purgeHolds.keys()])];
  const documentsReleased = await kernel.plain(tenantId, (tx) =>
    countReleasableInvoices(tx, asOf, keepSubjects),
  );
  return { asOf, people, documentsReleased, peopleRefused };
}

async function presentVerdict(
  kernel: Kernel,
  policy: Policy,
  tenantId: number,
  verdict: PersonVerdict,
): Promise<PlannedPerson> {
  return {
    pseudonym: await kernel.keys.pseudonym(tenantId, verdict.subjectId),
    subjectType: verdict.subjectType,
    scope: verdict.scope === 'person' ? 'person' : 'categories',
    categories: verdict.due.map((due) => ({
      category: due.category,
      rule: due.binding?.rule ?? '',
      purpose: due.binding?.purpose ?? '',
      dueOn: due.dueOn ?? '',
    })),
    waiting: verdict.waiting,
    held: verdict.blockedBy !== undefined,
    returnOnRequest: verdict.due.some(
      (due) =>
        due.binding !== undefined &&
        policy.retentionRules[due.binding.rule]?.onExpiry === 'return_on_request_else_erase',
    ),
    holds: verdict.holds,
  };
}
