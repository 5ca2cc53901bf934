import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db.js';
import {
  appendAuditNow,
  FileAnchors,
  KeystoreAnchors,
  withAudit,
  type AuditDeps,
  type AuditedTx,
} from './audit/index.js';
import { AccessDenied, AccessGate } from './gate/gate.js';
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
}

/** The privacy core, assembled once by the composition root and handed to every service. */
export interface Kernel {
  db: Db;
  clock: Clock;
  policies: TenantPolicyStore;
  keys: KernelKeys;
  gate: AccessGate;
  audit: AuditDeps;
  /** Who was erased when, kept in the key store for replay after a restore (erasure/). */
  erasureJournal: ErasureJournal;
  /**
   * A tenant-scoped transaction whose audit entries commit with it. Every use case that touches
   * personal data runs inside one: the gate needs its AuditedTx, so the type system holds the rule.
   * Refusals by the gate are audited after the rollback.
   */
  transact<T>(tenantId: number, work: (atx: AuditedTx) => Promise<T>): Promise<T>;
}

export function createKernel(options: KernelOptions): Kernel {
  const keyring = new Keyring({ kms: options.kms, keystore: options.keystore, clock: options.clock });
  const audit: AuditDeps = {
    db: options.db,
    clock: options.clock,
    keys: {
      pseudonym: (tenantId, subjectId) => keyring.pseudonym(tenantId, subjectId),
      checkpointMac: (tenantId, data) => keyring.checkpointMac(tenantId, data),
    },
    // Checkpoints also go outside the data database: the key store, and the operator's file.
    anchors: [
      new KeystoreAnchors(options.keystore),
      ...(options.auditAnchorFile === undefined ? [] : [new FileAnchors(options.auditAnchorFile)]),
    ],
  };
  const policies = new TenantPolicyStore(options.db);
  const gate = new AccessGate({ policies, keyring, clock: options.clock });
  const kernel: Kernel = {
    db: options.db,
    clock: options.clock,
    policies,
    keys: {
      pseudonym: (tenantId, subjectId) => keyring.pseudonym(tenantId, subjectId),
      blindIndex: (tenantId, field, value) => keyring.blindIndex(tenantId, field, value),
      createSubjectKeys: (tenantId, subjectIds) => keyring.createSubjectKeys(tenantId, subjectIds),
      rotateTenantKek: (...args) => keyring.rotateTenantKek(...args),
    },
    gate,
    audit,
    erasureJournal: new ErasureJournal(options.db, options.keystore),
    transact: async (tenantId, work) => {
      try {
        return await withAudit(audit, tenantId, work);
      } catch (error) {
        // The work's transaction has rolled back; the refusal itself must stay on record.
        if (error instanceof AccessDenied) await appendAuditNow(audit, error.tenantId, [error.auditEvent]);
        throw error;
      }
    },
  };
  KEYRINGS.set(kernel, keyring);
  return kernel;
}

const KEYRINGS = new WeakMap<Kernel, Keyring>();

/**
 * The kernel's Keyring, for the kernel's own parts (erasure destroys keys) and for tests that
 * inspect keys. Nothing outside src/kernel calls it (src/kernel/surface.test.ts checks).
 */
export function keyringOf(kernel: Kernel): Keyring {
  const keyring = KEYRINGS.get(kernel);
  if (!keyring) throw new Error('not a kernel made by createKernel');
  return keyring;
}
