import type { AuditEvent, AuditedTx } from '../../kernel/audit/index.js';
import type { TableDataMap } from '../../kernel/datamap/datamap.js';
import {
  eraseCategories,
  eraseEndedSilences,
  eraseSubject,
  eraseSubjects,
  finishPendingKeyDestructions,
  isErasureHeld,
  journalPendingErasures,
} from '../../kernel/erasure/index.js';
import { AccessDenied } from '../../kernel/gate/gate.js';
import { endAnnouncedRestrictions } from '../../kernel/subjects/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Policy } from '../../kernel/policy/policy.schema.js';
import { AppError } from '../../platform/errors.js';
import { reachTestHook } from '../../platform/test-hooks.js';
import { releaseExpiredInvoices } from '../billing/index.js';
import { purgeWebsiteRecords } from '../cookies/index.js';
import { readPurgeHolds } from './document-release.service.js';
import { findErasurePurpose, judgePeople, RETENTION_ACTOR, today, type PersonVerdict } from './evaluation.js';

export { RETENTION_ACTOR };

/** The audit action of a deletion certificate. */
export const CERTIFICATE_ACTION = 'retention.certificate';

export interface SweepResult {
  asOf: string;
  /** Persons erased whole (key shredded unless held encrypted data needs it). */
  peopleErased: number;
  /** Persons of whom only some categories were erased. */
  peoplePartlyErased: number;
  /** Persons with something due that a hold kept (legal hold, dispute, rights request, restriction). */
  peopleHeld: number;
  /**
   * Of those, persons kept for their access or portability request not yet delivered (VK-14,
   * decision 0970); their documents' release waits too.
   */
  peopleHeldForRequests: number;
  /** Of those, persons kept because they restricted processing (VX-14, Art. 18, decision 1200). */
  peopleHeldForRestriction: number;
  /**
   * Persons the gate refused the retention job (audited): when judging them (their clocks were
   * not read, they are kept) or when erasing them; the sweep went on.
   */
  peopleRefused: number;
  /** Rows deleted or emptied, over all tables. */
  rows: number;
  /** Documents whose accounting hold ended, unlinked from the person. */
  documentsReleased: number;
  /** Of the documents whose hold ended, those kept for an access or portability request. */
  documentsHeldForRequests: number;
  /** Of the documents whose hold ended, those kept for a restriction of processing (decision 1200). */
  documentsHeldForRestriction: number;
  /** Website visits and cookie receipts past their retention, deleted (modules/cookies). */
  websiteVisits: number;
  cookieReceipts: number;
  /** Cookie receipts past their retention kept: linked to a person whose request runs (decision 1040). */
  cookieReceiptsHeldForRequests: number;
  /** Cookie receipts past their retention kept: linked to a person who restricted processing. */
  cookieReceiptsHeldForRestriction: number;
  /** Links of erased persons to authority requests, kept while their silence ran (decision 0470). */
  silencedLinks: number;
}

export interface SweepOptions {
  /** Called after each batch or person the sweep acted on (a terminal's progress line). */
  onProgress?: (done: number) => void;
  /** Whole persons erased per transaction (decision 0191); default 500. */
  batchSize?: number;
}

/** Whole persons per erasure transaction: large enough to amortise, small enough to hold few locks. */
export const DEFAULT_SWEEP_BATCH = 500;

/**
 * The retention sweep (VK-13, VK-14, VX-8, G-1): erases what is due today through the same
 * data-map erasure as an Art. 17 request, under an erase grant of the gate, and leaves a deletion
 * certificate in the audit log in the erasure's own transaction. Resumable and idempotent by
 * construction: every person is judged from what is still stored, so after a crash the next run
 * finds erased data gone (nothing is erased or certified twice) and the rest still due.
 */
