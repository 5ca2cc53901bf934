import { useQueries } from '@tanstack/react-query';
import { useMemo } from 'react';
import { api } from '../../api/client.js';
import { currentLanguage } from '../../i18n/index.js';
import { personName, type PersonName } from '../../ui/PersonSelect.js';
import { brusselsToday, formatDay, formatMoment } from '../../ui/dates.js';

export interface Assignment {
  assignmentId: number;
  number: string;
  subjectId: number;
  contractRef: string | null;
  validFrom: string;
  validTo: string | null;
}

export const IDENTIFIER_KINDS = ['account_code', 'channel', 'extension', 'sip_user'] as const;
export type IdentifierKind = (typeof IDENTIFIER_KINDS)[number];

export interface LineIdentifier {
  identifierId: number;
  subjectId: number;
  kind: IdentifierKind;
  value: string;
  context: string | null;
  validFrom: string;
  validTo: string | null;
}

export interface CallRecord {
  startedAt: string;
  caller: string;
  destination: string;
  answeredAt: string | null;
  endedAt: string;
  durationSeconds: number;
  billableSeconds: number;
  disposition: string;
  direction: 'outbound' | 'inbound' | 'internal' | 'forwarded';
  costMicros: number | null;
}

/** Today as YYYY-MM-DD in Brussels, the day the API reads as midnight there. */
export function todayInBrussels(): string {
  return brusselsToday();
}

/** A moment in Brussels time: the day alone when it is midnight, else day and time. */
export function brusselsMoment(iso: string): string {
  const date = new Date(iso);
  const time = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Brussels',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(date);
  return time === '00:00' ? formatDay(brusselsToday(date)) : formatMoment(iso);
}

/** Whether a period [from, to) holds now. */
export const isCurrent = (period: { validFrom: string; validTo: string | null }, now = Date.now()): boolean =>
  Date.parse(period.validFrom) <= now && (period.validTo === null || Date.parse(period.validTo) > now);

/**
 * The names of the holders shown (at most 100 different people), each read under the screen's
 * purpose; a person the purpose does not reach keeps their number (#id).
 */
function useHolderNames(subjectIds: readonly number[], purpose: string | undefined, coversNames: boolean) {
  const unique = [...new Set(subjectIds)].slice(0, 100);
  const results = useQueries({
    queries: unique.map((subjectId) => ({
      queryKey: ['person-name', purpose, subjectId],
      enabled: purpose !== undefined && coversNames,
      retry: false,
      staleTime: 60_000,
      queryFn: () => api<PersonName>('GET', `/api/v1/people/${subjectId}`, { purpose }),
    })),
  });
  const names = new Map<number, string>();
  unique.forEach((subjectId, index) => {
    const person = results[index]?.data;
    if (person) names.set(subjectId, personName(person));
  });
  return names;
}

/** The rows with their holder's name, a new array only when a row or a name changes. */
export function useWithHolders<T extends { subjectId: number }>(
  rows: readonly T[] | undefined,
  purpose: string | undefined,
  coversNames: boolean,
): Array<T & { holder: string }> {
  const names = useHolderNames(
    (rows ?? []).map((row) => row.subjectId),
    purpose,
    coversNames,
  );
  const signature = [...names].map(([id, name]) => `${id}=${name}`).join('\n');
  // `names` is a new map each render; its signature says when a name came in.
  return useMemo(
    () => (rows ?? []).map((row) => ({ ...row, holder: names.get(row.subjectId) ?? `#${row.subjectId}` })),
    [rows, signature],
  );
}

export function euroOfMicros(micros: number): string {
  return new Intl.NumberFormat(`${currentLanguage()}-BE`, {
    style: 'currency',
    currency: 'EUR',
    maximumFractionDigits: 4,
  }).format(micros / 1_000_000);
}
