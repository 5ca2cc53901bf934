import { sql } from 'kysely';
import type { AuditedTx } from '../../kernel/audit/index.js';
import type { TableDataMap } from '../../kernel/datamap/datamap.js';
import { authorizeBatch } from '../../kernel/gate/access.js';
import { AccessDenied, type Actor, type Grant } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Policy } from '../../kernel/policy/policy.schema.js';
import { isRestrictionInForce } from '../../kernel/subjects/index.js';
import type { Tx } from '../../platform/db.js';
import {
  readCallMonthBillingOf,
  readDocumentHolds,
  readOpenDisputes,
  type DocumentHold,
} from '../billing/index.js';
import { readContractClocks } from '../contracts/index.js';
import { readLastRequests, readRequestHolds, type RequestHold } from '../requests/index.js';
import { readCallMonths, TELEPHONY_CATEGORIES } from '../telephony/index.js';
import { belgianDay } from './dates.js';
import {
  callRecordsBilling,
  judgeCategory,
  type CategoryVerdict,
  type Claim,
  type PersonClocks,
} from './rules.js';

/** A hold that keeps a person's data although a rule ended: why, and until when. */
export type Hold =
  | { kind: 'legal_hold'; holdId: number; reason: string; endsOn: string; caseId: number | null }
  | { kind: 'accounting'; legalHold: string; invoices: number; until: string }
  /** Invoices of the person under an open dispute (billing): kept until it is settled. */
  | { kind: 'dispute'; invoices: number; since: string }
  /**
   * VK-14 "returned on request": the person's access or portability request, open or answered
   * by a link not yet downloaded, keeps what its export holds until `until` (decision 0970).
   */
  | {
      kind: 'rights_request';
      request: 'access' | 'portability';
      stage: 'open' | 'download';
      receivedOn: string;
      until: string;
    }
  /**
   * VX-14, Art. 18: the person had processing restricted ("only store"): everything of them is
   * kept, past any period, until staff lift the restriction (decision 1200).
   */
  | { kind: 'restriction'; since: string };

/** A hold that keeps everything of the person while it runs. */
export type BlockingHold = Extract<
  Hold,
  { kind: 'legal_hold' | 'dispute' | 'rights_request' | 'restriction' }
>;

/** What retention does with one person on a day. */
export interface PersonVerdict {
  subjectId: number;
  subjectType: string;
  /**
   * person: nothing of them may be kept, they are erased and their key shredded;
   * categories: only the due categories go; none: nothing is due.
   */
  scope: 'person' | 'categories' | 'none';
  /** The categories that go (scope categories) or went due (scope person). */
  due: CategoryVerdict[];
  /** The rule that decides: for a person, the claim that ended last. */
  binding: Claim | undefined;
  /** Categories that wait for the person to go: due, but their column cannot be emptied alone. */
  waiting: string[];
  /**
   * A legal hold placed on the person (alone or in a case), a disputed invoice, an access or
   * portability request not yet delivered, or a restriction of processing blocks everything.
   */
  blockedBy: BlockingHold | undefined;
  /** Holds that keep documents naming the person (kept even when the person goes). */
  holds: Hold[];
  /**
   * The gate refused the retention job this person (audited): their clocks were not read, so
   * nothing of them is judged due and nothing is erased; they are kept and counted (decision 0280).
   */
  refused: boolean;
}

const PAGE = 500;

/** The sweep acts as this system actor; the gate decides per page of people and per erasure. */
export const RETENTION_ACTOR: Actor = { kind: 'system', job: 'retention' };

/** The categories of the clocks read under the page's grant (last call, a legal hold's reason and end). */
const HOLD_CLOCK_CATEGORY = 'kluis.communication.correspondence';
const CLOCK_CATEGORIES = [TELEPHONY_CATEGORIES.callRecord, HOLD_CLOCK_CATEGORY] as const;

/**
 * The purpose the gate grants retention's erasures under: the one the policy declares for erasing
 * whole persons (`wholePerson: rights`, decision 0060), as for an Art. 17 request; undefined when
 * the policy has none (then retention erases no one).
 */
export function findErasurePurpose(policy: Policy): string | undefined {
  return Object.entries(policy.purposes).find(([, purpose]) => purpose.wholePerson === 'rights')?.[0];
}

/**
 * Walks every person of a tenant that retention may act on (not erased, not staff) in subject-id
 * order, in pages, and judges each one on `today` from the clocks the owning modules keep.
 * Staff accounts follow their employment (the staff module), not this sweep (decision 0095).
 */
