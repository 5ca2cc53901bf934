import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { deliversThrough, DEVELOPMENT_MAIL_FROM } from './platform/mail-relay.js';
import { describeUnreachableNames, isUnreachableDomain } from './platform/reserved-domains.js';

/**
 * Configuration is read once, from the environment and an optional JSON file named by
 * KLUIS_CONFIG (environment wins). Errors name the variable and what was expected, never the
 * value, because values may be secrets (DATABASE_URL carries a password).
 */
const booleanString = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');
const port = z.coerce.number().int().min(0).max(65535);

const settingsSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// or postgresql:// URL')
    .optional(),
  KLUIS_APP_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// or postgresql:// URL')
    .optional(),
  KLUIS_KEYSTORE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// or postgresql:// URL')
    .optional(),
  KLUIS_DATA_DIR: z.string().min(1).default('.kluis'),
  KLUIS_HOST: z.string().min(1).default('127.0.0.1'),
  KLUIS_PORT: port.default(3000),
  KLUIS_PG_PORT: port.default(54329),
  KLUIS_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Progress bars of long CLI work on stderr: on a terminal (auto), always (e.g. into a log), never.
  KLUIS_PROGRESS: z.enum(['auto', 'always', 'never']).default('auto'),
  KLUIS_MASTER_KEY: z
    .string()
    .regex(/^[A-Za-z0-9+/]{43}=$/, 'expected 32 bytes, base64-encoded (44 characters)')
    .optional(),
  KLUIS_POLICY_DIR: z.string().min(1).default('policies'),
  KLUIS_DEMO: booleanString.default(true),
  KLUIS_PUBLIC_URL: z.string().url('expected an absolute URL').optional(),
  KLUIS_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'expected an smtp:// or smtps:// URL')
    .optional(),
  KLUIS_MAIL_FROM: z.string().email('expected an e-mail address').default(DEVELOPMENT_MAIL_FROM),
  // false only for a development sink (MailHog): its mail reaches nobody, so nothing need be signed (0843).
  KLUIS_SMTP_DELIVERS: booleanString.optional(),
  KLUIS_CONFIG: z.string().min(1).optional(),
  // The gated statement as a named statement per connection (decision 0770); false behind a pooler
  // in transaction mode that does not keep named statements (PgBouncer before 1.21).
  KLUIS_PREPARED_STATEMENTS: booleanString.default(true),
  // Portability transfers (Art. 20(2)): an extra trusted CA, for tests and private deployments. No
  // setting exempts a host from the private-address refusal (decision 0878).
  KLUIS_TRANSFER_CA_FILE: z.string().min(1).optional(),
  // Audit anchoring (issue 11): an append-only JSON-lines file that receives every signed checkpoint.
  KLUIS_AUDIT_ANCHOR_FILE: z.string().min(1).optional(),
  // Tests only: die or hang at a named point (src/platform/test-hooks.ts).
  KLUIS_TEST_HOOK: z
    .string()
    .regex(/^[a-z0-9.:-]+:(kill|stall)$/, 'expected <point>:<kill|stall>')
    .optional(),
  // The reverse proxies whose X-Forwarded-For Kluis believes (Fastify's trustProxy): `true` (any),
  // a hop count, or comma-separated addresses / CIDR ranges. Unset: the socket's address counts.
  KLUIS_TRUST_PROXY: z
    .string()
    .regex(
      /^(true|false|\d{1,2}|(loopback|linklocal|uniquelocal|[0-9A-Fa-f.:]+(\/\d{1,3})?)(,(loopback|linklocal|uniquelocal|[0-9A-Fa-f.:]+(\/\d{1,3})?))*)$/,
      'expected true, false, a hop count, or comma-separated proxy addresses or CIDR ranges',
    )
    .optional(),
});

export type Settings = z.infer<typeof settingsSchema>;

export interface Config {
  databaseUrl: string | undefined;
  appDatabaseUrl: string | undefined;
  keystoreUrl: string | undefined;
  dataDir: string;
  http: { host: string; port: number; publicUrl: string };
  embeddedPostgresPort: number;
  logLevel: Settings['KLUIS_LOG_LEVEL'];
  progress: Settings['KLUIS_PROGRESS'];
  masterKey: string | undefined;
  policyDir: string;
  createDemoData: boolean;
  /** `delivers`: the relay reaches real people, so mailings must be signed (decisions 0837, 0843). */
  mail: { smtpUrl: string | undefined; from: string; delivers: boolean };
  transfer: { caFile: string | undefined };
  audit: { anchorFile: string | undefined };
  testHook: string | undefined;
  /** Send the gated statement as a named statement of each connection (decision 0770). */
  preparedStatements: boolean;
  /** Fastify's trustProxy: which proxies' X-Forwarded-For decides the client address. */
  trustProxy: boolean | number | string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const KNOWN_KEYS = new Set(Object.keys(settingsSchema.shape));

// Exempted hosts from the transfer's private-address refusal until decision 0878: an operator who
// set it learns why it is gone rather than that it is unknown.
const RETIRED_TRANSFER_ALLOW_HOSTS = 'KLUIS_TRANSFER_ALLOW_HOSTS';
const RETIRED_TRANSFER_ALLOW_HOSTS_PROBLEM = `${RETIRED_TRANSFER_ALLOW_HOSTS}: no longer accepted; a portability transfer never goes to a loopback, private, link-local or unique-local address (docs/decisions/0878)`;

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError([`KLUIS_CONFIG: cannot read the file ${file}`]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError([`KLUIS_CONFIG: ${file} is not valid JSON`]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError([`KLUIS_CONFIG: ${file} must hold a JSON object of settings`]);
  }
  return parsed as Record<string, unknown>;
}

function stringify(value: unknown): unknown {
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
}

function parseTrustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  return /^\d+$/.test(value) ? Number(value) : value;
}

