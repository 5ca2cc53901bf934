import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { POLICY_ERROR_CODES, registerPolicyCommands } from './policy.command.js';
import { loadPolicyFile, PROMISES, unenforcedPromises } from '../kernel/policy/index.js';
import { ENFORCED_PROMISES } from '../modules/enforcement.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const VOICEKING = join(root, 'policies/voiceking.yaml');
const VOXTRA = join(root, 'policies/voxtra.yaml');

interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  code?: string;
}

/** Runs the policy commands in-process, capturing output through commander's own writers. */
async function run(...args: string[]): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const program = new Command()
    .name('kluis')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => {
        stdout += text;
      },
      writeErr: (text) => {
        stderr += text;
      },
    });
  registerPolicyCommands(program);
  try {
    await program.parseAsync(args, { from: 'user' });
    return { stdout, stderr, exitCode: 0 };
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return { stdout, stderr, exitCode: error.exitCode, code: error.code };
  }
}

function tempPolicy(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kluis-policy-'));
  const file = join(dir, 'broken.yaml');
  writeFileSync(file, source);
  return file;
}

describe('kluis policy check', () => {
  it('exits 0 with a one-line summary for a valid policy', async () => {
    const result = await run('policy', 'check', VOICEKING);
    expect(result.exitCode).toBe(0);
    // stderr holds only the warnings about promises no module keeps (tested below).
    expect(result.stderr.split('\n').filter((line) => line !== '' && !line.includes(': warning: '))).toEqual(
      [],
    );
    expect(result.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stdout).toMatch(
      /^.*voiceking\.yaml: valid policy of VoiceKing CVBA \(BE0653\.989\.638\), version 2026\.2 of 2026-12-01: 24 categories, 24 purposes, 7 roles, 5 recipients, nl\/fr\/en \(sha256:[0-9a-f]{12}\)\n$/,
    );
  });

  it('exits 1 with every error on stderr as file:line:col path: message', async () => {
    const source = readFileSync(VOICEKING, 'utf8')
      .replace('answerDeadlineDays: 30', 'answerDeadlineDays: 45')
      .replace('enterpriseNumber: BE0653.989.638', 'enterpriseNumber: BE0653.989.639');
    const file = tempPolicy(source);
    const result = await run('policy', 'check', file);
    expect(result.exitCode).toBe(1);
    expect(result.code).toBe(POLICY_ERROR_CODES.invalid);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      new RegExp(
        `^${escape(file)}:\\d+:21 controller\\.enterpriseNumber: invalid enterprise number "BE0653\\.989\\.639"`,
      ),
    );
    expect(lines[1]).toMatch(
      new RegExp(
        `^${escape(file)}:\\d+:23 rights\\.answerDeadlineDays: the answer deadline may not exceed 30 days`,
      ),
    );
    expect(lines[2]).toBe(`kluis: ${file} is not a valid policy (2 errors)`);
  });

  it('reports a YAML syntax error with its line and column', async () => {
    const file = tempPolicy('statement:\n  version: "1\n');
    const result = await run('policy', 'check', file);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^${escape(file)}:\\d+:\\d+ YAML syntax error: `));
  });

  it('exits 1 for a missing file without a stack trace', async () => {
    const result = await run('policy', 'check', '/nonexistent/policy.yaml');
    expect(result).toMatchObject({ exitCode: 1, code: POLICY_ERROR_CODES.unreadable });
    expect(result.stderr).toBe('kluis: policy file /nonexistent/policy.yaml: no such file\n');
  });

  it('a missing argument prints the usage and exits non-zero', async () => {
    const result = await run('policy', 'check');
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("missing required argument 'file'");
    expect(result.stderr).toContain('Usage: kluis policy check [options] <file>');
  });
});

describe('kluis statement', () => {
  it('prints the Dutch statement as Markdown by default', async () => {
    const result = await run('statement', '--policy', VOXTRA, '--lang', 'nl');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^# Privacyverklaring van Voxtra bvba\n/);
    expect(result.stdout).toContain('Ondernemingsnummer: BE0649.503.981');
  });

  it('prints HTML on request', async () => {
    const result = await run('statement', '--policy', VOICEKING, '--lang', 'fr', '--format', 'html');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^<!doctype html>\n<html lang="fr">/);
  });

  it('rejects an unknown language or format with the usage', async () => {
    const lang = await run('statement', '--policy', VOICEKING, '--lang', 'de');
    expect(lang.exitCode).not.toBe(0);
    expect(lang.stderr).toContain("argument 'de' is invalid. Allowed choices are nl, fr, en.");
    expect(lang.stderr).toContain('Usage: kluis statement');
    const format = await run('statement', '--policy', VOICEKING, '--lang', 'nl', '--format', 'pdf');
    expect(format.exitCode).not.toBe(0);
    expect(format.stdout).toBe('');
  });

  it('requires --policy and --lang', async () => {
    const result = await run('statement', '--lang', 'nl');
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("required option '--policy <file>' not specified");
    const noLang = await run('statement', '--policy', VOICEKING);
    expect(noLang.exitCode).not.toBe(0);
    expect(noLang.stderr).toContain("required option '--lang <lang>' not specified");
  });

  it('refuses a language the policy does not offer', async () => {
    const source = readFileSync(VOXTRA, 'utf8').replace('languages: [nl, fr, en]', 'languages: [nl]');
    const file = tempPolicy(source);
    const result = await run('statement', '--policy', file, '--lang', 'en');
    expect(result).toMatchObject({ exitCode: 1, code: POLICY_ERROR_CODES.language, stdout: '' });
    expect(result.stderr).toContain('offers the statement in nl, not in en');
  });

  it('does not print a statement for an invalid policy', async () => {
    const file = tempPolicy(readFileSync(VOXTRA, 'utf8').replace('legalBasis: consent', 'legalBasis: whim'));
    const result = await run('statement', '--policy', file, '--lang', 'nl');
    expect(result).toMatchObject({ exitCode: 1, stdout: '' });
    expect(result.stderr).toContain('invalid legal basis "whim"');
  });
});

describe('kluis register', () => {
  it('prints one CSV row per purpose by default', async () => {
    const result = await run('register', '--policy', VOXTRA);
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^Sleutel,Doeleinde,Rechtsgrond,/);
    expect(lines).toHaveLength(1 + 18);
  });

  it('prints Markdown in the language asked for', async () => {
    const result = await run('register', '--policy', VOICEKING, '--format', 'md', '--lang', 'en');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^# Record of processing activities \(GDPR Art\. 30\)\n/);
  });

  it('rejects an unknown format', async () => {
    const result = await run('register', '--policy', VOICEKING, '--format', 'xlsx');
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('Allowed choices are csv, md.');
  });
});

describe('kluis policy schema', () => {
  it('prints the committed JSON Schema', async () => {
    const result = await run('policy', 'schema');
    expect(result.stdout).toBe(readFileSync(join(root, 'schema/policy.schema.json'), 'utf8'));
  });
});

// End to end through bin/kluis.js: fails (does not skip) if the entrypoint stops registering them.
describe('bin/kluis.js policy (end to end)', () => {
  const exec = promisify(execFile);

  it('policy check policies/voiceking.yaml exits 0 with the summary', { timeout: 30_000 }, async () => {
    const { stdout } = await exec(
      process.execPath,
      ['bin/kluis.js', 'policy', 'check', 'policies/voiceking.yaml'],
      {
        cwd: root,
      },
    );
    expect(stdout).toMatch(/^policies\/voiceking\.yaml: valid policy of VoiceKing CVBA/);
  });

  it(
    'policy check warns about each promise of the policy that no module keeps, so the statement leaves it out',
    { timeout: 30_000 },
    async () => {
      const { stderr } = await exec(
        process.execPath,
        ['bin/kluis.js', 'policy', 'check', 'policies/voiceking.yaml'],
        {
          cwd: root,
        },
      );
      const voiceking = await loadPolicyFile(VOICEKING);
      const unkept = unenforcedPromises(voiceking, ENFORCED_PROMISES);
      const warnings = stderr.split('\n').filter((line) => line.includes('warning: no module'));
      expect(warnings).toHaveLength(unkept.length);
      for (const key of unkept) expect(stderr).toContain(PROMISES[key].what);
    },
  );

  it('policy check of a broken file exits 1 with located errors', { timeout: 30_000 }, async () => {
    const file = tempPolicy(
      readFileSync(VOICEKING, 'utf8').replace('answerDeadlineDays: 30', 'answerDeadlineDays: 31'),
    );
    const failure = await exec(process.execPath, ['bin/kluis.js', 'policy', 'check', file], {
      cwd: root,
    }).then(
      () => undefined,
      (error: unknown) => error as { code: number; stderr: string; stdout: string },
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stdout).toBe('');
    expect(failure?.stderr).toMatch(new RegExp(`${escape(file)}:\\d+:\\d+ rights\\.answerDeadlineDays: `));
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
