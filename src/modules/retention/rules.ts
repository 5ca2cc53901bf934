import type { Policy, RetentionRule } from '../../kernel/policy/policy.schema.js';
import type { ContractClock } from '../contracts/index.js';
import { RIGHTS_PURPOSE } from '../requests/index.js';
import { addDays, addMonths, addYears } from './dates.js';

/** A person's recorded choice on one purpose and the day it was set. */
export interface PurposeChoice {
  state: 'consented' | 'withdrawn' | 'objected';
  on: string;
}

/** The clocks Kluis keeps for one person (decision 0095), as calendar days in Belgium. */
export interface PersonClocks {
  subjectId: number;
  subjectType: string;
  /** The person's last own act: a contract, an order, a portal login, a message, an opt-in. */
  lastActivityOn: string;
  /**
   * The last day data was received from or about the person: their registration, a quote, order
   * or contract, a bank account, an opt-in; not a portal login or a rights request (decision 0916).
   */
  lastReceivedOn: string;
  contract: ContractClock | undefined;
  /**
   * The person's call records as billing knows them (G-1, `callRecordsBilling`): undefined
   * without any; 'open' while one of their call months is not invoiced to them, has calls waiting
   * to be billed or is billed by a disputed invoice; else the latest due date of the invoices
   * that billed them.
   */
  callsBilledDueOn: string | undefined;
  /** The day the person's latest rights request was received. */
  lastRequestOn: string | undefined;
  /** The person's recorded choices per purpose (consent, withdrawal, objection) and their day. */
  consents: ReadonlyMap<string, PurposeChoice>;
}

/** One purpose's claim to keep a category: the last day it may be kept, or 'open' (no end yet). */
export interface Claim {
  purpose: string;
  rule: string;
  kind: RetentionRule['kind'];
  /** The last day it may be kept (YYYY-MM-DD), or 'open' while the claim has no end yet. */
  keptThrough: string;
}

export type CategoryStatus =
  /** Every claim has ended: erased by the sweep. */
  | 'due'
  /** A claim still runs. */
  | 'kept'
  /** No purpose of the policy claims it for this person: it goes with the person, never alone. */
  | 'unclaimed';

export interface CategoryVerdict {
  category: string;
  status: CategoryStatus;
  /** The claim that ends last (the rule that decides), when any. */
  binding: Claim | undefined;
  /** The first day it is gone (the day after the binding claim's last day), when due or dated. */
  dueOn: string | undefined;
}

/**
 * When a retention rule lets a purpose keep a person's data (decision 0095). `null`: the rule
 * makes no claim for this person (no contract for a contract rule, no consent for a consent rule,
 * documents for the accounting rule, nothing at all for `inherited`).
 */
export function claimOf(
  rule: RetentionRule,
  purpose: string,
  person: PersonClocks,
  today: string,
): string | null {
  const contract = person.contract;
  const running =
    contract !== undefined &&
    (contract.openEnded || (contract.lastEndDate !== null && contract.lastEndDate >= today));
  switch (rule.kind) {
    case 'contract_duration':
    case 'on_termination':
      if (!contract) return null;
      return running ? 'open' : (contract.lastEndDate ?? 'open');
    case 'after_contract_end':
      if (!contract) return null;
      return running || contract.lastEndDate === null ? 'open' : addYears(contract.lastEndDate, rule.years);
    case 'inactivity':
      return addYears(person.lastActivityOn, rule.years);
    case 'after_collection':
      // The request file is kept from the last request received; a person who never asked has
      // none. Anything else counts from the last data received about the person, which a portal
      // login or a rights request does not move (decision 0916).
      if (purpose === RIGHTS_PURPOSE) {
        return person.lastRequestOn === undefined ? null : addMonths(person.lastRequestOn, rule.months);
      }
      return addMonths(person.lastReceivedOn, rule.months);
    case 'until_bill_uncontestable':
      // Never before they are invoiced, longer while disputed (decision 0914).
      if (person.callsBilledDueOn === undefined) return null;
      return person.callsBilledDueOn === 'open' ? 'open' : addMonths(person.callsBilledDueOn, rule.months);
    case 'until_withdrawn': {
      const consent = person.consents.get(purpose);
      if (!consent) return null;
      if (consent.state !== 'consented') return consent.on;
      return rule.maxYears === undefined ? 'open' : addYears(person.lastActivityOn, rule.maxYears);
    }
    case 'accounting':
      // Documents only: invoices and the party data on them stay under the accounting legal hold
      // (hold_until on each document); a person's own record is not an accounting document.
      return null;
    case 'inherited':
      return null;
  }
}