/** Parses the environment (and the optional file); throws ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const problems: string[] = [];
  const fromFile = env.KLUIS_CONFIG ? readConfigFile(path.resolve(cwd, env.KLUIS_CONFIG)) : {};
  for (const key of Object.keys(fromFile)) {
    if (key === RETIRED_TRANSFER_ALLOW_HOSTS) problems.push(RETIRED_TRANSFER_ALLOW_HOSTS_PROBLEM);
    else if (!KNOWN_KEYS.has(key) || key === 'KLUIS_CONFIG')
      problems.push(`${key}: unknown setting in KLUIS_CONFIG file`);
  }
  for (const key of Object.keys(env)) {
    if (key === RETIRED_TRANSFER_ALLOW_HOSTS) problems.push(RETIRED_TRANSFER_ALLOW_HOSTS_PROBLEM);
    else if (key.startsWith('KLUIS_') && !KNOWN_KEYS.has(key)) problems.push(`${key}: unknown setting`);
  }
  const raw: Record<string, unknown> = {};
  for (const key of KNOWN_KEYS) {
    const value = env[key] !== undefined && env[key] !== '' ? env[key] : stringify(fromFile[key]);
    if (value !== undefined) raw[key] = value;
  }
  const result = settingsSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      // zod's messages describe the expectation only; we never add the received value.
      problems.push(`${issue.path.join('.')}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  const settings = result.data;
  const delivers = deliversThrough(settings.KLUIS_SMTP_URL, settings.KLUIS_SMTP_DELIVERS);
  // Mail to real people from a name that reaches no one is never meant (decisions 0837, 0843;
  // .test, .example, .local … too since attack S18-13; .lan, .corp, .home, .localdomain since s19).
  if (delivers && isUnreachableDomain(settings.KLUIS_MAIL_FROM))
    throw new ConfigError([
      `KLUIS_MAIL_FROM: set the sender address of outgoing mail (an address of your own domain, not ${describeUnreachableNames()}) when KLUIS_SMTP_URL relays mail to people (KLUIS_SMTP_DELIVERS=false only for a development sink such as MailHog)`,
    ]);
  const dataDir = path.resolve(cwd, settings.KLUIS_DATA_DIR);
  const displayHost =
    settings.KLUIS_HOST === '127.0.0.1' || settings.KLUIS_HOST === '0.0.0.0'
      ? 'localhost'
      : settings.KLUIS_HOST;
  return {
    databaseUrl: settings.DATABASE_URL,
    appDatabaseUrl: settings.KLUIS_APP_DATABASE_URL,
    keystoreUrl: settings.KLUIS_KEYSTORE_URL,
    dataDir,
    http: {
      host: settings.KLUIS_HOST,
      port: settings.KLUIS_PORT,
      publicUrl: settings.KLUIS_PUBLIC_URL ?? `http://${displayHost}:${settings.KLUIS_PORT}`,
    },
    embeddedPostgresPort: settings.KLUIS_PG_PORT,
    logLevel: settings.KLUIS_LOG_LEVEL,
    progress: settings.KLUIS_PROGRESS,
    masterKey: settings.KLUIS_MASTER_KEY,
    policyDir: path.resolve(cwd, settings.KLUIS_POLICY_DIR),
    createDemoData: settings.KLUIS_DEMO,
    mail: { smtpUrl: settings.KLUIS_SMTP_URL, from: settings.KLUIS_MAIL_FROM, delivers },
    trustProxy: parseTrustProxy(settings.KLUIS_TRUST_PROXY),
    transfer: {
      caFile: settings.KLUIS_TRANSFER_CA_FILE
        ? path.resolve(cwd, settings.KLUIS_TRANSFER_CA_FILE)
        : undefined,
    },
    audit: {
      anchorFile: settings.KLUIS_AUDIT_ANCHOR_FILE
        ? path.resolve(cwd, settings.KLUIS_AUDIT_ANCHOR_FILE)
        : undefined,
    },
    testHook: settings.KLUIS_TEST_HOOK,
    preparedStatements: settings.KLUIS_PREPARED_STATEMENTS,
  };
}
