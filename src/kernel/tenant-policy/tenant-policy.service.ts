import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { openTransactionOf, withTenant, type Db, type Tx } from '../../platform/db.js';
import { withoutNotingCommits } from '../../platform/request-scope.js';
import { AppError } from '../../platform/errors.js';
import { parsePolicy, validatePolicySource } from '../policy/policy.loader.js';
import { formatPolicyIssue } from '../policy/policy.errors.js';
import type { Policy } from '../policy/policy.schema.js';
import { ALL_PROMISES } from '../policy/promises.js';
import { generateStatement } from '../policy/statement.generator.js';

export interface TenantPolicy {
  tenantId: number;
  versionNo: number;
  /** The statement's own version string (policy `statement.version`), recorded with consents. */
  statementVersion: string;
  policy: Policy;
}

export interface InstalledPolicy {
  versionNo: number;
  statementVersion: string;
}

export interface InstallOutcome extends InstalledPolicy {
  /** The source was the version in force already: nothing was installed (decision 0923). */
  unchanged: boolean;
}

// Policies change rarely; a short cache keeps the gate at one query per decision, and another
// process's new version is seen within this many milliseconds.
const CACHE_TTL_MS = 5_000;

/**
 * The policy in force per tenant, read from `tenant_policies` (all versions are kept).
 * Sources are re-validated when loaded, so a policy in force is always a valid one.
 */
export class TenantPolicyStore {
  readonly #db: Db;
  readonly #cacheMs: number;
  readonly #cache = new Map<number, { value: TenantPolicy; until: number }>();
  /**
   * The last version parsed per tenant, by its source's SHA-256. A version is never changed once
   * installed (the app may not update or delete one, migration 0003), so a reload that finds the
   * same source reuses its parsed policy: parsing and validating the YAML took ~0.1 s of CPU, paid
   * again by every request that came after the short cache above had expired (decision 0660).
   */
  readonly #parsed = new Map<number, { sha256: string; policy: TenantPolicy['policy'] }>();

  /** `cacheMs`: how long a policy read is reused (tests of the reload path pass 0). */
  constructor(db: Db, cacheMs = CACHE_TTL_MS) {
    this.#db = db;
    this.#cacheMs = cacheMs;
  }

