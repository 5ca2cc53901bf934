import { describe, expect, it } from 'vitest';
import type { RetentionRule } from '../../kernel/policy/policy.schema.js';
import { addMonths, addYears, belgianDay } from './dates.js';
import { bindingClaim, callRecordsBilling, claimOf, type PersonClocks } from './rules.js';

const base: PersonClocks = {
  subjectId: 1,
  subjectType: 'customer',
  lastActivityOn: '2024-02-29',
  lastReceivedOn: '2024-02-29',
  contract: undefined,
  callsBilledDueOn: undefined,
  lastRequestOn: undefined,
  consents: new Map(),
};
const ended = { ...base, contract: { contracts: 1, openEnded: false, lastEndDate: '2025-03-31' } };
const running = { ...base, contract: { contracts: 1, openEnded: true, lastEndDate: null } };
const rule = (value: object) => value as RetentionRule;

describe('retention rule kinds (pure)', () => {
  it('on termination (voxtra dossier_until_termination): kept while a contract runs, gone the day after its last day', () => {
    const onTermination = rule({ kind: 'on_termination', writtenNotice: true, onExpiry: 'erase' });
    expect(claimOf(onTermination, 'technical_dossier', running, '2025-04-01')).toBe('open');
    expect(claimOf(onTermination, 'technical_dossier', ended, '2025-04-01')).toBe('2025-03-31');
    expect(claimOf(onTermination, 'technical_dossier', base, '2025-04-01')).toBeNull();
  });

  it('accounting makes no claim on a person record (documents keep their own hold); inherited never keeps anything', () => {
    expect(
      claimOf(rule({ kind: 'accounting', years: 10, onExpiry: 'erase' }), 'accounting', ended, '2025-04-01'),
    ).toBeNull();
    expect(
      claimOf(rule({ kind: 'inherited', onExpiry: 'erase' }), 'legal_disclosure', ended, '2025-04-01'),
    ).toBeNull();
  });

  it('the request file counts from the last request, and is no claim on someone who never asked', () => {
    const requestFile = rule({ kind: 'after_collection', months: 36, onExpiry: 'erase' });
    expect(claimOf(requestFile, 'rights_requests', base, '2025-01-01')).toBeNull();
    expect(
      claimOf(requestFile, 'rights_requests', { ...base, lastRequestOn: '2024-05-31' }, '2025-01-01'),
    ).toBe('2027-05-31');
    expect(claimOf(requestFile, 'recruitment', base, '2025-01-01')).toBe('2027-02-28');
  });

  it('"12 months after we received it" counts from the last receipt; a later login or request (activity only) does not move it', () => {
    const application = rule({ kind: 'after_collection', months: 12, onExpiry: 'erase' });
    const person = { ...base, lastReceivedOn: '2024-02-01', lastActivityOn: '2025-01-10' };
    expect(claimOf(application, 'recruitment', person, '2025-01-20')).toBe('2025-02-01');
    expect(claimOf(application, 'quotes', { ...person, lastReceivedOn: '2024-06-30' }, '2025-01-20')).toBe(
      '2025-06-30',
    );
  });

  it('G-1 per person: call records are open while a month of them is not invoiced, has unbilled calls or a disputed invoice; else 12 months after the latest due date', () => {
    const billed = (lastDueDate: string, disputed = false, unbilledCalls = 0) => ({
      lastDueDate,
      disputed,
      unbilledCalls,
    });
    const months = new Map([
      ['2024-01', billed('2024-03-06')],
      ['2024-02', billed('2024-04-05')],
    ]);
    expect(callRecordsBilling([], months)).toBeUndefined();
    expect(callRecordsBilling(['2024-01', '2024-02'], months)).toBe('2024-04-05');
    expect(callRecordsBilling(['2024-01', '2024-03'], months)).toBe('open');
    expect(callRecordsBilling(['2024-01'], undefined)).toBe('open');
    expect(callRecordsBilling(['2024-01'], new Map([['2024-01', billed('2024-03-06', true)]]))).toBe('open');
    expect(callRecordsBilling(['2024-01'], new Map([['2024-01', billed('2024-03-06', false, 2)]]))).toBe(
      'open',
    );
    const uncontestable = rule({ kind: 'until_bill_uncontestable', months: 12, onExpiry: 'erase' });
    const withCalls = (callsBilledDueOn: string | undefined) => ({ ...running, callsBilledDueOn });
    expect(claimOf(uncontestable, 'call_billing', withCalls(undefined), '2025-01-01')).toBeNull();
    expect(claimOf(uncontestable, 'call_billing', withCalls('open'), '2030-01-01')).toBe('open');
    expect(claimOf(uncontestable, 'call_billing', withCalls('2024-04-05'), '2025-01-01')).toBe('2025-04-05');
  });

  it('an open claim outlasts every dated one', () => {
    expect(
      bindingClaim([
        { purpose: 'a', rule: 'r', kind: 'inactivity', keptThrough: '2030-01-01' },
        { purpose: 'b', rule: 'r', kind: 'contract_duration', keptThrough: 'open' },
        { purpose: 'c', rule: 'r', kind: 'inactivity', keptThrough: '2031-01-01' },
      ])?.purpose,
    ).toBe('b');
  });

  it('calendar arithmetic: a day the target month lacks becomes its last day; days are Belgian', () => {
    expect(addYears('2024-02-29', 3)).toBe('2027-02-28');
    expect(addMonths('2024-01-31', 1)).toBe('2024-02-29');
    expect(addMonths('2024-11-30', 14)).toBe('2026-01-30');
    expect(belgianDay(new Date('2026-03-01T23:30:00Z'))).toBe('2026-03-02');
  });
});
