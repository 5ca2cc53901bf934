import type { RawBuilder } from 'kysely';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import { withTenant, type Db, type Tx } from '../platform/db.js';
import { markingIdempotentCommit } from './idempotent-commits.js';
import { findTenantById, findTenantBySlug, listTenants, type Tenant } from '../modules/tenants/index.js';
import {
  appendAuditNow,
  FileAnchors,
  KeystoreAnchors,
  verifyAuditChain,
  withAudit,
  type AuditDeps,
  type AuditedTx,
  type AuditVerification,
  type VerifyOptions,
} from './audit/index.js';
import { chainPendingEntries } from './audit/audit.service.js';
import { readAuditTrail, type AuditTrailPage } from './audit/audit.trail.js';
import { AccessDenied, AccessGate, type Grant } from './gate/gate.js';
import { isHeadersOnly } from '../platform/headers-only.js';
import { ErasureJournal } from './erasure/erasure-journal.js';
import { Keyring } from './keyring/keyring.js';
import type { KeyManagementService } from './keyring/kms.js';
import type { KeystoreDb } from './keyring/keystore.tables.js';
import { TenantPolicyStore } from './tenant-policy/index.js';

export interface KernelOptions {
  db: Db;
  keystore: KeystoreDb;
  kms: KeyManagementService;
  clock: Clock;
  /** KLUIS_AUDIT_ANCHOR_FILE: an append-only file that also receives every audit checkpoint. */
  auditAnchorFile?: string;
  /** How long the policy in force is reused before it is read again (default 5 s; tests: 0). */
  policyCacheMs?: number;
  /** Where the audit log reports a chain it cannot extend (decision 0680). */
  logger?: Logger;
}

/**
 * The keyring's keyed functions that code outside the kernel may use: pseudonyms, blind indexes,
 * creating keys ahead of a bulk load, and the operator's rotation. Decrypting goes through a
 * Grant, destroying keys through erasure: the Keyring itself never leaves src/kernel.
 */
export interface KernelKeys {
  pseudonym: Keyring['pseudonym'];
  blindIndex: Keyring['blindIndex'];
  createSubjectKeys: Keyring['createSubjectKeys'];
  rotateTenantKek: Keyring['rotateTenantKek'];
  /** A tenant's own secret stored in the data database, sealed under a key-store key (decision 0461). */
  sealSecret: Keyring['sealSecret'];
  openSecret: Keyring['openSecret'];
}

/** Tenant look-ups (the tenants table: no personal data, not tenant-scoped). */
export interface KernelTenants {
  /** The tenant of a slug; `tenant_not_found` when there is none. */
  bySlug(slug: string): Promise<Tenant>;
  /** The tenant of an id; `tenant_not_found` when there is none. */
  byId(tenantId: number): Promise<Tenant>;
  list(): Promise<Tenant[]>;
}

/**
 * The audit log as far as it is anyone's business outside the kernel (issue #20): a person's
 * trail, read under a Grant (the gate's decision on that person), and the chain's verification.
 */
export interface KernelAuditLog {
  /**
   * Entries naming the grant's one person, newest first; only a read grant under the policy's
   * rights purpose opens it, and the read is recorded (`audit.read`) in the same transaction.
   */
  trail(atx: AuditedTx, grant: Grant, page: { limit: number; beforeSeq?: number }): Promise<AuditTrailPage>;
  /**
   * Links the tenant's pending entries into the chain (decision 0455), so that a trail read next
   * shows them. Called BEFORE the trail's transaction: it needs a connection of its own, which a
   * transaction that holds one must never wait for (decision 0583).
   */
  chainPending(tenantId: number): Promise<void>;
  /** Recomputes the tenant's chain against its checkpoints (what `kluis audit verify` runs). */
  verify(tenantId: number, options?: VerifyOptions): Promise<AuditVerification>;
}

/**
 * The kernel's surface: what services, routes and jobs of src/modules receive, and all they get
 * (docs/decisions/0100). There is no pool on it: a module reaches the database only inside a
 * tenant transaction, either `transact` (audited; the gate needs its AuditedTx, and personal
 * columns are read and written only by repository functions that take the Grant it gives) or
 * `plain` (columns the data map calls not personal; src/kernel/surface.test.ts holds that rule).
 */
export interface Kernel {
  clock: Clock;
  policies: TenantPolicyStore;
  keys: KernelKeys;
  gate: AccessGate;
  tenants: KernelTenants;
  auditLog: KernelAuditLog;
  /**
   * A tenant-scoped transaction whose audit entries commit with it. Every use case that touches
   * personal data runs inside one: the gate needs its AuditedTx, so the type system holds the rule.
   * Refusals by the gate are audited after the rollback.
   */
  transact<T>(tenantId: number, work: (atx: AuditedTx) => Promise<T>): Promise<T>;
  /**
   * A tenant-scoped transaction for work on columns the data map calls not personal (counters,
   * states, settings, ids): no audit entry, no grant. Naming a personal column in it fails
   * src/kernel/surface.test.ts.
   */
  plain<T>(tenantId: number, work: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * One statement on its own, outside any transaction (it commits alone): for a look-up made
   * before a request's tenant transaction can begin, in one round trip (the API token, decision
   * 0370). Outside a tenant transaction row-level security refuses every tenant table, so the
   * statement calls a database function that scopes itself to one tenant (kluis_find_api_token).
   */
  statement<R>(query: RawBuilder<R>): Promise<R[]>;
  /**
   * `transact` on a dedicated connection the caller opened as the application role (the CDR
   * import's COPY connection): same audit, same row-level security.
   */
  transactOn<T>(
    connection: { readonly db: Db },
    tenantId: number,
    work: (atx: AuditedTx) => Promise<T>,
  ): Promise<T>;
}

