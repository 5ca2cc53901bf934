import { describe, expect, it } from 'vitest';
import { encodeAuditEntry, GENESIS_HASH, hashAuditEntry, type ChainedEntry } from './audit.canonical.js';
import { validateAuditEvent, type AuditEvent } from './audit.event.js';

const at = new Date('2026-03-01T09:00:00.123Z');
const event: AuditEvent = {
  actor: { kind: 'staff', id: '17' },
  role: 'billing',
  purpose: 'billing.invoicing',
  action: 'read',
  subjectIds: [3, 1, 3],
  categories: ['user.financial.bank_account', 'user.contact.email'],
  decision: 'allowed',
};

describe('audit events never carry personal data', () => {
  it.each([
    ['an e-mail address in the reason', { reason: 'requested by an.peeters@example.be' }],
    ['a phone number in the reason', { reason: 'called back on 0475 12 34 56' }],
    ['a national register number in the reason', { reason: 'id 85.07.30-033.28 checked' }],
    ['a free-text action', { action: 'read the file of Jan Peeters' }],
    ['an e-mail address as purpose', { purpose: 'jan@example.be' }],
    ['a category that is not a policy key', { categories: ['Phone number 0475123456'] }],
    ['an e-mail address as actor id', { actor: { kind: 'staff', id: 'jan@example.be' } }],
    ['a subject actor that is not a subject id', { actor: { kind: 'subject', id: 'Jan Peeters' } }],
    ['a negative record count', { records: -1 }],
    ['a request id with spaces', { requestId: 'req 1 for jan' }],
  ] as const)('refuses %s, naming the field but not the value', (_label, change) => {
    const attempt = (): unknown => validateAuditEvent({ ...event, ...change } as AuditEvent, at);
    expect(attempt).toThrow(expect.objectContaining({ code: 'validation_failed' }));
    try {
      attempt();
    } catch (error) {
      const message = (error as Error).message;
      for (const value of Object.values(change)) {
        if (typeof value === 'string') expect(message).not.toContain(value);
      }
    }
  });

  it('accepts policy keys, error codes and short numbers; dedupes subjects and sorts categories', () => {
    const recorded = validateAuditEvent(
      { ...event, action: 'key.destroy', reason: 'subject_erased after 30 days', requestId: 'req-4f2a:1' },
      at,
    );
    expect(recorded.subjectIds).toEqual([3, 1]);
    expect(recorded.categories).toEqual(['user.contact.email', 'user.financial.bank_account']);
    expect(recorded.records).toBe(0);
    expect(recorded.reason).toBe('subject_erased after 30 days');
  });

  it("accepts a subject acting as 'self' or by numeric id", () => {
    for (const id of ['self', '42']) {
      expect(validateAuditEvent({ ...event, actor: { kind: 'subject', id } }, at).actor).toEqual({
        kind: 'subject',
        id,
      });
    }
  });
});

describe('canonical encoding', () => {
  const entry: ChainedEntry = {
    tenantId: 1,
    seq: 1,
    at,
    actorKind: 'staff',
    actorId: '17',
    role: null,
    purpose: 'billing.invoicing',
    action: 'read',
    subjectPseudonyms: ['ab12'],
    categories: ['user.contact.email'],
    records: 1,
    decision: 'allowed',
    reason: null,
    requestId: null,
    prevHash: GENESIS_HASH,
  };

  it('is a fixed-order JSON array that any verifier can rebuild', () => {
    expect(encodeAuditEntry(entry).toString('utf8')).toBe(
      `["kluis.audit.v1",1,1,"2026-03-01T09:00:00.123Z","staff","17",null,"billing.invoicing","read",["ab12"],["user.contact.email"],1,"allowed",null,null,"${'0'.repeat(64)}"]`,
    );
  });

  it('changes with every field, so no field can be altered unseen', () => {
    const base = hashAuditEntry(entry);
    const variants: Partial<ChainedEntry>[] = [
      { tenantId: 2 },
      { seq: 2 },
      { at: new Date(at.getTime() + 1) },
      { actorKind: 'system' },
      { actorId: '18' },
      { role: 'billing' },
      { purpose: null },
      { action: 'write' },
      { subjectPseudonyms: [] },
      { categories: [] },
      { records: 2 },
      { decision: 'denied' },
      { reason: 'x' },
      { requestId: 'r' },
      { prevHash: Buffer.alloc(32, 1) },
    ];
    for (const variant of variants) {
      expect(hashAuditEntry({ ...entry, ...variant }).equals(base)).toBe(false);
    }
  });
});