export async function runRetentionSweep(
  kernel: Kernel,
  dataMap: readonly TableDataMap[],
  tenantId: number,
  options: SweepOptions = {},
): Promise<SweepResult> {
  // Keys whose destruction a crashed erasure left pending go first.
  await finishPendingKeyDestructions(kernel, [tenantId]);
  // And erasures a crash left out of the key store's journal (a restore must erase them again).
  await journalPendingErasures(kernel, tenantId);
  const asOf = today(kernel);
  // Restrictions whose lifting was announced to the person (Art. 18(3)) end on their day, before
  // anyone is judged: from then the person is judged as usual (decision 1200).
  await kernel.transact(tenantId, (atx) => endAnnouncedRestrictions(atx, asOf));
  const result: SweepResult = {
    asOf,
    peopleErased: 0,
    peoplePartlyErased: 0,
    peopleHeld: 0,
    peopleHeldForRequests: 0,
    peopleHeldForRestriction: 0,
    peopleRefused: 0,
    rows: 0,
    documentsReleased: 0,
    documentsHeldForRequests: 0,
    documentsHeldForRestriction: 0,
    websiteVisits: 0,
    cookieReceipts: 0,
    cookieReceiptsHeldForRequests: 0,
    cookieReceiptsHeldForRestriction: 0,
    silencedLinks: 0,
  };
  let done = 0;
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_SWEEP_BATCH);
  let batch: PersonVerdict[] = [];
  // Persons who go whole are erased in batches, one transaction each; a kill loses at most the
  // batch in flight (rolled back) and the next run judges them again.
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const verdicts = batch;
    batch = [];
    const counted = await erasePeople(kernel, dataMap, tenantId, verdicts);
    result.peopleErased += counted.erased;
    result.peopleRefused += counted.refused;
    result.rows += counted.rows;
    done += verdicts.length;
    options.onProgress?.(done);
    await reachTestHook(`retention.after-person-${done}`);
  };
  // Persons whose access or portability request is not yet delivered: their documents stay linked.
  const askedForData: number[] = [];
  for await (const verdict of judgePeople(kernel, dataMap, tenantId, asOf)) {
    if (verdict.refused) {
      result.peopleRefused += 1;
      continue;
    }
    if (verdict.holds.some((hold) => hold.kind === 'rights_request')) askedForData.push(verdict.subjectId);
    if (verdict.scope === 'none') continue;
    if (verdict.blockedBy) {
      result.peopleHeld += 1;
      if (verdict.blockedBy.kind === 'rights_request') result.peopleHeldForRequests += 1;
      if (verdict.blockedBy.kind === 'restriction') result.peopleHeldForRestriction += 1;
      continue;
    }
    if (verdict.scope === 'person' && verdict.binding) {
      batch.push(verdict);
      if (batch.length >= batchSize) await flush();
      continue;
    }
    let rows: number | undefined;
    try {
      rows = await erasePerson(kernel, dataMap, tenantId, verdict);
    } catch (error) {
      // A hold placed since the evaluation keeps the person (decision 0415).
      if (isErasureHeld(error)) {
        result.peopleHeld += 1;
        continue;
      }
      // The gate's refusal is audited (a subject type no erasing purpose covers, say); the
      // others' sweep goes on.
      if (!(error instanceof AccessDenied)) throw error;
      result.peopleRefused += 1;
      continue;
    }
    if (rows !== undefined) {
      if (verdict.scope === 'person') result.peopleErased += 1;
      else result.peoplePartlyErased += 1;
      result.rows += rows;
    }
    done += 1;
    options.onProgress?.(done);
    await reachTestHook(`retention.after-person-${done}`);
  }
  await flush();
  // Every person a request or a restriction holds, judged or not: their documents and linked
  // receipts wait too (decisions 1040, 1200).
  const purgeHolds = await readPurgeHolds(kernel, tenantId, asOf);
  const keepSubjects = [...new Set([...askedForData, ...purgeHolds.keys()])];
  const isRestricted = (subjectId: number): boolean => purgeHolds.get(subjectId)?.kind === 'restriction';
  const documents = await releaseExpiredInvoices(kernel, tenantId, { today: asOf, keepSubjects });
  result.documentsReleased = documents.invoices;
  result.documentsHeldForRestriction = documents.kept.filter((kept) => isRestricted(kept.subjectId)).length;
  result.documentsHeldForRequests = documents.kept.length - result.documentsHeldForRestriction;
  await reachTestHook('retention.before-website-purge');
  const website = await purgeWebsiteRecords(kernel, tenantId, { keepSubjects });
  result.websiteVisits = website.visits;
  result.cookieReceipts = website.receipts;
  for (const [subjectId, receipts] of website.receiptsHeldBy) {
    if (isRestricted(subjectId)) result.cookieReceiptsHeldForRestriction += receipts;
  }
  result.cookieReceiptsHeldForRequests = Math.max(
    0,
    website.receiptsHeld - result.cookieReceiptsHeldForRestriction,
  );
  result.silencedLinks = await eraseEndedSilences(kernel, dataMap, tenantId);
  return result;
}

/**
 * Erases whole persons in one transaction (`eraseSubjects`): one gate decision for the batch, a
 * deletion certificate per person in the same transaction (decision 0191). A refusal of the whole
 * batch (role or purpose) falls back to one person at a time, so each refusal is counted as before.
 */
