/**
 * `kluis policy check <file>`, `kluis statement …` and `kluis register …`: validate a policy file
 * and print what is generated from it. Output goes through commander's output configuration
 * (or the writers passed in), so tests can capture it and stdout stays clean for piping.
 */
import { readFile } from 'node:fs/promises';
import { Option } from 'commander';
import type { Command } from 'commander';
import {
  formatPolicyIssue,
  generateRegister,
  generateStatement,
  LANGUAGES,
  policyVersionHash,
  PROMISES,
  unenforcedPromises,
  renderPolicyJsonSchema,
  validatePolicySource,
} from '../kernel/policy/index.js';
import type { Language, Policy } from '../kernel/policy/index.js';
import { ENFORCED_PROMISES } from '../modules/enforcement.js';

export interface PolicyCommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** Distinct commander codes so callers (and tests) can tell our failures from usage errors. */
export const POLICY_ERROR_CODES = {
  invalid: 'kluis.policy.invalid',
  unreadable: 'kluis.policy.unreadable',
  language: 'kluis.policy.language',
} as const;

export function registerPolicyCommands(program: Command, io?: PolicyCommandIo): void {
  // Writers are looked up when a command runs, so output configured after registration counts.
  const writers = (command: Command): PolicyCommandIo => {
    if (io !== undefined) return io;
    const output = command.configureOutput();
    return {
      stdout: (text) => (output.writeOut === undefined ? process.stdout.write(text) : output.writeOut(text)),
      stderr: (text) => (output.writeErr === undefined ? process.stderr.write(text) : output.writeErr(text)),
    };
  };

  const policy = program
    .command('policy')
    .description('validate and inspect privacy policy files')
    .showHelpAfterError();

  policy
    .command('check')
    .description(
      'validate a policy file; prints a one-line summary, or every error as file:line:col path: message',
    )
    .argument('<file>', 'policy file (YAML)')
    .showHelpAfterError()
    .action(async (file: string, _options: unknown, command: Command) => {
      const out = writers(command);
      const loaded = await loadOrFail(file, command, out);
      out.stdout(`${summarize(file, loaded)}\n`);
      for (const key of unenforcedPromises(loaded, ENFORCED_PROMISES)) {
        out.stderr(
          `${file}: warning: no module of this installation keeps "${PROMISES[key].what}" (${PROMISES[key].requirements.join(', ')}); the statement leaves it out\n`,
        );
      }
    });

  policy
    .command('schema')
    .description('print the JSON Schema of policy files')
    .action((_options: unknown, command: Command) => {
      writers(command).stdout(renderPolicyJsonSchema());
    });

  program
    .command('statement')
    .description('print the privacy statement generated from a policy')
    .requiredOption('--policy <file>', 'policy file (YAML)')
    .addOption(new Option('--lang <lang>', 'language').choices(LANGUAGES).makeOptionMandatory())
    .addOption(new Option('--format <format>', 'output format').choices(['md', 'html']).default('md'))
    .showHelpAfterError()
    .action(async (options: { policy: string; lang: Language; format: 'md' | 'html' }, command: Command) => {
      const out = writers(command);
      const loaded = await loadOrFail(options.policy, command, out);
      if (!loaded.statement.languages.includes(options.lang)) {
        fail(
          command,
          `kluis: ${options.policy} offers the statement in ${loaded.statement.languages.join(', ')}, not in ${options.lang}`,
          POLICY_ERROR_CODES.language,
        );
      }
      out.stdout(
        generateStatement(loaded, {
          lang: options.lang,
          format: options.format,
          enforced: ENFORCED_PROMISES,
        }),
      );
    });

  program
    .command('register')
    .description('print the record of processing activities (GDPR Art. 30) generated from a policy')
    .requiredOption('--policy <file>', 'policy file (YAML)')
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'md']).default('csv'))
    .addOption(new Option('--lang <lang>', "language (default: the policy's first)").choices(LANGUAGES))
    .showHelpAfterError()
    .action(async (options: { policy: string; format: 'csv' | 'md'; lang?: Language }, command: Command) => {
      const out = writers(command);
      const loaded = await loadOrFail(options.policy, command, out);
      out.stdout(
        generateRegister(loaded, {
          format: options.format,
          ...(options.lang === undefined ? {} : { lang: options.lang }),
        }),
      );
    });
}

/** Reads and validates; on failure prints every issue and ends the command with exit code 1. */
async function loadOrFail(file: string, command: Command, out: PolicyCommandIo): Promise<Policy> {
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'cannot be read';
    return fail(command, `kluis: policy file ${file}: ${reason}`, POLICY_ERROR_CODES.unreadable);
  }
  const result = validatePolicySource(source, file);
  if (result.ok) return result.policy;
  for (const issue of result.issues) out.stderr(`${formatPolicyIssue(issue)}\n`);
  const count = result.issues.length;
  return fail(
    command,
    `kluis: ${file} is not a valid policy (${count} error${count === 1 ? '' : 's'})`,
    POLICY_ERROR_CODES.invalid,
  );
}

/**
 * Ends the command with exit code 1 through commander (so exitOverride works in tests). The usage
 * is for wrong arguments only; a bad policy file is not a usage error.
 */
function fail(command: Command, message: string, code: string): never {
  command.showHelpAfterError(false);
  return command.error(message, { exitCode: 1, code });
}

function summarize(file: string, policy: Policy): string {
  const c = policy.controller;
  const count = (record: Record<string, unknown>): number => Object.keys(record).length;
  return (
    `${file}: valid policy of ${c.legalName} ${c.legalForm} (${c.enterpriseNumber}), ` +
    `version ${policy.statement.version} of ${policy.statement.effectiveDate}: ` +
    `${count(policy.categories)} categories, ${count(policy.purposes)} purposes, ${count(policy.roles)} roles, ` +
    `${count(policy.recipients)} recipients, ${policy.statement.languages.join('/')} (${policyVersionHash(policy).slice(0, 19)})`
  );
}