export async function* judgePeople(
  kernel: Kernel,
  dataMap: readonly TableDataMap[],
  tenantId: number,
  today: string,
): AsyncGenerator<PersonVerdict> {
  const { policy } = await kernel.policies.current(tenantId);
  const mandatoryColumns = await readMandatoryColumns(kernel, tenantId);
  const tableCategories = new Map(
    dataMap.map((map) => [
      map.table,
      [...new Set(Object.values(map.personal).map((column) => column.category))],
    ]),
  );
  const purpose = findErasurePurpose(policy);
  let after = 0;
  for (;;) {
    const page = await kernel.transact(tenantId, async (atx) => {
      const tx = atx.tx;
      const subjects = await tx
        .selectFrom('data_subjects')
        .select([
          'subject_id',
          'subject_type',
          'last_activity_at',
          'last_received_at',
          'restricted_at',
          'restriction_lift_on',
        ])
        .where('erased_at', 'is', null)
        .where('subject_type', '<>', 'staff')
        .where('subject_id', '>', after)
        .orderBy('subject_id')
        .limit(PAGE)
        .execute();
      const grant = await authorizePage(
        kernel,
        atx,
        purpose,
        subjects.map((subject) => subject.subject_id),
      );
      const ids = grant ? [...grant.subjectIds] : [];
      const [contracts, calls, billed, requests, consents, present, holds, documents, disputes, asked] =
        await Promise.all([
          readContractClocks(tx, ids),
          grant ? readCallMonths(tx, grant) : new Map<number, string[]>(),
          readCallMonthBillingOf(tx, ids),
          readLastRequests(tx, ids),
          readConsents(tx, ids),
          readPresentCategories(tx, dataMap, ids),
          grant ? readLegalHolds(tx, grant, today) : new Map<number, Extract<Hold, { kind: 'legal_hold' }>>(),
          readDocumentHolds(tx, ids, today),
          readOpenDisputes(tx, ids),
          readRequestHolds(tx, ids, today),
        ]);
      return subjects.map((subject) => ({
        refused: !grant?.subjectIds.has(subject.subject_id),
        clocks: {
          subjectId: subject.subject_id,
          subjectType: subject.subject_type,
          lastActivityOn: belgianDay(subject.last_activity_at),
          lastReceivedOn: belgianDay(subject.last_received_at),
          contract: contracts.get(subject.subject_id),
          callsBilledDueOn: callRecordsBilling(
            calls.get(subject.subject_id) ?? [],
            billed.get(subject.subject_id),
          ),
          lastRequestOn: mapDay(requests.get(subject.subject_id)),
          consents: consents.get(subject.subject_id) ?? new Map(),
        } satisfies PersonClocks,
        present: present.get(subject.subject_id) ?? new Map<string, string[]>(),
        hold: holds.get(subject.subject_id),
        dispute: disputeHold(disputes.get(subject.subject_id)),
        request: requestHold(asked.get(subject.subject_id)),
        restriction: isRestrictionInForce(subject, today)
          ? restrictionHold(subject.restricted_at)
          : undefined,
        documents: documents.get(subject.subject_id),
      }));
    });
    for (const person of page) {
      yield person.refused
        ? keptUnjudged(person.clocks)
        : judgePerson(policy, person, mandatoryColumns, tableCategories, today);
    }
    const last = page.at(-1);
    if (!last || page.length < PAGE) return;
    after = last.clocks.subjectId;
  }
}

/**
 * One gate decision for a page of people, before any of their clocks is read: may the retention
 * job erase them under the policy's erasure purpose (the categories named are the clocks it reads
 * to judge)? A person the gate refuses is left out of the grant and kept; a refusal of the whole
 * page (no such purpose, say) keeps the whole page. Every refusal is audited in this transaction.
 */
async function authorizePage(
  kernel: Kernel,
  atx: AuditedTx,
  purpose: string | undefined,
  subjectIds: readonly number[],
): Promise<Grant | undefined> {
  // A policy without an erasure purpose lets retention erase no one: everyone is kept.
  if (subjectIds.length === 0 || purpose === undefined) return undefined;
  try {
    const { grant } = await authorizeBatch(
      kernel,
      atx,
      { tenantId: atx.tenantId, actor: RETENTION_ACTOR, purpose },
      'erase',
      CLOCK_CATEGORIES,
      subjectIds,
    );
    return grant;
  } catch (error) {
    if (!(error instanceof AccessDenied)) throw error;
    atx.audit.record(error.auditEvent);
    return undefined;
  }
}

/** A person the gate refused the retention job: nothing read, nothing due, kept. */
function keptUnjudged(clocks: PersonClocks): PersonVerdict {
  return {
    subjectId: clocks.subjectId,
    subjectType: clocks.subjectType,
    scope: 'none',
    due: [],
    binding: undefined,
    waiting: [],
    blockedBy: undefined,
    holds: [],
    refused: true,
  };
}

