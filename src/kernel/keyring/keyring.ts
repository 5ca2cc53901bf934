import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { withTenant } from '../../platform/db.js';
import type { Clock } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import type { Transaction } from 'kysely';
import {
  associatedData,
  FIELD_FORMAT,
  NONCE_BYTES,
  openField,
  TAG_BYTES,
  type FieldRef,
} from './field-cipher.js';
import { KeyUnwrapError, type KeyManagementService } from './kms.js';
import type { KeystoreDatabase, KeystoreDb } from './keystore.tables.js';

export type { FieldRef } from './field-cipher.js';

export interface KeyringOptions {
  kms: KeyManagementService;
  keystore: KeystoreDb;
  clock: Clock;
  /** How long an unwrapped key may be reused from memory; bounds how long another process may
   * still decrypt after a key was destroyed elsewhere (the gate refuses erased subjects anyway). */
  cacheTtlMs?: number;
  cacheSize?: number;
}

/** The tenant key (owner_kind 'secret') that seals the tenant's own secrets in the data database. */
const SEALED_SECRETS = 'sealed-settings';
/** Keys unwrapped per turn of the event loop by `loadSubjectKeys` (a slice is a few ms of work). */
const UNWRAP_SLICE = 250;

/**
 * Which of a subject's data keys encrypts a field: the subject's own key, or the key of the
 * subject's technical dossier (VX-4), which a written termination destroys on its own (VX-7).
 */
export type KeyScope = 'subject' | 'dossier';

/** 'letter': a sealed letter in the outbox, one key per letter (kernel/letters, decision 0190). */
type OwnerKind = KeyScope | 'secret' | 'letter';

interface CachedKey {
  key: Buffer;
  until: number;
}

/**
 * Per-subject data keys (AES-256-GCM) and per-tenant keyed-hash secrets, all stored wrapped in
 * the key store. Destroying a subject's key (crypto-shredding) makes every encrypted field of
 * that subject unreadable everywhere, including in older backups of the data database.
 */
export class Keyring {
  readonly #kms: KeyManagementService;
  readonly #keystore: KeystoreDb;
  readonly #clock: Clock;
  readonly #ttl: number;
  readonly #size: number;
  readonly #cache = new Map<string, CachedKey>();
  readonly #loading = new Map<string, Promise<Buffer | undefined>>();

  constructor(options: KeyringOptions) {
    this.#kms = options.kms;
    this.#keystore = options.keystore;
    this.#clock = options.clock;
    this.#ttl = options.cacheTtlMs ?? 60_000;
    this.#size = options.cacheSize ?? 10_000;
  }

  /** Keyed pseudonym of a subject, for the audit log: stable, and meaningless without the key. */
  async pseudonym(tenantId: number, subjectId: number): Promise<string> {
    return pseudonymOf(await this.#secret(tenantId, 'pseudonym'), subjectId);
  }

  /**
   * The pseudonyms of many subjects, in their order: the secret is looked up once for the list,
   * not once (and one promise) per subject (an audit entry may name a whole invoice run's batch).
   */
  pseudonyms(tenantId: number, subjectIds: readonly number[]): Promise<string[]> {
    // Every audit entry asks: a cached secret answers without a promise chain (decision 0795).
    const cached = this.pseudonymsIfCached(tenantId, subjectIds);
    if (cached) return Promise.resolve(cached);
    return this.#secret(tenantId, 'pseudonym').then((secret) =>
      subjectIds.map((subjectId) => pseudonymOf(secret, subjectId)),
    );
  }

  /**
   * `pseudonyms` at once when the secret is in memory and fresh, else undefined: the usual audit
   * append signs without a promise (decision 0820); the caller then goes through `pseudonyms`.
   */
  pseudonymsIfCached(tenantId: number, subjectIds: readonly number[]): string[] | undefined {
    const secret = this.#cachedSecret(tenantId, 'pseudonym');
    return secret && subjectIds.map((subjectId) => pseudonymOf(secret, subjectId));
  }

