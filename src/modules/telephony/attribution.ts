/**
 * Who a call record belongs to, and in which direction (VX-5, issue 13; decision 0230). Pure:
 * the import loads every identifier of the tenant once per file into an `AttributionIndex`
 * and asks it once per record, in memory.
 *
 * The order, first match wins:
 *  1. the account code the switch wrote (Asterisk accountcode, FreeSWITCH accountcode);
 *  2. the source channel, by the longest registered channel/trunk prefix ("PJSIP/trunk-");
 *  3. the SIP user: the endpoint name of the source channel ("SIP/alice-0000001a" → alice) or
 *     the caller field itself;
 *  4. the caller as an extension within the record's dialplan context;
 *  5. the caller's number (E.164), held at the call's start;
 *  6. only when none of these names a customer: the called side, i.e. the destination number,
 *     the destination as an extension within the context, or the destination channel/SIP user;
 *     the call is then inbound to that customer.
 * The customer found by 1-5 is the payer. Its direction: internal when the destination is the
 * same customer's and the caller side (2-5) is too; inbound when the destination is its own but
 * only the account code named it (an inbound route tagged with the customer's account);
 * forwarded when the caller is someone else's number or extension (the customer's line passed
 * the call on); outbound otherwise (including a withheld caller on the customer's trunk).
 */
import type { CallDirectionColumn, LineIdentifierKind } from './telephony.tables.js';

export type CallDirection = CallDirectionColumn;

/** Outbound and forwarded legs are charged; inbound and internal calls never are. */
export function isChargeableDirection(direction: CallDirection): boolean {
  return direction === 'outbound' || direction === 'forwarded';
}

export interface HeldPeriod {
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive; +Infinity while open. */
  to: number;
  subjectId: number;
}

/** Key → periods it was held, sorted by start. */
export type PeriodIndex = Map<string, HeldPeriod[]>;

export interface LineIdentifierPeriod {
  kind: LineIdentifierKind;
  value: string;
  context: string;
  from: number;
  to: number;
  subjectId: number;
}

/** What a record says about its two ends, already normalised by the importer. */
export interface CallEnds {
  startedMs: number;
  /** E.164 when the caller field is a valid number, else null. */
  callerE164: string | null;
  callerRaw: string;
  destinationE164: string | null;
  destinationRaw: string;
  accountCode: string;
  sourceChannel: string;
  destinationChannel: string;
  context: string;
}

export type AttributionRule =
  'account_code' | 'channel' | 'sip_user' | 'extension' | 'number' | 'destination';

export interface Attribution {
  subjectId: number;
  direction: CallDirection;
  rule: AttributionRule;
  /** The destination is one of the customer's extensions (stored as dialled even when not digits). */
  isDestinationExtension: boolean;
}

const SEPARATOR = '\u0000';

interface CalledSide {
  subjectId: number;
  by: 'number' | 'extension' | 'channel';
}

export function findPeriod(index: PeriodIndex, key: string, at: number): number | null {
  const periods = index.get(key);
  if (periods === undefined) return null;
  for (const period of periods) if (period.from <= at && at < period.to) return period.subjectId;
  return null;
}

function add(index: PeriodIndex, key: string, period: HeldPeriod): void {
  const periods = index.get(key);
  if (periods === undefined) index.set(key, [period]);
  else periods.push(period);
}

/** The endpoint of an Asterisk channel name: "SIP/alice-0000001a" → "alice", "PJSIP/cust318-1001-00000003" → "cust318-1001". */
export function channelEndpoint(channel: string): string {
  const slash = channel.indexOf('/');
  if (slash < 0) return '';
  const dash = channel.lastIndexOf('-');
  return dash > slash ? channel.slice(slash + 1, dash) : channel.slice(slash + 1);
}

export class AttributionIndex {
  readonly #numbers: PeriodIndex;
  readonly #accountCodes: PeriodIndex = new Map();
  readonly #channels: PeriodIndex = new Map();
  /** Lengths of the registered channel prefixes, longest first. */
  #channelLengths: number[] = [];
  readonly #extensions: PeriodIndex = new Map();
  readonly #sipUsers: PeriodIndex = new Map();