interface PersonFacts {
  clocks: PersonClocks;
  /** Category → the "table.column"s holding it for this person (tables not under a legal hold). */
  present: Map<string, string[]>;
  hold: Extract<Hold, { kind: 'legal_hold' }> | undefined;
  dispute: Extract<Hold, { kind: 'dispute' }> | undefined;
  request: Extract<Hold, { kind: 'rights_request' }> | undefined;
  restriction: Extract<Hold, { kind: 'restriction' }> | undefined;
  documents: DocumentHold | undefined;
}

/** A restriction in force (data_subjects.restricted_at), as a hold from the day it took effect. */
export function restrictionHold(
  restrictedAt: Date | null | undefined,
): Extract<Hold, { kind: 'restriction' }> | undefined {
  return restrictedAt ? { kind: 'restriction', since: belgianDay(restrictedAt) } : undefined;
}

function requestHold(hold: RequestHold | undefined): Extract<Hold, { kind: 'rights_request' }> | undefined {
  return hold && { kind: 'rights_request', ...hold };
}

function disputeHold(
  dispute: { invoices: number; since: Date } | undefined,
): Extract<Hold, { kind: 'dispute' }> | undefined {
  return dispute && { kind: 'dispute', invoices: dispute.invoices, since: belgianDay(dispute.since) };
}

function judgePerson(
  policy: Policy,
  facts: PersonFacts,
  mandatoryColumns: ReadonlySet<string>,
  tableCategories: ReadonlyMap<string, readonly string[]>,
  today: string,
): PersonVerdict {
  const verdicts = [...facts.present.keys()]
    .sort()
    .map((category) => judgeCategory(policy, facts.clocks, category, today));
  const due = verdicts.filter((verdict) => verdict.status === 'due');
  const holds: Hold[] = [];
  const accounting = Object.entries(policy.legalHolds).find(([, hold]) => {
    const rule = policy.retentionRules[hold.retention];
    return rule?.kind === 'accounting';
  });
  if (facts.documents) {
    holds.push({
      kind: 'accounting',
      legalHold: accounting?.[0] ?? 'accounting',
      invoices: facts.documents.invoices,
      until: facts.documents.holdUntil,
    });
  }
  const base = {
    subjectId: facts.clocks.subjectId,
    subjectType: facts.clocks.subjectType,
    refused: false,
    blockedBy: facts.hold ?? facts.dispute ?? facts.request ?? facts.restriction,
    holds: [
      ...(facts.hold ? [facts.hold] : []),
      ...(facts.dispute ? [facts.dispute] : []),
      ...(facts.request ? [facts.request] : []),
      ...(facts.restriction ? [facts.restriction] : []),
      ...holds,
    ],
  };
  if (due.length === 0) return { ...base, scope: 'none', due, binding: undefined, waiting: [] };
  // Nothing of the person may be kept when every category they have is due or claimed by none.
  if (verdicts.every((verdict) => verdict.status !== 'kept')) {
    return { ...base, scope: 'person', due, binding: latest(due), waiting: [] };
  }
  // A category whose column cannot be emptied alone (a row's required value, e.g. a person's
  // name) waits until the whole person goes.
  const erasableSet = new Set(due.map((verdict) => verdict.category));
  for (let changed = true; changed;) {
    changed = false;
    for (const category of [...erasableSet]) {
      const blocked = (facts.present.get(category) ?? []).some((holder) => {
        if (!mandatoryColumns.has(holder)) return false;
        // A row whose personal columns are all due is erased whole, required values included.
        const table = holder.slice(0, holder.indexOf('.'));
        return !(tableCategories.get(table) ?? []).every((other) => erasableSet.has(other));
      });
      if (blocked) {
        erasableSet.delete(category);
        changed = true;
      }
    }
  }
  const waiting = due
    .filter((verdict) => !erasableSet.has(verdict.category))
    .map((verdict) => verdict.category);
  const erasable = due.filter((verdict) => erasableSet.has(verdict.category));
  return {
    ...base,
    scope: erasable.length > 0 ? 'categories' : 'none',
    due: erasable,
    binding: latest(erasable),
    waiting,
  };
}

function latest(verdicts: readonly CategoryVerdict[]): Claim | undefined {
  let best: CategoryVerdict | undefined;
  for (const verdict of verdicts) {
    if (!best || (verdict.dueOn ?? '') > (best.dueOn ?? '')) best = verdict;
  }
  return best?.binding;
}

function mapDay(at: Date | undefined): string | undefined {
  return at === undefined ? undefined : belgianDay(at);
}