  /** Blind index for exact-match lookup of an encrypted value; callers normalise the value first. */
  async blindIndex(tenantId: number, field: string, normalisedValue: string): Promise<Buffer> {
    const secret = await this.#secret(tenantId, `blind-index:${field}`);
    return createHmac('sha256', secret).update(normalisedValue).digest().subarray(0, 16);
  }

  /** HMAC for signed audit checkpoints. */
  checkpointMac(tenantId: number, data: Buffer): Promise<Buffer> {
    // Twice per audit entry (its link and its pending form): a cached secret answers without a
    // promise chain (decision 0795).
    const cached = this.checkpointMacIfCached(tenantId, data);
    if (cached) return Promise.resolve(cached);
    return this.#secret(tenantId, 'audit-checkpoint').then((secret) =>
      createHmac('sha256', secret).update(data).digest(),
    );
  }

  /** `checkpointMac` at once when the secret is in memory and fresh, else undefined (decision 0820). */
  checkpointMacIfCached(tenantId: number, data: Buffer): Buffer | undefined {
    const secret = this.#cachedSecret(tenantId, 'audit-checkpoint');
    return secret && createHmac('sha256', secret).update(data).digest();
  }

  /** Encrypts a field with the subject's data key (or its dossier key), creating the key on first use. */
  async encrypt(
    tenantId: number,
    subjectId: number,
    ref: FieldRef,
    plaintext: string,
    scope: KeyScope = 'subject',
  ): Promise<Buffer> {
    const key = await this.#key(tenantId, scope, String(subjectId), true);
    // Written after a crypto-shredding (a dossier erased on written termination while the
    // contract still runs, VX-7): refused with a code, nothing is kept (attack S16-7, decision 0818).
    if (!key)
      throw new AppError('subject_erased', `the ${scope} data key was destroyed`, {
        publicMessage:
          scope === 'dossier'
            ? 'this technical dossier was erased (VX-7): its key no longer exists, and nothing more is kept in it'
            : 'this person’s data was erased: nothing more is kept for them',
      });
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(associatedData(tenantId, ref));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.of(FIELD_FORMAT), nonce, body, cipher.getAuthTag()]);
  }

  /**
   * Decrypts a field; `null` when the subject's key was destroyed (shredded). Throws when the
   * ciphertext was tampered with or moved to another row, column or tenant.
   */
  async decrypt(
    tenantId: number,
    subjectId: number,
    ref: FieldRef,
    ciphertext: Buffer,
    scope: KeyScope = 'subject',
  ): Promise<string | null> {
    let key: Buffer | undefined;
    try {
      key = await this.#key(tenantId, scope, String(subjectId), false);
    } catch (cause) {
      if (cause instanceof KeyUnwrapError) throw unreadableField(ref, 'its data key', cause);
      throw cause;
    }
    if (!key) return null;
    const plaintext = openField(key, tenantId, ref, ciphertext);
    if (plaintext === undefined) throw unreadableField(ref, 'the field');
    return plaintext;
  }

  /**
   * Seals a letter of the outbox under a key of its own (created here), bound to the tenant and
   * the letter's id. The key is destroyed once the letter has left (`destroyLetterKey`).
   */
  async sealLetter(tenantId: number, letterId: string, plaintext: string): Promise<Buffer> {
    const key = await this.#key(tenantId, 'letter', letterId, true);
    if (!key) throw new Error('the key of this letter was destroyed');
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(letterData(tenantId, letterId));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.of(FIELD_FORMAT), nonce, body, cipher.getAuthTag()]);
  }

  /** Opens a sealed letter; `null` once its key was destroyed (the letter left, or was given up). */
  async openLetter(tenantId: number, letterId: string, sealed: Buffer): Promise<string | null> {
    const key = await this.#key(tenantId, 'letter', letterId, false);
    if (!key) return null;
    if (sealed[0] !== FIELD_FORMAT || sealed.length < 1 + NONCE_BYTES + TAG_BYTES)
      throw new Error('unknown format of a sealed letter');
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 1 + NONCE_BYTES));
    decipher.setAAD(letterData(tenantId, letterId));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      const body = sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('a sealed letter does not belong to its row or was altered');
    }
  }

  /**
   * Seals a tenant's own secret kept in the data database (the DKIM signing key, decision 0461)
   * under a tenant key of the key store, bound to where it is stored: a data backup alone no
   * longer holds it. Not for personal data (that goes under the subject's key).
   */
  async sealSecret(tenantId: number, ref: FieldRef, plaintext: string): Promise<Buffer> {
    const key = await this.#secret(tenantId, SEALED_SECRETS);
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(associatedData(tenantId, ref));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.of(FIELD_FORMAT), nonce, body, cipher.getAuthTag()]);
  }

  /** Opens a secret sealed by `sealSecret`; throws when it was altered or moved to another row. */
  async openSecret(tenantId: number, ref: FieldRef, sealed: Buffer): Promise<string> {
    const key = await this.#secret(tenantId, SEALED_SECRETS);
    if (sealed[0] !== FIELD_FORMAT || sealed.length < 1 + NONCE_BYTES + TAG_BYTES)
      throw new Error(`unknown format of a sealed secret in ${ref.table}.${ref.column}`);
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 1 + NONCE_BYTES));
    decipher.setAAD(associatedData(tenantId, ref));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      const body = sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(
        `sealed secret in ${ref.table}.${ref.column} does not belong to this row or was altered`,
      );
    }
  }

  /** Destroys a letter's key (a tombstone stays); idempotent. */
  async destroyLetterKey(tenantId: number, letterId: string): Promise<void> {
    this.#cache.delete(cacheKey(tenantId, 'letter', letterId));
    await withTenant(this.#keystore, tenantId, (tx) =>
      tx
        .updateTable('data_keys')
        .set({ wrapped: null, destroyed_at: this.#clock.now() })
        .where('owner_kind', '=', 'letter')
        .where('owner_ref', '=', letterId)
        .where('wrapped', 'is not', null)
        .execute(),
    );
  }

  /**
   * Bulk path (demo data, imports): creates the data keys of many new subjects with one insert
   * and keeps them in the cache, so the encryptions that follow need no key-store round trip.
   */
  async createSubjectKeys(tenantId: number, subjectIds: readonly number[]): Promise<void> {
    if (subjectIds.length === 0) return;
    const fresh = subjectIds.map((subjectId) => ({ subjectId, key: randomBytes(32) }));
    await withTenant(this.#keystore, tenantId, async (tx) => {
      const kek = await ensureKekRow(tx, tenantId);
      const version = kek.rotating_to ?? kek.current_version;
      const rows = [];
      for (const { subjectId, key } of fresh) {
        const wrapped = await this.#kms.wrap(tenantId, version, `subject:${subjectId}`, key);
        rows.push({
          tenant_id: tenantId,
          owner_kind: 'subject' as const,
          owner_ref: String(subjectId),
          kek_version: version,
          wrapped,
        });
      }
      for (let start = 0; start < rows.length; start += 5000) {
        await tx
          .insertInto('data_keys')
          .values(rows.slice(start, start + 5000))
          .execute();
      }
    });
    const now = Date.now();
    for (const { subjectId, key } of fresh)
      this.#remember(cacheKey(tenantId, 'subject', String(subjectId)), key, now);
  }

  /** Crypto-shredding: the wrapped key is overwritten by a tombstone. Returns false if none existed. */
  async destroySubjectKey(
    tenantId: number,
    subjectId: number,
    scope: KeyScope = 'subject',
  ): Promise<boolean> {
    this.#cache.delete(cacheKey(tenantId, scope, String(subjectId)));
    const result = await withTenant(this.#keystore, tenantId, (tx) =>
      tx
        .updateTable('data_keys')
        .set({ wrapped: null, destroyed_at: this.#clock.now() })
        .where('owner_kind', '=', scope)
        .where('owner_ref', '=', String(subjectId))
        .where('wrapped', 'is not', null)
        .executeTakeFirst(),
    );
    return result.numUpdatedRows > 0n;
  }

  /** `destroySubjectKey` for many subjects in one statement; returns those destroyed now. */
  async destroySubjectKeys(
    tenantId: number,
    subjectIds: readonly number[],
    scope: KeyScope = 'subject',
  ): Promise<Set<number>> {
    if (subjectIds.length === 0) return new Set();
    for (const subjectId of subjectIds) this.#cache.delete(cacheKey(tenantId, scope, String(subjectId)));
    const rows = await withTenant(this.#keystore, tenantId, (tx) =>
      tx
        .updateTable('data_keys')
        .set({ wrapped: null, destroyed_at: this.#clock.now() })
        .where('owner_kind', '=', scope)
        .where(
          'owner_ref',
          'in',
          subjectIds.map((id) => String(id)),
        )
        .where('wrapped', 'is not', null)
        .returning('owner_ref')
        .execute(),
    );
    return new Set(rows.map((row) => Number(row.owner_ref)));
  }

  /**
   * Loads the live data keys of many subjects with one key-store read (and one unwrap each) into
   * the cache, so that decrypting a list of people costs one round trip instead of one per person
   * (decision 0605). Keys already cached, destroyed or never created are left to `decrypt`.
   */
  async loadSubjectKeys(
    tenantId: number,
    subjectIds: readonly number[],
    scope: KeyScope = 'subject',
  ): Promise<void> {
    const now = Date.now();
    const missing = [...new Set(subjectIds)].filter((subjectId) => {
      const cached = this.#cache.get(cacheKey(tenantId, scope, String(subjectId)));
      return !cached || cached.until <= now;
    });
    if (missing.length === 0) return;
    const rows = await withTenant(this.#keystore, tenantId, (tx) =>
      tx
        .selectFrom('data_keys')
        .select(['owner_ref', 'kek_version', 'wrapped'])
        .where('owner_kind', '=', scope)
        .where('owner_ref', '=', (eb) => eb.fn.any(eb.val(missing.map((id) => String(id)))))
        .where('wrapped', 'is not', null)
        .execute(),
    );
    const loaded = Date.now();
    let unwrapped = 0;
    for (const row of rows) {
      if (!row.wrapped) continue;
      // A slice at a time, a turn of the event loop after each: the 5,000 keys of an invoice run's
      // batch took the loop for 100–250 ms under load, and the answers to the caller's statements
      // sent meanwhile (its locks and checks) waited for all of them (decision 1010).
      if (unwrapped > 0 && unwrapped % UNWRAP_SLICE === 0)
        await new Promise((resolve) => setImmediate(resolve));
      unwrapped += 1;
      let key: Buffer;
      try {
        key = await this.#kms.unwrap(tenantId, row.kek_version, `${scope}:${row.owner_ref}`, row.wrapped);
      } catch (cause) {
        // Left to `decrypt`, which names the field it cannot open; a list holds back only that
        // person (decision 1150).
        if (cause instanceof KeyUnwrapError) continue;
        throw cause;
      }
      this.#remember(cacheKey(tenantId, scope, row.owner_ref), key, loaded);
    }
  }

  /** `subjectKeyState` for many subjects in one read. */
  async subjectKeyStates(
    tenantId: number,
    subjectIds: readonly number[],
    scope: KeyScope = 'subject',
  ): Promise<Map<number, 'live' | 'destroyed' | 'none'>> {
    const states = new Map<number, 'live' | 'destroyed' | 'none'>(subjectIds.map((id) => [id, 'none']));
    if (subjectIds.length === 0) return states;
    const rows = await withTenant(this.#keystore, tenantId, (tx) =>
      tx
        .selectFrom('data_keys')
        .select(['owner_ref', 'wrapped'])
        .where('owner_kind', '=', scope)
        .where(
          'owner_ref',
          'in',
          subjectIds.map((id) => String(id)),
        )
        .execute(),
    );
    for (const row of rows) states.set(Number(row.owner_ref), row.wrapped ? 'live' : 'destroyed');
    return states;
  }

  /** Whether the subject's data key exists, was destroyed (a tombstone), or never existed. */
  async subjectKeyState(
    tenantId: number,
    subjectId: number,
    scope: KeyScope = 'subject',
  ): Promise<'live' | 'destroyed' | 'none'> {
    const row = await this.#readKey(tenantId, scope, String(subjectId));
    if (row === 'destroyed') return 'destroyed';
    return row ? 'live' : 'none';
  }

  /** True when the subject has a live data key (false after shredding or when never created). */
  async hasSubjectKey(tenantId: number, subjectId: number, scope: KeyScope = 'subject'): Promise<boolean> {
    return (await this.#key(tenantId, scope, String(subjectId), false)) !== undefined;
  }

  /**
   * Rotates the tenant's key-encryption key: every data key is re-wrapped under the next version,
   * in committed batches. Interrupted, it resumes where it stopped when run again.
   */
  async rotateTenantKek(
    tenantId: number,
    options: { batchSize?: number; onBatch?: (done: number) => void; stopAfterBatches?: number } = {},
  ): Promise<{ version: number; rewrapped: number }> {
    const batchSize = options.batchSize ?? 500;
    const target = await withTenant(this.#keystore, tenantId, async (tx) => {
      const state = await ensureKekRow(tx, tenantId);
      if (state.rotating_to !== null) return state.rotating_to;
      const next = state.current_version + 1;
      await tx
        .updateTable('tenant_keks')
        .set({ rotating_to: next, updated_at: this.#clock.now() })
        .where('tenant_id', '=', tenantId)
        .execute();
      return next;
    });
    let rewrapped = 0;
    let batches = 0;
    for (;;) {
      if (options.stopAfterBatches !== undefined && batches >= options.stopAfterBatches) {
        return { version: target, rewrapped };
      }
      const count = await withTenant(this.#keystore, tenantId, async (tx) => {
        const rows = await tx
          .selectFrom('data_keys')
          .select(['owner_kind', 'owner_ref', 'kek_version', 'wrapped'])
          .where('kek_version', '<>', target)
          .where('wrapped', 'is not', null)
          .limit(batchSize)
          .forUpdate()
          .skipLocked()
          .execute();
        for (const row of rows) {
          if (!row.wrapped) continue;
          const context = `${row.owner_kind}:${row.owner_ref}`;
          const key = await this.#kms.unwrap(tenantId, row.kek_version, context, row.wrapped);
          const wrapped = await this.#kms.wrap(tenantId, target, context, key);
          await tx
            .updateTable('data_keys')
            .set({ wrapped, kek_version: target })
            .where('owner_kind', '=', row.owner_kind)
            .where('owner_ref', '=', row.owner_ref)
            .execute();
        }
        return rows.length;
      });
      batches += 1;
      rewrapped += count;
      options.onBatch?.(rewrapped);
      if (count === 0) break;
    }
    await withTenant(this.#keystore, tenantId, (tx) =>
      tx
        .updateTable('tenant_keks')
        .set({ current_version: target, rotating_to: null, updated_at: this.#clock.now() })
        .where('tenant_id', '=', tenantId)
        .execute(),
    );
    return { version: target, rewrapped };
  }

  /** The tenant secret `label` when the cache holds it, still fresh; else undefined (#secret loads it). */
  #cachedSecret(tenantId: number, label: string): Buffer | undefined {
    const cached = this.#cache.get(cacheKey(tenantId, 'secret', label));
    return cached && cached.until > Date.now() ? cached.key : undefined;
  }

  async #secret(tenantId: number, label: string): Promise<Buffer> {
    const key = await this.#key(tenantId, 'secret', label, true);
    if (!key) throw new Error(`tenant secret ${label} was destroyed`);
    return key;
  }

  async #key(tenantId: number, kind: OwnerKind, ref: string, create: boolean): Promise<Buffer | undefined> {
    const id = cacheKey(tenantId, kind, ref);
    const cached = this.#cache.get(id);
    const now = Date.now();
    if (cached && cached.until > now) return cached.key;
    // Many callers at once (an audit batch naming hundreds of subjects asks for the pseudonym
    // secret hundreds of times) share one key-store read instead of each doing their own.
    const loading = this.#loading.get(`${id}|${create}`);
    if (loading) return loading;
    const load = this.#loadKey(tenantId, kind, ref, create)
      .then((key) => {
        if (key) this.#remember(id, key, Date.now());
        return key;
      })
      .finally(() => this.#loading.delete(`${id}|${create}`));
    this.#loading.set(`${id}|${create}`, load);
    return load;
  }

  async #loadKey(
    tenantId: number,
    kind: OwnerKind,
    ref: string,
    create: boolean,
  ): Promise<Buffer | undefined> {
    const context = `${kind}:${ref}`;
    const existing = await this.#readKey(tenantId, kind, ref);
    if (existing === 'destroyed') return undefined;
    if (existing) return this.#kms.unwrap(tenantId, existing.kekVersion, context, existing.wrapped);
    if (!create) return undefined;
    const fresh = randomBytes(32);
    const inserted = await withTenant(this.#keystore, tenantId, async (tx) => {
      const kek = await ensureKekRow(tx, tenantId);
      const version = kek.rotating_to ?? kek.current_version;
      const wrapped = await this.#kms.wrap(tenantId, version, context, fresh);
      const result = await tx
        .insertInto('data_keys')
        .values({ tenant_id: tenantId, owner_kind: kind, owner_ref: ref, kek_version: version, wrapped })
        .onConflict((conflict) => conflict.doNothing())
        .executeTakeFirst();
      return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
    });
    if (inserted) return fresh;
    // Another process created it first: use theirs.
    return this.#loadKey(tenantId, kind, ref, false);
  }

  async #readKey(
    tenantId: number,
    kind: OwnerKind,
    ref: string,
  ): Promise<{ kekVersion: number; wrapped: Buffer } | 'destroyed' | undefined> {
    const row = await withTenant(this.#keystore, tenantId, (tx) =>
      tx
        .selectFrom('data_keys')
        .select(['kek_version', 'wrapped'])
        .where('owner_kind', '=', kind)
        .where('owner_ref', '=', ref)
        .executeTakeFirst(),
    );
    if (!row) return undefined;
    if (!row.wrapped) return 'destroyed';
    return { kekVersion: row.kek_version, wrapped: row.wrapped };
  }

  #remember(id: string, key: Buffer, now: number): void {
    if (this.#cache.size >= this.#size) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(id, { key, until: now + this.#ttl });
  }
}

function cacheKey(tenantId: number, kind: OwnerKind, ref: string): string {
  return `${tenantId}|${kind}|${ref}`;
}

function letterData(tenantId: number, letterId: string): Buffer {
  return Buffer.from(`letter|${tenantId}|${letterId}`);
}

function pseudonymOf(secret: Buffer, subjectId: number): string {
  return createHmac('sha256', secret).update(`subject:${subjectId}`).digest('hex').slice(0, 32);
}

/**
 * A field this installation cannot open: its key store does not belong with its data (a restore
 * of another installation's backup), its master key is another, or the row was altered. Not the
 * caller's fault and not passing: a stable code and a message for the operator (decision 1120).
 */
function unreadableField(ref: FieldRef, what: string, cause?: unknown): AppError {
  return new AppError(
    'field_unreadable',
    `${what} of ${ref.table}.${ref.column} cannot be opened with this key store`,
    {
      publicMessage:
        'an encrypted field of this record cannot be read with this installation’s key store: the key store, the master key and the data do not belong together (a restore of another installation’s backup?), or the row was altered. An administrator must restore the matching backups; nothing was changed',
      details: { table: ref.table, column: ref.column },
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

async function ensureKekRow(
  tx: Transaction<KeystoreDatabase>,
  tenantId: number,
): Promise<{ current_version: number; rotating_to: number | null }> {
  await tx
    .insertInto('tenant_keks')
    .values({ tenant_id: tenantId })
    .onConflict((conflict) => conflict.column('tenant_id').doNothing())
    .execute();
  return tx
    .selectFrom('tenant_keks')
    .select(['current_version', 'rotating_to'])
    .where('tenant_id', '=', tenantId)
    .executeTakeFirstOrThrow();
}