  async current(tenantId: number): Promise<TenantPolicy> {
    const cached = this.#cache.get(tenantId);
    if (cached && cached.until > Date.now()) return cached.value;
    const read = (tx: Tx) =>
      tx
        .selectFrom('tenant_policies')
        .select(['version_no', 'statement_version', 'source_yaml', 'source_file', 'source_sha256'])
        .orderBy('version_no', 'desc')
        .limit(1)
        .executeTakeFirst();
    // Inside the caller's tenant transaction when there is one: a gate decision made while a
    // transaction holds its connection (and maybe a lock) never waits for a second one (0583).
    const within = openTransactionOf(this.#db, tenantId);
    // Its own transaction reads, saves nothing: its commit does not make a request's 503 "partial"
    // (decisions 0762, 0812).
    const row = await (within
      ? read(within)
      : withoutNotingCommits(() => withTenant(this.#db, tenantId, read)));
    if (!row) {
      throw new AppError('invalid_policy', `tenant ${tenantId} has no policy`, {
        publicMessage: 'this tenant has no privacy policy installed',
      });
    }
    const parsed = this.#parsed.get(tenantId);
    const policy =
      parsed?.sha256 === row.source_sha256
        ? parsed.policy
        : parsePolicy(row.source_yaml, row.source_file, { stored: true });
    this.#parsed.set(tenantId, { sha256: row.source_sha256, policy });
    const value: TenantPolicy = {
      tenantId,
      versionNo: row.version_no,
      statementVersion: row.statement_version,
      policy,
    };
    this.#cache.set(tenantId, { value, until: Date.now() + this.#cacheMs });
    return value;
  }

  /**
   * Validates a policy source and makes it the tenant's policy in force, keeping every earlier
   * version. An invalid source changes nothing and is reported issue by issue.
   */
  async install(tenantId: number, source: string, file: string): Promise<InstallOutcome> {
    const result = validatePolicySource(source, file);
    if (!result.ok) {
      throw new AppError('invalid_policy', 'policy validation failed', {
        publicMessage: result.issues.map(formatPolicyIssue).join('\n'),
        details: { issues: result.issues.map((issue) => ({ ...issue })) },
      });
    }
    const installed = await withTenant(this.#db, tenantId, async (tx) => {
      // Serialise installs per tenant so two never get the same version number.
      await sql`select pg_advisory_xact_lock(741209, ${tenantId}::integer)`.execute(tx);
      const last = await tx
        .selectFrom('tenant_policies')
        .select(['version_no', 'statement_version', 'source_yaml', 'source_file', 'source_sha256'])
        .orderBy('version_no', 'desc')
        .limit(1)
        .executeTakeFirst();
      const sha256 = createHash('sha256').update(source).digest('hex');
      if (last?.source_sha256 === sha256)
        return { versionNo: last.version_no, statementVersion: last.statement_version, unchanged: true };
      if (last?.statement_version === result.policy.statement.version) {
        const inForce = parsePolicy(last.source_yaml, last.source_file, { stored: true });
        if (statementsDiffer(inForce, result.policy)) {
          throw new AppError('invalid_policy', 'statement changed under the same statement version', {
            publicMessage:
              `statement.version ${last.statement_version} is in force (policy version ${last.version_no}) with a ` +
              'different statement: a policy whose statement changes needs a new statement.version, so that ' +
              'consents name the statement the person saw',
            details: { reason: 'statement_version_reused', versionNo: last.version_no },
          });
        }
      }
      const versionNo = (last?.version_no ?? 0) + 1;
      await tx
        .insertInto('tenant_policies')
        .values({
          tenant_id: tenantId,
          version_no: versionNo,
          statement_version: result.policy.statement.version,
          effective_date: result.policy.statement.effectiveDate,
          source_file: file,
          source_yaml: source,
          source_sha256: sha256,
        })
        .execute();
      return { versionNo, statementVersion: result.policy.statement.version, unchanged: false };
    });
    this.#cache.delete(tenantId);
    return installed;
  }

  /** One page of versions, newest first (issue 20); `beforeNo`: the last version of the previous page. */
  async versionsPage(
    tenantId: number,
    page: { limit: number; beforeNo?: number },
  ): Promise<{
    items: Array<InstalledPolicy & { effectiveDate: string; loadedAt: Date; sourceFile: string }>;
    nextBeforeNo: number | null;
  }> {
    const rows = await withTenant(this.#db, tenantId, (tx) => {
      let query = tx
        .selectFrom('tenant_policies')
        .select(['version_no', 'statement_version', 'effective_date', 'loaded_at', 'source_file']);
      if (page.beforeNo !== undefined) query = query.where('version_no', '<', page.beforeNo);
      return query
        .orderBy('version_no', 'desc')
        .limit(page.limit + 1)
        .execute();
    });
    const shown = rows.slice(0, page.limit);
    return {
      items: shown.map((row) => ({
        versionNo: row.version_no,
        statementVersion: row.statement_version,
        effectiveDate: String(row.effective_date),
        loadedAt: row.loaded_at,
        sourceFile: row.source_file,
      })),
      nextBeforeNo: rows.length > page.limit ? (shown.at(-1)?.version_no ?? null) : null,
    };
  }

  /** The policy of one version as it was installed (re-validated), for its statement. */
  async version(tenantId: number, versionNo: number): Promise<Policy> {
    const row = await withTenant(this.#db, tenantId, (tx) =>
      tx
        .selectFrom('tenant_policies')
        .select(['source_yaml', 'source_file'])
        .where('version_no', '=', versionNo)
        .executeTakeFirst(),
    );
    if (!row)
      throw new AppError('not_found', 'no such policy version', { publicMessage: 'no such policy version' });
    return parsePolicy(row.source_yaml, row.source_file, { stored: true });
  }

  async versions(
    tenantId: number,
  ): Promise<Array<InstalledPolicy & { effectiveDate: string; loadedAt: Date }>> {
    const rows = await withTenant(this.#db, tenantId, (tx) =>
      tx
        .selectFrom('tenant_policies')
        .select(['version_no', 'statement_version', 'effective_date', 'loaded_at'])
        .orderBy('version_no')
        .execute(),
    );
    return rows.map((row) => ({
      versionNo: row.version_no,
      statementVersion: row.statement_version,
      effectiveDate: String(row.effective_date),
      loadedAt: row.loaded_at,
    }));
  }
}

/**
 * Whether two policies give a different statement in a language both publish. Rendered with every
 * promise kept, so a difference no installation shows is still one (decision 0923).
 */
function statementsDiffer(inForce: Policy, next: Policy): boolean {
  return inForce.statement.languages
    .filter((lang) => next.statement.languages.includes(lang))
    .some(
      (lang) =>
        generateStatement(inForce, { lang, enforced: ALL_PROMISES }) !==
        generateStatement(next, { lang, enforced: ALL_PROMISES }),
    );
}