  constructor(numbers: PeriodIndex, identifiers: readonly LineIdentifierPeriod[]) {
    this.#numbers = numbers;
    const lengths = new Set<number>();
    for (const identifier of identifiers) {
      const period = { from: identifier.from, to: identifier.to, subjectId: identifier.subjectId };
      switch (identifier.kind) {
        case 'account_code':
          add(this.#accountCodes, identifier.value, period);
          break;
        case 'channel':
          add(this.#channels, identifier.value, period);
          lengths.add(identifier.value.length);
          break;
        case 'extension':
          add(this.#extensions, `${identifier.context}${SEPARATOR}${identifier.value}`, period);
          break;
        case 'sip_user':
          add(this.#sipUsers, identifier.value, period);
          break;
      }
    }
    this.#channelLengths = [...lengths].sort((a, b) => b - a);
  }

  /** The holder of a number at an instant. */
  numberHolder(e164: string, at: number): number | null {
    return findPeriod(this.#numbers, e164, at);
  }

  attribute(call: CallEnds): Attribution | null {
    const at = call.startedMs;
    const byLine = this.#callerSide(call, at);
    const byAccount =
      this.#accountCodes.size > 0 && call.accountCode !== ''
        ? findPeriod(this.#accountCodes, call.accountCode, at)
        : null;
    const payer = byAccount ?? byLine?.subjectId ?? null;
    if (payer !== null) {
      const rule: AttributionRule = byAccount !== null ? 'account_code' : (byLine?.rule ?? 'number');
      const toOwn = this.#calledSide(call, at, payer);
      const callerIsOwn = byLine !== null && byLine.subjectId === payer;
      const isDestinationExtension = toOwn?.by === 'extension';
      if (toOwn !== null) {
        return {
          subjectId: payer,
          direction: callerIsOwn ? 'internal' : 'inbound',
          rule,
          isDestinationExtension,
        };
      }
      const callerIsSomeoneElses =
        !callerIsOwn && (call.callerE164 !== null || this.#isExtensionOfAnother(call, at, payer));
      return {
        subjectId: payer,
        direction: callerIsSomeoneElses ? 'forwarded' : 'outbound',
        rule,
        isDestinationExtension,
      };
    }
    const called = this.#calledSide(call, at, null);
    if (called === null) return null;
    return {
      subjectId: called.subjectId,
      direction: 'inbound',
      rule: 'destination',
      isDestinationExtension: called.by === 'extension',
    };
  }

  // Rules 2-5: the line the call came from.
  #callerSide(call: CallEnds, at: number): { subjectId: number; rule: AttributionRule } | null {
    if (call.sourceChannel !== '') {
      const byChannel = this.#channelHolder(call.sourceChannel, at);
      if (byChannel !== null) return { subjectId: byChannel, rule: 'channel' };
      const bySip = this.#sipUserHolder(call.sourceChannel, at);
      if (bySip !== null) return { subjectId: bySip, rule: 'sip_user' };
    }
    if (this.#sipUsers.size > 0 && call.callerRaw !== '') {
      const bySipCaller = findPeriod(this.#sipUsers, call.callerRaw, at);
      if (bySipCaller !== null) return { subjectId: bySipCaller, rule: 'sip_user' };
    }
    if (this.#extensions.size > 0 && call.callerRaw !== '') {
      const byExtension = findPeriod(this.#extensions, `${call.context}${SEPARATOR}${call.callerRaw}`, at);
      if (byExtension !== null) return { subjectId: byExtension, rule: 'extension' };
    }
    if (call.callerE164 !== null) {
      const byNumber = findPeriod(this.#numbers, call.callerE164, at);
      if (byNumber !== null) return { subjectId: byNumber, rule: 'number' };
    }
    return null;
  }

  /**
   * The called side: the destination number, the destination as an extension in the context,
   * the destination channel or its SIP user, in that order. With `owner`, only that customer's.
   */
  #calledSide(call: CallEnds, at: number, owner: number | null): CalledSide | null {
    if (call.destinationE164 !== null) {
      const holder = findPeriod(this.#numbers, call.destinationE164, at);
      if (holder !== null && (owner === null || holder === owner)) return { subjectId: holder, by: 'number' };
    }
    if (this.#extensions.size > 0 && call.destinationRaw !== '') {
      const holder = findPeriod(this.#extensions, `${call.context}${SEPARATOR}${call.destinationRaw}`, at);
      if (holder !== null && (owner === null || holder === owner))
        return { subjectId: holder, by: 'extension' };
    }
    if (call.destinationChannel !== '') {
      const holder =
        this.#channelHolder(call.destinationChannel, at) ?? this.#sipUserHolder(call.destinationChannel, at);
      if (holder !== null && (owner === null || holder === owner))
        return { subjectId: holder, by: 'channel' };
    }
    return null;
  }

  #isExtensionOfAnother(call: CallEnds, at: number, payer: number): boolean {
    if (this.#extensions.size === 0 || call.callerRaw === '') return false;
    const holder = findPeriod(this.#extensions, `${call.context}${SEPARATOR}${call.callerRaw}`, at);
    return holder !== null && holder !== payer;
  }

  #channelHolder(channel: string, at: number): number | null {
    for (const length of this.#channelLengths) {
      if (length > channel.length) continue;
      const holder = findPeriod(this.#channels, channel.slice(0, length), at);
      if (holder !== null) return holder;
    }
    return null;
  }

  #sipUserHolder(channel: string, at: number): number | null {
    if (this.#sipUsers.size === 0) return null;
    const endpoint = channelEndpoint(channel);
    return endpoint === '' ? null : findPeriod(this.#sipUsers, endpoint, at);
  }
}