/** What billing knows of one of a person's call months (undefined: never invoiced to them). */
export interface CallMonthFacts {
  lastDueDate: string;
  disputed: boolean;
  unbilledCalls: number;
}

/**
 * G-1 per person (decision 0914): the months in which the person has call records, judged by
 * what billing knows of each. 'open' while any month is not invoiced to them, still has calls
 * waiting to be billed, or is billed by a disputed invoice; else the latest due date of the
 * invoices that billed them; undefined when they have no call records.
 */
export function callRecordsBilling(
  months: readonly string[],
  billing: ReadonlyMap<string, CallMonthFacts> | undefined,
): string | undefined {
  let lastDue: string | undefined;
  for (const month of months) {
    const facts = billing?.get(month);
    if (!facts || facts.disputed || facts.unbilledCalls > 0) return 'open';
    if (lastDue === undefined || facts.lastDueDate > lastDue) lastDue = facts.lastDueDate;
  }
  return lastDue;
}

/** Every claim of the policy's purposes on one category of one person. */
export function claimsOn(policy: Policy, person: PersonClocks, category: string, today: string): Claim[] {
  const claims: Claim[] = [];
  for (const [purposeKey, purpose] of Object.entries(policy.purposes)) {
    if (!purpose.subjectTypes.includes(person.subjectType)) continue;
    if (!purpose.categories.includes(category)) continue;
    const rule = policy.retentionRules[purpose.retention];
    if (!rule) continue;
    const claim = claimOf(rule, purposeKey, person, today);
    if (claim === null) continue;
    const keptThrough = endedByObjection(purpose.legalBasis, person.consents.get(purposeKey), claim);
    claims.push({ purpose: purposeKey, rule: purpose.retention, kind: rule.kind, keptThrough });
  }
  return claims;
}

/**
 * Art. 17(1)(c): a fulfilled objection to a purpose on legitimate interests ends that purpose's
 * claim on the day of the objection, like a withdrawal ends a consent's (decision 0915); what
 * another purpose still claims stays. An earlier end stays the end.
 */
export function endedByObjection(
  legalBasis: string,
  choice: PurposeChoice | undefined,
  keptThrough: string,
): string {
  if (legalBasis !== 'legitimate_interests' || choice?.state !== 'objected') return keptThrough;
  return keptThrough !== 'open' && keptThrough < choice.on ? keptThrough : choice.on;
}

/** The claim that ends last; 'open' outlasts every date. Ties go to the first purpose declared. */
export function bindingClaim(claims: readonly Claim[]): Claim | undefined {
  let binding: Claim | undefined;
  for (const claim of claims) {
    if (!binding) binding = claim;
    else if (binding.keptThrough === 'open') continue;
    else if (claim.keptThrough === 'open' || claim.keptThrough > binding.keptThrough) binding = claim;
  }
  return binding;
}

/** Whether one category of one person is due on `today` (the day it would be erased), and why. */
export function judgeCategory(
  policy: Policy,
  person: PersonClocks,
  category: string,
  today: string,
): CategoryVerdict {
  const binding = bindingClaim(claimsOn(policy, person, category, today));
  if (!binding) return { category, status: 'unclaimed', binding, dueOn: undefined };
  if (binding.keptThrough === 'open') return { category, status: 'kept', binding, dueOn: undefined };
  const dueOn = addDays(binding.keptThrough, 1);
  return { category, status: dueOn <= today ? 'due' : 'kept', binding, dueOn };
}
