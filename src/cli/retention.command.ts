import type { Command } from 'commander';
import { openRuntime } from '../main.js';
import { DATA_MAP } from '../modules/data-map.js';
import {
  DEFAULT_SWEEP_BATCH,
  isIsoDay,
  planRetention,
  runRetentionSweep,
  type RetentionPlan,
} from '../modules/retention/index.js';
import { findTenantBySlug } from '../modules/tenants/index.js';
import { AppError } from '../platform/errors.js';
import { createCliContext, exitWithFailure } from './context.js';
import { registerRetentionHoldCommands } from './retention-holds.command.js';
import { isProgressShown } from './progress.js';

function printPlan(plan: RetentionPlan): void {
  console.log(`retention plan for ${plan.asOf}: ${plan.people.length} people`);
  for (const person of plan.people) {
    const held = person.held ? ' HELD' : '';
    console.log(`${person.pseudonym} ${person.subjectType} ${person.scope}${held}`);
    for (const item of person.categories) {
      console.log(`  erase ${item.category} rule ${item.rule} (purpose ${item.purpose}) due ${item.dueOn}`);
    }
    for (const category of person.waiting) console.log(`  waits ${category} (goes with the person)`);
    if (person.returnOnRequest) {
      console.log('  returned on request, else destroyed: the person can still ask for a portability export');
    }
    for (const hold of person.holds) {
      if (hold.kind === 'legal_hold') {
        const scope = hold.caseId === null ? '' : ` (case ${hold.caseId})`;
        console.log(`  held by legal hold ${hold.holdId}${scope} until ${hold.endsOn}: ${hold.reason}`);
      } else if (hold.kind === 'rights_request') {
        const stage = hold.stage === 'open' ? 'open' : 'answered, not yet downloaded';
        console.log(
          `  held: ${hold.request} request of ${hold.receivedOn} ${stage}, until ${hold.until} (returned on request)`,
        );
      } else if (hold.kind === 'restriction') {
        console.log(
          `  held: processing restricted since ${hold.since} (GDPR Art. 18: only stored, until lifted)`,
        );
      } else if (hold.kind === 'dispute') {
        console.log(`  held: ${hold.invoices} disputed invoice(s) since ${hold.since}, until settled`);
      } else {
        console.log(`  kept: ${hold.invoices} invoices under the ${hold.legalHold} hold until ${hold.until}`);
      }
    }
  }
  console.log(`documents released from the accounting hold: ${plan.documentsReleased}`);
  if (plan.peopleRefused > 0)
    console.log(
      `kept unjudged (the gate refused the retention job, see the audit log): ${plan.peopleRefused}`,
    );
}

export function registerRetentionCommands(program: Command): void {
  const retention = program
    .command('retention')
    .description(
      'retention rules of the policy: dry run, sweep, legal holds and cases (VK-13, VK-14, VX-8, G-1)',
    );
  registerRetentionHoldCommands(retention);
  retention
    .command('plan')
    .description(
      'dry run: per person (pseudonym) what the sweep would erase, under which rule, and what is held',
    )
    .requiredOption('--tenant <slug>', 'tenant')
    .option('--until <YYYY-MM-DD>', 'what is due by this day (default: today)')
    .option('--json', 'print the plan as JSON')
    .action(async (options: { tenant: string; until?: string; json?: boolean }) => {
      try {
        if (options.until !== undefined && !isIsoDay(options.until)) {
          throw new AppError('validation_failed', 'bad --until', {
            publicMessage: '--until: expected YYYY-MM-DD',
          });
        }
        const { config, logger } = createCliContext();
        const runtime = await openRuntime(config, logger);
        try {
          const tenant = await findTenantBySlug(runtime.database.db, options.tenant);
          const plan = await planRetention(
            runtime.kernel,
            DATA_MAP,
            tenant.tenantId,
            options.until ? { until: options.until } : {},
          );
          if (options.json) console.log(JSON.stringify(plan, null, 2));
          else printPlan(plan);
        } finally {
          await runtime.close();
        }
      } catch (error) {
        exitWithFailure(error);
      }
      process.exit(0);
    });
  retention
    .command('run')
    .description('sweep now: erase what is due, leaving a deletion certificate per person in the audit log')
    .requiredOption('--tenant <slug>', 'tenant')
    .option('--batch <n>', `persons erased whole per transaction (default ${DEFAULT_SWEEP_BATCH})`)
    .action(async (options: { tenant: string; batch?: string }) => {
      try {
        if (options.batch !== undefined && !/^[1-9][0-9]{0,5}$/.test(options.batch)) {
          throw new AppError('validation_failed', 'bad --batch', {
            publicMessage: '--batch: expected a whole number from 1 to 999999',
          });
        }
        const { config, logger } = createCliContext();
        const runtime = await openRuntime(config, logger);
        try {
          const tenant = await findTenantBySlug(runtime.database.db, options.tenant);
          const progress = isProgressShown()
            ? (done: number) => process.stderr.write(`\rretention: ${done} people done`)
            : undefined;
          const result = await runRetentionSweep(runtime.kernel, DATA_MAP, tenant.tenantId, {
            ...(progress ? { onProgress: progress } : {}),
            ...(options.batch === undefined ? {} : { batchSize: Number(options.batch) }),
          });
          if (progress) process.stderr.write('\n');
          console.log(
            `retention ${result.asOf}: ${result.peopleErased} people erased, ${result.peoplePartlyErased} partly erased, ` +
              `${result.peopleHeld} held, ${result.peopleRefused} refused, ${result.rows} rows, ${result.documentsReleased} documents released, ` +
              `${result.websiteVisits} website visits and ${result.cookieReceipts} cookie receipts deleted, ` +
              `${result.peopleHeldForRequests} held for an access or portability request` +
              (result.documentsHeldForRequests + result.cookieReceiptsHeldForRequests > 0
                ? `; kept for an access or portability request: ${result.documentsHeldForRequests} documents, ` +
                  `${result.cookieReceiptsHeldForRequests} cookie receipts`
                : '') +
              (result.peopleHeldForRestriction +
                result.documentsHeldForRestriction +
                result.cookieReceiptsHeldForRestriction >
              0
                ? `; kept for a restriction of processing (GDPR Art. 18): ${result.peopleHeldForRestriction} people, ` +
                  `${result.documentsHeldForRestriction} documents, ${result.cookieReceiptsHeldForRestriction} cookie receipts`
                : ''),
          );
        } finally {
          await runtime.close();
        }
      } catch (error) {
        exitWithFailure(error);
      }
      process.exit(0);
    });
}
