import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Actor } from '../kernel/gate/gate.js';
import type { Kernel } from '../kernel/kernel.js';
import { openRuntime } from '../main.js';
import { defaultPurpose } from '../modules/billing/index.js';
import {
  assignRatingPlan,
  createRatingPlan,
  rerateMonth,
  type PlanTarget,
} from '../modules/telephony/index.js';
import { findTenantBySlug, type Tenant } from '../modules/tenants/index.js';
import { AppError } from '../platform/errors.js';
import { createCliContext, exitWithFailure } from './context.js';

/** The operator at the console: a system actor; the gate still checks purpose and subjects. */
const CLI_ACTOR: Actor = { kind: 'system', job: 'cli' };

async function withTenant(
  slug: string,
  work: (kernel: Kernel, tenant: Tenant) => Promise<void>,
): Promise<void> {
  try {
    const { config, logger } = createCliContext();
    const runtime = await openRuntime(config, logger);
    try {
      await work(runtime.kernel, await findTenantBySlug(runtime.database.db, slug));
    } finally {
      await runtime.close();
    }
  } catch (error) {
    exitWithFailure(error);
  }
  process.exit(0);
}

function euros(micros: number): string {
  return (micros / 1_000_000).toFixed(2);
}

function wholeNumber(text: string, option: string): number {
  if (!/^[1-9]\d{0,14}$/.test(text)) {
    throw new AppError('validation_failed', 'bad number', {
      publicMessage: `${option}: a positive whole number`,
    });
  }
  return Number(text);
}

/** `kluis plans …`: rating plans on top of the tariff (issue 13, VX-5). */
export function registerRatingPlanCommands(program: Command): void {
  const plans = program
    .command('plans')
    .description(
      'rating plans: time bands, included minutes, on-net calls; who has which plan; re-rating a month (VX-5)',
    );
  plans
    .command('create')
    .description('create a plan from a JSON definition (timeBands, prices, included, onNetFree)')
    .requiredOption('--tenant <slug>', 'tenant')
    .requiredOption('--code <code>', 'plan code')
    .requiredOption('--name <name>', 'plan name')
    .argument('<definition.json>', 'the definition')
    .action(async (file: string, flags: { tenant: string; code: string; name: string }) => {
      await withTenant(flags.tenant, async (kernel, tenant) => {
        let definition: unknown;
        try {
          definition = JSON.parse(await readFile(file, 'utf8'));
        } catch {
          throw new AppError('validation_failed', 'bad JSON', { publicMessage: `${file}: not a JSON file` });
        }
        const plan = await createRatingPlan(kernel, tenant.tenantId, CLI_ACTOR, {
          code: flags.code,
          name: flags.name,
          definition,
        });
        console.log(`plan ${plan.code} created`);
      });
    });
  plans
    .command('assign')
    .description('give a plan to the tenant (default), a product or a customer from a day on')
    .requiredOption('--tenant <slug>', 'tenant')
    .requiredOption('--plan <code>', 'plan code')
    .requiredOption('--from <YYYY-MM-DD>', 'activation day (Brussels)')
    .option('--default', "the tenant's default plan")
    .option('--product <id>', 'a catalogue product')
    .option('--customer <subject>', "a customer's own plan")
    .action(
      async (flags: {
        tenant: string;
        plan: string;
        from: string;
        default?: boolean;
        product?: string;
        customer?: string;
      }) => {
        await withTenant(flags.tenant, async (kernel, tenant) => {
          const chosen = [flags.default === true, flags.product !== undefined, flags.customer !== undefined];
          if (chosen.filter(Boolean).length !== 1) {
            throw new AppError('validation_failed', 'one target', {
              publicMessage: 'give exactly one of --default, --product <id>, --customer <subject>',
            });
          }
          const target: PlanTarget = flags.product
            ? { kind: 'product', productId: wholeNumber(flags.product, '--product') }
            : flags.customer
              ? { kind: 'customer', subjectId: wholeNumber(flags.customer, '--customer') }
              : { kind: 'tenant' };
          await assignRatingPlan(
            kernel,
            {
              tenantId: tenant.tenantId,
              actor: CLI_ACTOR,
              purpose: await defaultPurpose(kernel, tenant.tenantId, 'billing'),
            },
            { planCode: flags.plan, target, validFrom: flags.from },
          );
          console.log(
            `plan ${flags.plan} applies to ${target.kind === 'tenant' ? 'the tenant' : `${target.kind} ${target.kind === 'product' ? target.productId : target.subjectId}`} from ${flags.from}`,
          );
        });
      },
    );
  plans
    .command('rerate')
    .description('rate a month that is not invoiced yet again under the plans in force; report what changed')
    .requiredOption('--tenant <slug>', 'tenant')
    .requiredOption('--month <YYYY-MM>', 'the billing month')
    .option('--dry-run', 'report only, change nothing')
    .option('--calls-purpose <key>', 'the purpose the call records are written under', 'call_billing')
    .action(async (flags: { tenant: string; month: string; dryRun?: boolean; callsPurpose: string }) => {
      await withTenant(flags.tenant, async (kernel, tenant) => {
        const report = await rerateMonth(
          kernel,
          {
            tenantId: tenant.tenantId,
            actor: CLI_ACTOR,
            purpose: await defaultPurpose(kernel, tenant.tenantId, 'billing'),
          },
          { month: flags.month, dryRun: flags.dryRun === true, callsPurpose: flags.callsPurpose },
        );
        console.log(
          `${report.month}${report.dryRun ? ' (dry run)' : ''}: ${report.calls} calls of ${report.customers} customer(s), ` +
            `${report.changedCalls} changed, ${report.unrated} without a rate; total € ${euros(report.beforeMicros)} → € ${euros(report.afterMicros)}`,
        );
        for (const change of report.changes) {
          console.log(
            `customer ${change.subjectId}: ${change.changedCalls} call(s) changed, € ${euros(change.beforeMicros)} → € ${euros(change.afterMicros)}`,
          );
        }
        if (report.skippedInvoiced.length > 0)
          console.log(`already invoiced, left alone: customer(s) ${report.skippedInvoiced.join(', ')}`);
        if (report.refused.length > 0)
          console.log(`refused by the gate: customer(s) ${report.refused.join(', ')}`);
      });
    });
}