async function erasePeople(
  kernel: Kernel,
  dataMap: readonly TableDataMap[],
  tenantId: number,
  verdicts: readonly PersonVerdict[],
): Promise<{ erased: number; refused: number; rows: number }> {
  const { policy } = await kernel.policies.current(tenantId);
  const bySubject = new Map(verdicts.map((verdict) => [verdict.subjectId, verdict]));
  const counted = { erased: 0, refused: 0, rows: 0 };
  try {
    const { refused } = await eraseSubjects(kernel, dataMap, {
      tenantId,
      actor: RETENTION_ACTOR,
      purpose: erasurePurpose(policy),
      subjectIds: verdicts.map((verdict) => verdict.subjectId),
      withinErasure: (atx, outcomes) => {
        for (const outcome of outcomes) {
          const verdict = bySubject.get(outcome.subjectId);
          // Another sweep got there first: its certificate stands, this one adds none.
          if (!verdict?.binding || outcome.alreadyErased) continue;
          const kind = policy.retentionRules[verdict.binding.rule]?.kind ?? verdict.binding.rule;
          const rows = outcome.erased.reduce((sum, table) => sum + table.rows, 0);
          const kept = outcome.kept.map((table) => `${table.table} ${table.rows} kept (${table.legalHold})`);
          const extra = [
            outcome.keyDestruction === 'scheduled' ? 'key shredded' : 'key kept for held data',
            ...kept,
          ].join('; ');
          atx.audit.record(
            certificate(
              verdict,
              verdict.binding.purpose,
              verdict.binding.rule,
              kind,
              outcome.erased,
              rows,
              extra,
            ),
          );
          counted.erased += 1;
          counted.rows += rows;
        }
        return Promise.resolve();
      },
    });
    counted.refused = refused.length;
    return counted;
  } catch (error) {
    if (!(error instanceof AccessDenied)) throw error;
  }
  const alone = { erased: 0, refused: 0, rows: 0 };
  for (const verdict of verdicts) {
    try {
      const rows = await erasePerson(kernel, dataMap, tenantId, verdict);
      if (rows !== undefined) {
        alone.erased += 1;
        alone.rows += rows;
      }
    } catch (error) {
      // A hold placed since the evaluation keeps the person (decision 0415).
      if (isErasureHeld(error)) continue;
      if (!(error instanceof AccessDenied)) throw error;
      alone.refused += 1;
    }
  }
  return alone;
}

/** Erases one person's due data; returns the rows erased, or undefined when nothing was left. */
async function erasePerson(
  kernel: Kernel,
  dataMap: readonly TableDataMap[],
  tenantId: number,
  verdict: PersonVerdict,
): Promise<number | undefined> {
  const binding = verdict.binding;
  if (!binding) return undefined;
  const { policy } = await kernel.policies.current(tenantId);
  const kind = policy.retentionRules[binding.rule]?.kind ?? binding.rule;
  const purpose = erasurePurpose(policy);
  let rows: number | undefined;
  const certify = (
    atx: AuditedTx,
    erased: ReadonlyArray<{ table: string; rows: number; categories: string[] }>,
    extra: string,
  ): void => {
    if (erased.length === 0 && verdict.scope === 'categories') return;
    rows = erased.reduce((sum, table) => sum + table.rows, 0);
    atx.audit.record(certificate(verdict, binding.purpose, binding.rule, kind, erased, rows, extra));
  };
  if (verdict.scope === 'person') {
    await eraseSubject(kernel, dataMap, {
      tenantId,
      actor: RETENTION_ACTOR,
      purpose,
      subjectId: verdict.subjectId,
      withinErasure: async (atx, outcome) => {
        // Another sweep got there first: its certificate stands, this one adds none.
        if (outcome.alreadyErased) return;
        const kept = outcome.kept.map((table) => `${table.table} ${table.rows} kept (${table.legalHold})`);
        certify(
          atx,
          outcome.erased,
          [outcome.keyDestruction === 'scheduled' ? 'key shredded' : 'key kept for held data', ...kept].join(
            '; ',
          ),
        );
        return Promise.resolve();
      },
    });
  } else {
    await eraseCategories(kernel, dataMap, {
      tenantId,
      actor: RETENTION_ACTOR,
      purpose,
      subjectId: verdict.subjectId,
      categories: verdict.due.map((due) => due.category),
      withinErasure: (atx, outcome) => {
        certify(atx, outcome.erased, '');
        return Promise.resolve();
      },
    });
  }
  return rows;
}

/**
 * The purpose the gate grants the erasure under: the one the policy declares for erasing whole
 * persons (`wholePerson: rights`, decision 0060), as for an Art. 17 request. The certificate names
 * the purpose whose retention ended.
 */
function erasurePurpose(policy: Policy): string {
  const found = findErasurePurpose(policy);
  if (!found) throw new AppError('invalid_policy', 'the policy has no purpose for erasing whole persons');
  return found;
}

/**
 * A deletion certificate: the rule, the categories, the counts; the time is the entry's own. The
 * person is named only by the audit log's pseudonym, and no value of theirs is in it.
 */
function certificate(
  verdict: PersonVerdict,
  purpose: string,
  rule: string,
  kind: string,
  erased: ReadonlyArray<{ table: string; rows: number; categories: string[] }>,
  rows: number,
  extra: string,
): AuditEvent {
  const tables = erased.map((table) => `${table.table} ${table.rows}`).join(', ');
  const reason = [
    `rule ${rule} (${kind})`,
    `scope ${verdict.scope}`,
    tables ? `erased ${tables}` : 'nothing left',
    extra,
  ]
    .filter((part) => part !== '')
    .join('; ');
  return {
    actor: { kind: 'system' as const, id: 'retention' },
    role: null,
    purpose,
    action: CERTIFICATE_ACTION,
    subjectIds: [verdict.subjectId],
    categories: [...new Set(erased.flatMap((table) => table.categories))].sort(),
    records: rows,
    decision: 'allowed' as const,
    reason: reason.length <= 300 ? reason : `${reason.slice(0, 297)}...`,
  };
}
