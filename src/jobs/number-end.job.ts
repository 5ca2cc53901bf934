import type { Kernel } from '../kernel/kernel.js';
import { listEndedRelationsAmong, listRelationsRunOutOn } from '../modules/contracts/index.js';
import {
  endNumberPeriodsWithRelation,
  listHoldersWithPeriodsOpenAt,
  type NumberPeriodsEnd,
} from '../modules/telephony/index.js';
import { addDays, belgianDay } from '../platform/calendar.js';
import type { JobDefinition } from '../platform/job-queue.js';
import type { Logger } from '../platform/logger.js';
import { forEachTenant } from './each-tenant.js';

export const NUMBER_END_JOB = 'number-end';

/**
 * Days back the job looks for relations that ran out: yesterday, and the days before it in case a
 * night's run was missed (server down). Each day already handled ends nothing again.
 */
export const RUN_OUT_LOOKBACK_DAYS = 7;

export interface RunOutSummary {
  holders: number;
  ended: number;
  leftToStaff: number;
}

/**
 * For one tenant: the holders whose last contract ran out on its agreed end date in the last
 * RUN_OUT_LOOKBACK_DAYS days (yesterday first) lose their number periods as on a termination
 * (decision 1032; the dossier is not erased: only a written termination does that, 0092). Then,
 * the safety net (decision 1160): any holder still holding a number or line identifier whose
 * relation has ended (they had contracts, none runs or starts later), whatever the reason the
 * handler missed them, loses it the same way. One transaction per holder; a stop between holders
 * leaves the rest to the next run, which redoes nothing for the holders done.
 */
export async function runNumberEnds(
  kernel: Kernel,
  logger: Logger,
  tenantId: number,
  stopping?: AbortSignal,
): Promise<RunOutSummary> {
  const today = belgianDay(kernel.clock.now());
  const summary: RunOutSummary = { holders: 0, ended: 0, leftToStaff: 0 };
  const handled = new Set<number>();
  const count = (subjectId: number, result: NumberPeriodsEnd) => {
    handled.add(subjectId);
    summary.holders += 1;
    if (result.outcome === 'ended') summary.ended += 1;
    if (result.outcome === 'left_to_staff') summary.leftToStaff += 1;
  };
  for (let back = 1; back <= RUN_OUT_LOOKBACK_DAYS; back += 1) {
    const day = addDays(today, -back);
    for (const { subjectId, lastDay } of await listRelationsRunOutOn(kernel, tenantId, day)) {
      if (stopping?.aborted) return summary;
      const result = await endNumberPeriodsWithRelation(kernel, logger, {
        tenantId,
        subjectId,
        lastDay,
        trigger: 'run_out',
      });
      count(subjectId, result);
    }
  }
  // A holder the run-out pass handled (ended, or left to staff) is not taken twice in one run.
  const holders = (await listHoldersWithPeriodsOpenAt(kernel, tenantId, kernel.clock.now())).filter(
    (subjectId) => !handled.has(subjectId),
  );
  for (const { subjectId, lastDay } of await listEndedRelationsAmong(kernel, tenantId, holders, today)) {
    if (stopping?.aborted) return summary;
    const result = await endNumberPeriodsWithRelation(kernel, logger, {
      tenantId,
      subjectId,
      lastDay,
      trigger: 'no_contract',
    });
    count(subjectId, result);
  }
  return summary;
}

/**
 * Daily at 23:05 UTC, just after midnight in Brussels (00:05 in winter, 01:05 in summer), so a
 * run-out relation's periods end close to the midnight after its last day. Once across processes
 * (the queue), idempotent (`least(valid_to, end)`), crash-safe (one transaction per holder).
 */
export function numberEndJob(kernel: Kernel, logger: Logger): JobDefinition {
  return {
    name: NUMBER_END_JOB,
    cron: '5 23 * * *',
    catchUp: true,
    run: async (stopping) => {
      await forEachTenant(
        kernel,
        logger,
        NUMBER_END_JOB,
        async (tenant) => {
          const summary = await runNumberEnds(kernel, logger, tenant.tenantId, stopping);
          if (summary.holders > 0)
            logger.info({ tenantId: tenant.tenantId, ...summary }, 'ended relations handled');
        },
        stopping,
      );
    },
  };
}