/** Consent-based purposes' states (the kernel's subject_purpose_states), as days. */
async function readConsents(
  tx: Tx,
  ids: readonly number[],
): Promise<Map<number, Map<string, { state: 'consented' | 'withdrawn' | 'objected'; on: string }>>> {
  const result = new Map<
    number,
    Map<string, { state: 'consented' | 'withdrawn' | 'objected'; on: string }>
  >();
  if (ids.length === 0) return result;
  const rows = await tx
    .selectFrom('subject_purpose_states')
    .select(['subject_id', 'purpose', 'state', 'changed_at'])
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val([...ids])))
    .execute();
  for (const row of rows) {
    // A sign-up still waiting for its confirmation has given no consent yet.
    if (row.state === 'pending') continue;
    const states =
      result.get(row.subject_id) ??
      new Map<string, { state: 'consented' | 'withdrawn' | 'objected'; on: string }>();
    states.set(row.purpose, { state: row.state, on: belgianDay(row.changed_at) });
    result.set(row.subject_id, states);
  }
  return result;
}

/**
 * Which categories each person still has data in, walking the data map (tables under a legal
 * hold are the hold's business). Counts of non-empty columns only: no value is read. One
 * statement for the page, a branch per table (the sweep's judging cost, decision 0971).
 */
async function readPresentCategories(
  tx: Tx,
  dataMap: readonly TableDataMap[],
  ids: readonly number[],
): Promise<Map<number, Map<string, string[]>>> {
  const result = new Map<number, Map<string, string[]>>();
  if (ids.length === 0) return result;
  const tables = dataMap.flatMap((map) => {
    const columns = Object.entries(map.personal);
    if (!map.subjectColumn || !map.erasure || map.erasure.kind === 'held' || columns.length === 0) return [];
    return [{ table: map.table, subjectColumn: map.subjectColumn, columns }];
  });
  if (tables.length === 0) return result;
  const branches = tables.map(
    ({ table, subjectColumn, columns }, index) => sql`(
      select ${sql.ref(subjectColumn)}::bigint as subject, ${index}::int as t,
             array[${sql.join(columns.map(([column]) => sql`count(${sql.ref(column)})::int`))}] as counts
        from ${sql.table(table)}
       where ${sql.ref(subjectColumn)} = any((select ids from page)::bigint[])
       group by 1)`,
  );
  const rows = await sql<{ subject: string; t: number; counts: number[] }>`
    with page as (select ${[...ids]}::bigint[] as ids)
    ${sql.join(branches, sql` union all `)}
    order by 1, 2`.execute(tx);
  for (const row of rows.rows) {
    const table = tables[row.t];
    if (!table) continue;
    const subject = Number(row.subject);
    const categories = result.get(subject) ?? new Map<string, string[]>();
    table.columns.forEach(([column, personal], index) => {
      if ((row.counts[index] ?? 0) === 0) return;
      const holders = categories.get(personal.category) ?? [];
      holders.push(`${table.table}.${column}`);
      categories.set(personal.category, holders);
    });
    result.set(subject, categories);
  }
  return result;
}

/**
 * Legal holds placed by a privacy officer that still run on `today`, per person of the grant (the
 * latest end): their reason and end (correspondence), read under the page's grant.
 */
async function readLegalHolds(
  tx: Tx,
  grant: Grant,
  today: string,
): Promise<Map<number, Extract<Hold, { kind: 'legal_hold' }>>> {
  const result = new Map<number, Extract<Hold, { kind: 'legal_hold' }>>();
  const ids = [...grant.subjectIds];
  for (const id of ids) grant.assertCovers(HOLD_CLOCK_CATEGORY, id);
  if (ids.length === 0) return result;
  const rows = await tx
    .selectFrom('legal_holds')
    .select(['hold_id', 'subject_id', 'reason', 'ends_on', 'case_id'])
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val([...ids])))
    .where('released_at', 'is', null)
    .where('ends_on', '>=', today)
    .orderBy('ends_on')
    .execute();
  for (const row of rows) {
    result.set(row.subject_id, {
      kind: 'legal_hold',
      holdId: row.hold_id,
      reason: row.reason,
      endsOn: row.ends_on,
      caseId: row.case_id,
    });
  }
  return result;
}

/** "table.column" of every column that may not be NULL: such a column is emptied only with its row. */
async function readMandatoryColumns(kernel: Kernel, tenantId: number): Promise<Set<string>> {
  const rows = await kernel.plain(tenantId, (tx) =>
    sql<{ name: string }>`
      select table_name || '.' || column_name as name from information_schema.columns
       where table_schema = 'public' and is_nullable = 'NO'`.execute(tx),
  );
  return new Set(rows.rows.map((row) => row.name));
}

/** Today in Belgium on the kernel's clock. */
export function today(kernel: Kernel): string {
  return belgianDay(kernel.clock.now());
}