/**
 * What only the kernel's own parts, the composition root, jobs and the CLI hold: the pool, the
 * audit log's bookkeeping, the erasure journal and the Keyring. Reached with `kernelCore`, which
 * nothing in src/modules may call (src/kernel/surface.test.ts).
 */
export interface KernelCore {
  db: Db;
  audit: AuditDeps;
  /** Who was erased when, kept in the key store for replay after a restore (erasure/). */
  erasureJournal: ErasureJournal;
  keyring: Keyring;
}

export function createKernel(options: KernelOptions): Kernel {
  const keyring = new Keyring({ kms: options.kms, keystore: options.keystore, clock: options.clock });
  const audit: AuditDeps = {
    db: options.db,
    clock: options.clock,
    keys: {
      pseudonym: (tenantId, subjectId) => keyring.pseudonym(tenantId, subjectId),
      pseudonyms: (tenantId, subjectIds) => keyring.pseudonyms(tenantId, subjectIds),
      checkpointMac: (tenantId, data) => keyring.checkpointMac(tenantId, data),
      pseudonymsIfCached: (tenantId, subjectIds) => keyring.pseudonymsIfCached(tenantId, subjectIds),
      checkpointMacIfCached: (tenantId, data) => keyring.checkpointMacIfCached(tenantId, data),
    },
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    // Checkpoints also go outside the data database: the key store, and the operator's file.
    anchors: [
      new KeystoreAnchors(options.keystore),
      ...(options.auditAnchorFile === undefined ? [] : [new FileAnchors(options.auditAnchorFile)]),
    ],
  };
  const policies = new TenantPolicyStore(options.db, options.policyCacheMs);
  const gate = new AccessGate({ policies, keyring, clock: options.clock });
  const withAuditedRefusals = async <T>(
    deps: AuditDeps,
    tenantId: number,
    work: (atx: AuditedTx) => Promise<T>,
  ) => {
    try {
      return await withAudit(deps, tenantId, work);
    } catch (error) {
      // The work's transaction has rolled back; the refusal itself must stay on record.
      // A HEAD's refusal is not recorded: it asked to read nothing (decision 0621).
      if (error instanceof AccessDenied && !isHeadersOnly())
        await appendAuditNow(audit, error.tenantId, [error.auditEvent]);
      throw error;
    }
  };
  const db = options.db;
  const kernel: Kernel = {
    clock: options.clock,
    policies,
    keys: {
      pseudonym: (tenantId, subjectId) => keyring.pseudonym(tenantId, subjectId),
      blindIndex: (tenantId, field, value) => keyring.blindIndex(tenantId, field, value),
      createSubjectKeys: (tenantId, subjectIds) => keyring.createSubjectKeys(tenantId, subjectIds),
      rotateTenantKek: (...args) => keyring.rotateTenantKek(...args),
      sealSecret: (...args) => keyring.sealSecret(...args),
      openSecret: (...args) => keyring.openSecret(...args),
    },
    gate,
    tenants: {
      bySlug: (slug) => findTenantBySlug(db, slug),
      byId: (tenantId) => findTenantById(db, tenantId),
      list: () => listTenants(db),
    },
    auditLog: {
      // Reads whose entries are still pending are on the trail too (decision 0455): the caller
      // chains them first (chainPending), outside the trail's transaction (decision 0583).
      trail: async (atx, grant, page) =>
        readAuditTrail(
          atx,
          grant,
          { keys: audit.keys, policy: (await policies.current(atx.tenantId)).policy },
          page,
        ),
      chainPending: async (tenantId) => {
        await chainPendingEntries(audit, tenantId);
      },
      verify: (tenantId, verifyOptions) => verifyAuditChain(audit, tenantId, verifyOptions),
    },
    // Inside an idempotent request, each commit also marks its key (idempotent-commits.ts).
    transact: (tenantId, work) =>
      withAuditedRefusals(
        audit,
        tenantId,
        markingIdempotentCommit(tenantId, (atx) => atx.tx, work),
      ),
    plain: (tenantId, work) =>
      withTenant(
        db,
        tenantId,
        markingIdempotentCommit(tenantId, (tx) => tx, work),
      ),
    statement: async (query) => (await query.execute(db)).rows,
    transactOn: (connection, tenantId, work) =>
      withAuditedRefusals(
        { ...audit, db: connection.db },
        tenantId,
        markingIdempotentCommit(tenantId, (atx) => atx.tx, work),
      ),
  };
  CORES.set(kernel, {
    db,
    audit,
    erasureJournal: new ErasureJournal(options.db, options.keystore),
    keyring,
  });
  return kernel;
}

const CORES = new WeakMap<Kernel, KernelCore>();

/**
 * The kernel's own parts (pool, audit bookkeeping, erasure journal, Keyring), for src/kernel,
 * the composition root, jobs, the CLI and tests. Nothing in src/modules calls it
 * (src/kernel/surface.test.ts checks).
 */
export function kernelCore(kernel: Kernel): KernelCore {
  const core = CORES.get(kernel);
  if (!core) throw new Error('not a kernel made by createKernel');
  return core;
}

/**
 * The kernel's Keyring, for the kernel's own parts (erasure destroys keys) and for tests that
 * inspect keys. Nothing outside src/kernel calls it (src/kernel/surface.test.ts checks).
 */
export function keyringOf(kernel: Kernel): Keyring {
  return kernelCore(kernel).keyring;
}
